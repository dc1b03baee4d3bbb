#!/usr/bin/env node
'use strict'
// Starts an ilp-connector on loopback from a JSON config and prints one JSON "ready" line.
//
// Usage: node connector.js CONFIG        CONFIG is a JSON string, or @path/to/config.json
//        TRICKLE_CONNECTOR_CONFIG=... node connector.js
// See tests/interop/README.md for the config format. Everything listens on 127.0.0.1 only; no
// network access is needed (fixed rate table, no ECB fetch). The process exits when its stdin
// closes (so a dead parent never leaves it behind) or on SIGTERM/SIGINT.

const { emit, fail, watchStdin, waitFor } = require('./common')
const fs = require('fs')
const path = require('path')

const { EventEmitter } = require('events')
const createConnector = require('ilp-connector').createApp
const PluginHttp = require('ilp-plugin-http')
const PluginBtp = require('ilp-plugin-btp')
const PluginMiniAccounts = require('ilp-plugin-mini-accounts')
const IlpPacket = require('ilp-packet')

const HOST = '127.0.0.1'

function loadConfig () {
  const raw = process.argv[2] || process.env.TRICKLE_CONNECTOR_CONFIG
  if (!raw) fail('usage: connector.js CONFIG_JSON|@file')
  const text = raw.startsWith('@') ? fs.readFileSync(raw.slice(1), 'utf8') : raw
  return JSON.parse(text)
}

// An in-process account that answers every Prepare itself: a "fulfilling peer" with no transport
// in between (for benchmarks and routing tests). mode "fulfill" answers with `fulfillment`
// (hex, default 32 zero bytes); mode "reject" answers with `code`.
class LocalPeerPlugin extends EventEmitter {
  constructor (opts) {
    super()
    this._connected = false
    this._mode = opts.mode || 'fulfill'
    this._fulfillment = Buffer.from(opts.fulfillment || '00'.repeat(32), 'hex')
    this._code = opts.code || 'F99'
    this.received = 0
  }

  async connect () { this._connected = true; this.emit('connect') }
  async disconnect () { this._connected = false; this.emit('disconnect') }
  isConnected () { return this._connected }
  registerDataHandler (h) { this._handler = h }
  deregisterDataHandler () { delete this._handler }
  registerMoneyHandler () {}
  deregisterMoneyHandler () {}
  async sendMoney () {}

  async sendData (data) {
    this.received++
    if (this._mode === 'reject') {
      return IlpPacket.serializeIlpReject({ code: this._code, triggeredBy: 'local', message: 'rejected by the local peer', data: Buffer.alloc(0) })
    }
    return IlpPacket.serializeIlpFulfill({ fulfillment: this._fulfillment, data: Buffer.alloc(0) })
  }
}

function buildAccount (id, spec, defaults) {
  const transport = spec.transport || 'http'
  const info = {
    relation: spec.relation || 'child',
    assetCode: spec.assetCode || defaults.assetCode || 'USD',
    assetScale: spec.assetScale !== undefined ? spec.assetScale : (defaults.assetScale !== undefined ? defaults.assetScale : 9),
    // The connector's default rate limit is 10 000 packets/min per account; tests and
    // benchmarks need far more.
    rateLimit: { refillPeriod: 1000, refillCount: spec.rateLimit || defaults.rateLimit || 1000000 }
  }
  const maxPacketAmount = spec.maxPacketAmount !== undefined ? spec.maxPacketAmount : defaults.maxPacketAmount
  if (maxPacketAmount !== undefined && maxPacketAmount !== null) info.maxPacketAmount = String(maxPacketAmount)
  let plugin
  let port = () => null
  switch (transport) {
    case 'http': {
      // ilp-plugin-http calls koa's app.listen(incoming.port) with no host; koa passes the
      // arguments through to http.Server#listen, so an options object binds it to loopback.
      const options = {
        incoming: { port: { port: spec.port || 0, host: HOST }, staticToken: spec.incomingToken || spec.token || 'secret' },
        outgoing: { url: spec.outgoingUrl || 'http://127.0.0.1:1/', staticToken: spec.outgoingToken || spec.token || 'secret', name: id }
      }
      plugin = new PluginHttp(options)
      port = () => plugin._httpServer.address().port
      break
    }
    case 'btp': {
      // A single-account BTP server: only auth_token is checked.
      plugin = new PluginBtp({ listener: { port: spec.port || 0, secret: spec.token || 'secret', wsOpts: { host: HOST, port: spec.port || 0 } } })
      port = () => plugin._wss._server.address().port
      break
    }
    case 'mini': {
      plugin = new PluginMiniAccounts({ wsOpts: { host: HOST, port: spec.port || 0 } })
      port = () => plugin._wss._server.address().port
      break
    }
    case 'local':
      plugin = new LocalPeerPlugin(spec)
      break
    default:
      fail('unknown transport ' + transport + ' for account ' + id)
  }
  info.plugin = plugin
  return { info, plugin, port, transport }
}

async function main () {
  const config = loadConfig()
  const address = config.address || 'test.harness'
  const defaults = config.defaults || {}
  const built = {}
  const accounts = {}
  for (const [id, spec] of Object.entries(config.accounts || {})) {
    built[id] = buildAccount(id, spec, defaults)
    accounts[id] = built[id].info
  }
  const opts = {
    ilpAddress: address,
    env: 'test',
    spread: 0,
    backend: path.join(__dirname, 'fixed_rate_backend.js'),
    backendConfig: { rates: config.rates || {}, spread: config.spread || 0 },
    routeBroadcastEnabled: config.routeBroadcastEnabled !== false,
    // BTP listener accounts only "connect" when a client does; don't wait for them.
    initialConnectTimeout: 50,
    adminApi: config.adminApi !== undefined && config.adminApi !== false,
    adminApiHost: HOST,
    adminApiPort: typeof config.adminApi === 'number' ? config.adminApi : 0,
    accounts
  }
  const connector = createConnector(opts)
  watchStdin(() => connector.shutdown())
  await connector.listen()
  // Listener sockets are created inside plugin.connect(); wait until each one is bound.
  for (const b of Object.values(built)) {
    if (b.transport === 'btp' || b.transport === 'mini') {
      await waitFor(() => b.plugin._wss && b.plugin._wss._server && b.plugin._wss._server.listening)
    } else if (b.transport === 'http') {
      await waitFor(() => b.plugin._httpServer && b.plugin._httpServer.listening)
    }
  }
  const out = {}
  for (const [id, b] of Object.entries(built)) {
    const p = b.port()
    out[id] = {
      transport: b.transport,
      port: p,
      address: accounts[id].relation === 'child' ? address + '.' + id : undefined,
      url: b.transport === 'http' ? `http://${HOST}:${p}/` : (p ? `ws://${HOST}:${p}/` : undefined)
    }
  }
  emit({ event: 'ready', pid: process.pid, address, accounts: out })
}

main().catch(err => fail(err && err.stack ? err.stack : String(err)))
module.exports = { LocalPeerPlugin }

