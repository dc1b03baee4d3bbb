#!/usr/bin/env node
'use strict'
// An ilp-protocol-stream server (the Coil-era SPSP receivers' STREAM library) behind an
// ILP-over-HTTP endpoint (sync mode: POST a Prepare, the 200 answer is the Fulfill or Reject),
// for the sandbox's SPSP wallet addresses. Its plugin is this process: IL-DCP is answered here
// with --address (the sandbox account's address) and the asset below; every other Prepare comes
// from the sandbox over HTTP.
//
//   node op_spsp_stream_receiver.js --address test.sandbox.op --token T [--asset-code USD --asset-scale 9]
// Lines: ready {port, url, address}; stdin {"cmd":"credentials","tag":T} -> credentials {tag,
//   destinationAccount, sharedSecret (base64)}; stdin {"cmd":"totals"} -> totals {totals: {tag:
//   "n"}, total: "n"}; money {tag, amount, total} for every packet the library accepts.

const { emit, fail, watchStdin, parseArgs } = require('./common')
const http = require('http')
const { createServer } = require('ilp-protocol-stream')
const ILDCP = require('ilp-protocol-ildcp')
const IlpPacket = require('ilp-packet')

class InProcessPlugin {
  constructor (info) { this.info = info; this.handler = null; this.connected = false }
  async connect () { this.connected = true }
  async disconnect () { this.connected = false }
  isConnected () { return this.connected }
  async sendData (data) {
    if (data[0] === IlpPacket.Type.TYPE_ILP_PREPARE &&
        IlpPacket.deserializeIlpPrepare(data).destination === 'peer.config') {
      return ILDCP.serializeIldcpResponse(this.info)
    }
    return IlpPacket.serializeIlpReject({ code: 'F02', triggeredBy: this.info.clientAddress, message: 'no route', data: Buffer.alloc(0) })
  }
  registerDataHandler (handler) { this.handler = handler }
  deregisterDataHandler () { this.handler = null }
  async sendMoney () {}
  registerMoneyHandler () {}
  deregisterMoneyHandler () {}
}

async function main () {
  const args = parseArgs(process.argv.slice(2))
  if (!args.address || !args.token) fail('--address and --token are required')
  const plugin = new InProcessPlugin({
    clientAddress: args.address,
    assetCode: args.assetCode || 'USD',
    assetScale: Number(args.assetScale || 9)
  })
  const server = await createServer({ plugin })
  const totals = new Map() // connection tag -> BigInt
  let total = 0n
  server.on('connection', conn => {
    const tag = conn.connectionTag || ''
    conn.on('stream', stream => {
      stream.setReceiveMax('18446744073709551615')
      stream.on('money', amount => {
        const next = (totals.get(tag) || 0n) + BigInt(amount)
        totals.set(tag, next)
        total += BigInt(amount)
        emit({ event: 'money', tag, amount: String(amount), total: next.toString() })
      })
    })
  })
  const httpServer = http.createServer((req, res) => {
    const chunks = []
    req.on('data', c => chunks.push(c))
    req.on('end', async () => {
      if (req.method !== 'POST' || req.headers.authorization !== 'Bearer ' + args.token || !plugin.handler) {
        res.writeHead(401); return res.end()
      }
      let body
      try {
        body = await plugin.handler(Buffer.concat(chunks))
      } catch (e) {
        res.writeHead(400); return res.end(String(e && e.message))
      }
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length })
      res.end(body)
    })
  })
  await new Promise(resolve => httpServer.listen(0, '127.0.0.1', resolve))
  const port = httpServer.address().port
  watchStdin(async () => { await server.close(); await new Promise(resolve => httpServer.close(resolve)) }, line => {
    let cmd
    try { cmd = JSON.parse(line) } catch (e) { return }
    if (cmd.cmd === 'credentials') {
      const c = server.generateAddressAndSecret(String(cmd.tag))
      emit({ event: 'credentials', tag: cmd.tag, destinationAccount: c.destinationAccount, sharedSecret: c.sharedSecret.toString('base64') })
    } else if (cmd.cmd === 'totals') {
      const out = {}
      for (const [tag, value] of totals) out[tag] = value.toString()
      emit({ event: 'totals', totals: out, total: total.toString() })
    }
  })
  emit({ event: 'ready', port, url: 'http://127.0.0.1:' + port + '/', address: args.address })
}

main().catch(err => fail(err && err.stack ? err.stack : String(err)))
