#!/usr/bin/env node
'use strict'
// An ilp-protocol-stream client behind an uplink to the connector. Prints JSON lines on stdout.
//
//   node stream_sender.js --uplink btp+ws://:TOKEN@127.0.0.1:PORT --destination ADDR
//        --shared-secret B64 [--amount N] [--data TEXT | --data-bytes N] [--expect-data N]
//        [--slippage 0.01] [--timeout MS] [--no-close]
//   (HTTP uplink: --uplink http://127.0.0.1:PORT/ --token T --incoming-port P [--incoming-token T2])
// Lines: connected {sourceAccount, destinationAccount, assetCode, assetScale,
//   destinationAssetCode, destinationAssetScale, exchangeRate}, data {data (base64), bytes},
//   done {totalSent, totalDelivered, totalReceived, dataReceived (bytes), elapsedMs,
//   exchangeRate, receipt (base64)?}; error {message} and exit 1 on failure.

const { emit, fail, pluginFor, parseArgs, watchStdin } = require('./common')
const { createConnection } = require('ilp-protocol-stream')

async function main () {
  const args = parseArgs(process.argv.slice(2))
  if (!args.uplink || !args.destination || !args.sharedSecret) fail('--uplink, --destination and --shared-secret are required')
  const plugin = pluginFor(args.uplink, { token: args.token, incomingPort: Number(args.incomingPort || 0), incomingToken: args.incomingToken })
  const timeout = Number(args.timeout || 60000)
  const timer = setTimeout(() => fail('timed out after ' + timeout + ' ms'), timeout)
  watchStdin(() => plugin.disconnect())
  const started = Date.now()
  const conn = await createConnection({
    plugin,
    destinationAccount: args.destination,
    sharedSecret: Buffer.from(args.sharedSecret, 'base64'),
    slippage: args.slippage !== undefined ? Number(args.slippage) : 0.01
  })
  emit({
    event: 'connected',
    sourceAccount: conn.sourceAccount,
    destinationAccount: conn.destinationAccount,
    assetCode: conn.sourceAssetCode,
    assetScale: conn.sourceAssetScale,
    destinationAssetCode: conn.destinationAssetCode,
    destinationAssetScale: conn.destinationAssetScale,
    exchangeRate: conn.minimumAcceptableExchangeRate
  })
  conn.on('error', err => fail('connection error: ' + (err && err.message)))
  const stream = conn.createStream()
  let dataReceived = 0
  const expectData = Number(args.expectData || 0)
  const gotData = new Promise(resolve => {
    if (expectData <= 0) return resolve()
    stream.on('data', chunk => {
      dataReceived += chunk.length
      emit({ event: 'data', data: chunk.toString('base64'), bytes: chunk.length })
      if (dataReceived >= expectData) resolve()
    })
  })
  const payload = args.data !== undefined ? Buffer.from(String(args.data), 'utf8')
    : args.dataBytes ? Buffer.alloc(Number(args.dataBytes), 0x61) : null
  if (payload) stream.write(payload)
  const sendStart = Date.now()
  const cpuStart = process.cpuUsage()
  if (args.amount) await stream.sendTotal(String(args.amount))
  const sendCpu = process.cpuUsage(cpuStart)
  const sendMs = Date.now() - sendStart
  await gotData
  const done = {
    event: 'done',
    totalSent: conn.totalSent,
    totalDelivered: conn.totalDelivered,
    totalReceived: conn.totalReceived,
    dataReceived,
    elapsedMs: Date.now() - started,
    sendMs, // sendTotal alone (after connect and the rate probe)
    sendCpuMicros: sendCpu.user + sendCpu.system,
    exchangeRate: conn.lastPacketExchangeRate,
    receipt: stream.receipt ? stream.receipt.toString('base64') : undefined
  }
  if (!args.noClose) await conn.end()
  clearTimeout(timer)
  emit(done)
  await plugin.disconnect()
  process.exit(0)
}

main().catch(err => fail(err && err.stack ? err.stack : String(err)))
