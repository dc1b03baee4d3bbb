#!/usr/bin/env node
'use strict'
// Rafiki's own STREAM receiver (@interledger/stream-receiver), stateless, behind an
// ILP-over-HTTP endpoint (sync mode: POST a Prepare, the 200 answer is the Fulfill or Reject).
// As Rafiki's connector does with it, each incoming payment is a payment tag: credentials are
// generated with it, and money for it is accepted with setTotalReceived(<its running total>).
//
//   node op_stream_receiver.js --address test.sandbox.opnode --token T [--port 0]
// Lines: ready {port, url, address}; stdin {"cmd":"credentials","tag":T} -> credentials {tag,
//   ilpAddress, sharedSecret (base64url, as Rafiki sends it)}; stdin {"cmd":"totals"} -> totals
//   {totals: {tag: "n"}, total: "n"}; money {tag, amount, total} for every accepted packet.

const { emit, fail, watchStdin, parseArgs } = require('./common')
const http = require('http')
const crypto = require('crypto')
const { StreamServer } = require('@interledger/stream-receiver')
const IlpPacket = require('ilp-packet')

async function main () {
  const args = parseArgs(process.argv.slice(2))
  if (!args.address || !args.token) fail('--address and --token are required')
  const receiver = new StreamServer({ serverSecret: crypto.randomBytes(32), serverAddress: args.address })
  const totals = new Map() // payment tag -> BigInt
  let total = 0n

  const server = http.createServer((req, res) => {
    const chunks = []
    req.on('data', c => chunks.push(c))
    req.on('end', () => {
      if (req.method !== 'POST' || req.headers.authorization !== 'Bearer ' + args.token) {
        res.writeHead(401); return res.end()
      }
      let reply
      try {
        const prepare = IlpPacket.deserializeIlpPrepare(Buffer.concat(chunks))
        const result = receiver.createReply(prepare)
        if (result && typeof result.accept === 'function') {
          const tag = result.paymentTag || ''
          const next = (totals.get(tag) || 0n) + BigInt(prepare.amount)
          result.setTotalReceived(next.toString())
          reply = result.accept()
          totals.set(tag, next)
          total += BigInt(prepare.amount)
          emit({ event: 'money', tag, amount: prepare.amount, total: next.toString() })
        } else {
          reply = result
        }
      } catch (e) {
        res.writeHead(400); return res.end(String(e && e.message))
      }
      const body = IlpPacket.serializeIlpReply(reply)
      res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': body.length })
      res.end(body)
    })
  })
  await new Promise(resolve => server.listen(Number(args.port || 0), '127.0.0.1', resolve))
  const port = server.address().port
  watchStdin(() => new Promise(resolve => server.close(resolve)), line => {
    let cmd
    try { cmd = JSON.parse(line) } catch (e) { return }
    if (cmd.cmd === 'credentials') {
      const c = receiver.generateCredentials({ paymentTag: cmd.tag })
      emit({ event: 'credentials', tag: cmd.tag, ilpAddress: c.ilpAddress, sharedSecret: c.sharedSecret.toString('base64url') })
    } else if (cmd.cmd === 'totals') {
      emit({ event: 'totals', total: total.toString(), totals: Object.fromEntries([...totals].map(([k, v]) => [k, v.toString()])) })
    }
  })
  emit({ event: 'ready', port, url: `http://127.0.0.1:${port}/`, address: args.address })
}

main().catch(err => fail(err && err.stack ? err.stack : String(err)))
