'use strict'
// A rate backend for ilp-connector with a fixed rate table and no network access.
//
// ilp-connector's default backend (ecb) fetches rates from the internet and exits offline.
// This one is loaded by path through the connector's `backend` option; its `backendConfig` is
// `{ rates: { CODE: value }, spread }`, where `value` is what one whole unit of CODE is worth in
// a common reference (missing codes count as 1). Forwarded amount =
//   floor(amount * rates[src] / rates[dst] * (1 - spread) * 10^(dstScale - srcScale))
// (the same formula as the connector's ecb backend).

const BigNumber = require('bignumber.js')

class FixedRateBackend {
  constructor (opts, api) {
    this.rates = (opts && opts.rates) || {}
    this.spread = (opts && opts.spread) || 0
    this.getInfo = api.getInfo
  }

  async connect () {}

  _rateOf (code) {
    const value = this.rates[code]
    return value === undefined ? 1 : value
  }

  async getRate (sourceAccount, destinationAccount) {
    const src = this.getInfo(sourceAccount)
    const dst = this.getInfo(destinationAccount)
    if (!src || !dst) throw new Error('unknown account. source=' + sourceAccount + ' destination=' + destinationAccount)
    const rate = new BigNumber(this._rateOf(src.assetCode))
      .div(this._rateOf(dst.assetCode))
      .times(new BigNumber(1).minus(this.spread))
      .shiftedBy(dst.assetScale - src.assetScale)
      .toPrecision(15)
    return Number(rate)
  }

  async submitPayment () {}
}

module.exports = FixedRateBackend
module.exports.default = FixedRateBackend
