#!/usr/bin/env node
'use strict'
// An @interledger/pay sender behind its own uplink: queries the receiver's SPSP URL (or takes
// STREAM credentials), quotes, pays a fixed source amount and closes the connection.
//
//   node pay_sender.js --uplink btp+ws://:TOKEN@127.0.0.1:PORT (--spsp URL | --destination ADDR
//        --shared-secret B64 [--destination-asset CODE:SCALE]) --amount N [--source-asset USD:9]
//        [--slippage 0.01] [--prices '{"USD":1,"EUR":1.26}']
//   (--uplink http://127.0.0.1:PORT/ --token T --incoming-port P for ILP-over-HTTP)
// Lines: ready {} once the plugin is connected; destination {destinationAddress,
//   destinationAsset}; quote {maxSourceAmount, minDeliveryAmount, maxPacketAmount,
//   lowEstimatedExchangeRate}; done {amountSent, amountDelivered, error?} and exit 0 (a payment
//   error is reported in "done", not as an "error" line, so a test can compare the amounts).
// "error" and exit 1 when setup or the quote fails (message = the PaymentError).

const { emit, fail, watchStdin, pluginFor, parseArgs } = require('./common')
const { setupPayment, startQuote, pay, closeConnection } = require('@interledger/pay')

function asset (text, fallback) {
  const [code, scale] = (text || fallback).split(':')
  return { code, scale: Number(scale) }
}

async function main () {
  const args = parseArgs(process.argv.slice(2))
  if (!args.uplink || !args.amount) fail('--uplink and --amount are required')
  const plugin = pluginFor(args.uplink, { token: args.token, incomingPort: Number(args.incomingPort || 0) })
  watchStdin(() => plugin.disconnect())
  await plugin.connect()
  emit({ event: 'ready' })
  const setup = { plugin }
  if (args.spsp) {
    // @interledger/pay refuses account URLs with a port (every loopback one), so query SPSP
    // here (RFC 9) and hand it the STREAM credentials; it then probes the destination asset
    // itself, with the empty ConnectionNewAddress.
    const response = await fetch(args.spsp, { headers: { Accept: 'application/spsp4+json' } })
    if (!response.ok) fail('SPSP query: HTTP ' + response.status)
    const body = await response.json()
    setup.destinationAddress = body.destination_account
    setup.sharedSecret = Buffer.from(body.shared_secret, 'base64')
  } else {
    setup.destinationAddress = args.destination
    setup.sharedSecret = Buffer.from(args.sharedSecret, 'base64')
    if (args.destinationAsset) setup.destinationAsset = asset(args.destinationAsset)
  }
  let destination
  try {
    destination = await setupPayment(setup)
  } catch (err) {
    fail('setupPayment: ' + String(err))
  }
  emit({ event: 'destination', destinationAddress: destination.destinationAddress, destinationAsset: destination.destinationAsset })
  let quote
  try {
    quote = await startQuote({
      plugin,
      destination,
      amountToSend: String(args.amount),
      sourceAsset: asset(args.sourceAsset, 'USD:9'),
      slippage: args.slippage !== undefined ? Number(args.slippage) : 0.01,
      prices: args.prices ? JSON.parse(args.prices) : undefined
    })
  } catch (err) {
    fail('startQuote: ' + String(err))
  }
  emit({
    event: 'quote',
    maxSourceAmount: quote.maxSourceAmount,
    minDeliveryAmount: quote.minDeliveryAmount,
    maxPacketAmount: quote.maxPacketAmount,
    lowEstimatedExchangeRate: quote.lowEstimatedExchangeRate.valueOf()
  })
  const receipt = await pay({ plugin, destination, quote })
  await closeConnection(plugin, destination).catch(() => {})
  emit({
    event: 'done',
    amountSent: receipt.amountSent,
    amountDelivered: receipt.amountDelivered,
    error: receipt.error
  })
  await plugin.disconnect()
  process.exit(0)
}

main().catch(err => fail(err && err.stack ? err.stack : String(err)))
