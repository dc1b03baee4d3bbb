// Parse + serialize of a typical ILP Prepare with the npm ilp-packet package (the yardstick for
// benchmarks/ilp_packet_bench.py). Prints one JSON line: {"ops_per_s": ...}.
'use strict'
const path = require('path')
const IlpPacket = require(path.join(__dirname, '..', '..', 'tests', 'interop', 'node_modules', 'ilp-packet'))

const raw = Buffer.from(process.argv[2], 'hex')
const seconds = Number(process.argv[3] || '2')

function run (n) {
  let last
  for (let i = 0; i < n; i++) {
    const prepare = IlpPacket.deserializeIlpPrepare(raw)
    last = IlpPacket.serializeIlpPrepare(prepare)
  }
  if (!last.equals(raw)) throw new Error('round trip changed the bytes')
}

run(20000) // warm up the JIT
let n = 0
const start = process.hrtime.bigint()
const deadline = start + BigInt(Math.round(seconds * 1e9))
let now = start
while (now < deadline) {
  run(5000)
  n += 5000
  now = process.hrtime.bigint()
}
const elapsed = Number(now - start) / 1e9
console.log(JSON.stringify({ ops_per_s: n / elapsed, ops: n, seconds: elapsed }))
