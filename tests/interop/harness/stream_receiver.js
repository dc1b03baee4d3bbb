#!/usr/bin/env node
'use strict'
// An ilp-protocol-stream server behind an uplink to the connector. Prints JSON lines on stdout.
//
//   node stream_receiver.js --uplink btp+ws://:TOKEN@127.0.0.1:PORT [options]
//   node stream_receiver.js --uplink http://127.0.0.1:PORT/ --token T --incoming-port P [--incoming-token T2]
// Options: --receive-max N|max (default max), --echo (write received data back on the same
//   stream), --receipts (issue RFC 39 receipts; nonce+secret printed base64 in "ready"),
//   --quiet (no per-packet "money" lines; totals on close and on the stdin command "totals"),
//   --idle-timeout MS (close connections idle this long; the library's default is 60000),
//   --stop-at N --stop HOW (once a stream has received N: HOW = stream-end, stream-destroy
//   (error "enough"), conn-end, conn-destroy (error "shop closed") or exit; prints "stopping").
// Lines: ready {destinationAccount, sharedSecret (base64), assetCode, assetScale, receiptNonce?,
//   receiptSecret?}, connection {connection}, stream {connection, stream}, money {connection,
//   stream, amount, streamTotal, connectionTotal, total}, data {connection, stream, data (base64),
//   bytes}, stream_end, connection_close {connection, totalReceived}, totals {total, connections}.
// stdin commands: "new" -> a fresh "credentials" line; "totals" -> a "totals" line.

const { emit, fail, watchStdin, pluginFor, parseArgs } = require('./common')
const crypto = require('crypto')
const { createServer } = require('ilp-protocol-stream')

function stopHow (how, conn, stream) {
  if (how === 'stream-end') stream.end()
  else if (how === 'stream-destroy') stream.destroy(new Error('enough'))
  else if (how === 'conn-end') conn.end()
  else if (how === 'conn-destroy') conn.destroy(new Error('shop closed'))
  else if (how === 'exit') process.exit(0)
  else fail('unknown --stop ' + how)
}

async function main () {
  const args = parseArgs(process.argv.slice(2))
  if (!args.uplink) fail('--uplink is required')
  const plugin = pluginFor(args.uplink, { token: args.token, incomingPort: Number(args.incomingPort || 0), incomingToken: args.incomingToken })
  const receiptNonce = args.receipts ? crypto.randomBytes(16) : undefined
  const receiptSecret = args.receipts ? crypto.randomBytes(32) : undefined
  const receiveMax = !args.receiveMax || args.receiveMax === 'max' ? '18446744073709551615' : String(args.receiveMax)
  const idleTimeout = args.idleTimeout ? Number(args.idleTimeout) : undefined
  const server = await createServer({ plugin, idleTimeout })
  let total = 0n
  let stopped = false
  const connections = {}
  server.on('connection', conn => {
    const id = conn.connectionTag || String(Object.keys(connections).length + 1)
    connections[id] = { totalReceived: '0' }
    emit({ event: 'connection', connection: id, sourceAccount: conn.destinationAccount })
    conn.on('stream', stream => {
      stream.setReceiveMax(receiveMax)
      emit({ event: 'stream', connection: id, stream: stream.id })
      stream.on('money', amount => {
        total += BigInt(amount)
        if (args.stopAt && !stopped && BigInt(stream.totalReceived) >= BigInt(args.stopAt)) {
          stopped = true
          emit({ event: 'stopping', how: args.stop, total: total.toString() })
          stopHow(args.stop, conn, stream)
        }
        connections[id].totalReceived = conn.totalReceived
        if (!args.quiet) emit({ event: 'money', connection: id, stream: stream.id, amount: String(amount), streamTotal: stream.totalReceived, connectionTotal: conn.totalReceived, total: total.toString() })
      })
      stream.on('data', chunk => {
        emit({ event: 'data', connection: id, stream: stream.id, data: chunk.toString('base64'), bytes: chunk.length })
        if (args.echo) stream.write(chunk)
      })
      stream.on('end', () => { emit({ event: 'stream_end', connection: id, stream: stream.id, totalReceived: stream.totalReceived }); stream.end() })
      stream.on('error', err => emit({ event: 'stream_error', connection: id, stream: stream.id, message: String(err && err.message) }))
    })
    conn.on('close', () => emit({ event: 'connection_close', connection: id, totalReceived: conn.totalReceived, total: total.toString() }))
    conn.on('error', err => emit({ event: 'connection_error', connection: id, message: String(err && err.message) }))
  })
  let counter = 0
  const credentials = () => {
    const tag = 'c' + (++counter)
    const c = server.generateAddressAndSecret({ connectionTag: tag, receiptNonce, receiptSecret })
    return {
      connectionTag: tag,
      destinationAccount: c.destinationAccount,
      sharedSecret: c.sharedSecret.toString('base64'),
      receiptsEnabled: c.receiptsEnabled,
      receiptNonce: receiptNonce && receiptNonce.toString('base64'),
      receiptSecret: receiptSecret && receiptSecret.toString('base64')
    }
  }
  watchStdin(() => server.close(), line => {
    if (line === 'new') emit(Object.assign({ event: 'credentials' }, credentials()))
    else if (line === 'totals') emit({ event: 'totals', total: total.toString(), connections })
  })
  emit(Object.assign({ event: 'ready', assetCode: server.assetCode, assetScale: server.assetScale, incomingPort: plugin._httpServer ? plugin._httpServer.address().port : undefined }, credentials()))
}

main().catch(err => fail(err && err.stack ? err.stack : String(err)))
