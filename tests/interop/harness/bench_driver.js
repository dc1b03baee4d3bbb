#!/usr/bin/env node
'use strict'
// Drives ilp-plugin-http or ilp-plugin-btp as a client through the connector, for
// benchmarks/uplink_bench.py: N Prepares with K in flight to a fulfilling destination.
//
//   node bench_driver.js --uplink URL [--token T] --destination ADDR
//   stdin: "run COUNT INFLIGHT"  ->  {"event":"result","count","inflight","seconds","pps",
//                                     "p50Ms","p99Ms","fulfilled","cpuUsPerPacket"}
// Each Prepare carries an 8-byte counter as data (ilp-connector deduplicates identical
// packets) and the condition sha256(32 zero bytes), which the harness's "local" peer fulfills.

const { emit, fail, watchStdin, pluginFor, parseArgs } = require('./common')
const crypto = require('crypto')
const IlpPacket = require('ilp-packet')

const CONDITION = crypto.createHash('sha256').update(Buffer.alloc(32)).digest()
let counter = 0

async function runBatch (plugin, destination, count, inflight) {
  const latencies = new Array(count)
  let next = 0
  let fulfilled = 0
  const worker = async () => {
    while (next < count) {
      const i = next++
      const data = Buffer.alloc(8)
      data.writeUInt32BE(process.pid, 0)
      data.writeUInt32BE(counter++ >>> 0, 4)
      const started = process.hrtime.bigint()
      const prepare = IlpPacket.serializeIlpPrepare({
        amount: '1',
        expiresAt: new Date(Date.now() + 30000),
        executionCondition: CONDITION,
        destination,
        data
      })
      const reply = IlpPacket.deserializeIlpPacket(await plugin.sendData(prepare))
      latencies[i] = Number(process.hrtime.bigint() - started) / 1e6
      if (reply.type === IlpPacket.Type.TYPE_ILP_FULFILL) fulfilled++
    }
  }
  const cpu = process.cpuUsage()
  const started = process.hrtime.bigint()
  await Promise.all(Array.from({ length: inflight }, worker))
  const seconds = Number(process.hrtime.bigint() - started) / 1e9
  const used = process.cpuUsage(cpu)
  latencies.sort((a, b) => a - b)
  return {
    event: 'result',
    count,
    inflight,
    seconds,
    pps: count / seconds,
    p50Ms: latencies[Math.floor(count * 0.5)],
    p99Ms: latencies[Math.min(count - 1, Math.floor(count * 0.99))],
    fulfilled,
    cpuUsPerPacket: (used.user + used.system) / count
  }
}

async function main () {
  const args = parseArgs(process.argv.slice(2))
  if (!args.uplink || !args.destination) fail('--uplink and --destination are required')
  const plugin = pluginFor(args.uplink, { token: args.token })
  await plugin.connect()
  let queue = Promise.resolve()
  watchStdin(() => plugin.disconnect(), line => {
    const [cmd, count, inflight] = line.split(/\s+/)
    if (cmd !== 'run') return
    queue = queue.then(() => runBatch(plugin, args.destination, Number(count), Number(inflight)))
      .then(emit, err => emit({ event: 'error', message: String(err && err.message) }))
  })
  emit({ event: 'ready' })
}

main().catch(err => fail(err && err.stack ? err.stack : String(err)))
