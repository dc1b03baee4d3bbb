'use strict'
// Helpers shared by the harness scripts: JSON lines on stdout, plugin construction from an
// uplink URL, and exiting when the parent goes away.

// Libraries (ilp-connector's logger among them) print to stdout; send all of that to stderr so
// stdout carries only our JSON lines. Require this module before any other.
const writeStdout = process.stdout.write.bind(process.stdout)
process.stdout.write = process.stderr.write.bind(process.stderr)

const fs = require('fs')
const PluginHttp = require('ilp-plugin-http')
const PluginBtp = require('ilp-plugin-btp')

// One JSON object per line on stdout; this is the only thing the scripts print there.
function emit (obj) {
  writeStdout(JSON.stringify(obj, (k, v) => (typeof v === 'bigint' ? v.toString() : v)) + '\n')
}

function fail (message) {
  emit({ event: 'error', message })
  process.exit(1)
}

// Exit when stdin closes (the parent died or closed the pipe), after an optional cleanup.
// Only a pipe or socket is watched: a terminal or /dev/null stdin does not end the process.
function watchStdin (cleanup, onLine) {
  const stop = async () => {
    try { if (cleanup) await Promise.race([cleanup(), new Promise(resolve => setTimeout(resolve, 1000))]) } catch (e) {}
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  let stat
  try { stat = fs.fstatSync(0) } catch (e) { return }
  if (!stat.isFIFO() && !stat.isSocket()) return
  let buf = ''
  process.stdin.setEncoding('utf8')
  process.stdin.on('data', chunk => {
    buf += chunk
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).trim()
      buf = buf.slice(i + 1)
      if (line && onLine) onLine(line)
    }
  })
  process.stdin.on('end', stop)
}

async function waitFor (predicate, timeoutMs = 10000) {
  const start = Date.now()
  while (!predicate()) {
    if (Date.now() - start > timeoutMs) throw new Error('timed out waiting for a listener')
    await new Promise(resolve => setTimeout(resolve, 5))
  }
}

// A plugin for an uplink URL:
//   btp+ws://[user]:token@127.0.0.1:PORT  -> ilp-plugin-btp client
//   http://127.0.0.1:PORT/ (+ opts.token, opts.incomingPort, opts.incomingToken) -> ilp-plugin-http
function pluginFor (uplink, opts = {}) {
  if (uplink.startsWith('btp+ws://') || uplink.startsWith('btp+wss://')) {
    return new PluginBtp({ server: uplink, reconnectInterval: 100 })
  }
  if (uplink.startsWith('http://') || uplink.startsWith('https://')) {
    const plugin = new PluginHttp({
      incoming: { port: { port: opts.incomingPort || 0, host: '127.0.0.1' }, staticToken: opts.incomingToken || opts.token || 'secret' },
      outgoing: { url: uplink, staticToken: opts.token || 'secret', name: opts.name || 'harness' }
    })
    return plugin
  }
  throw new Error('unsupported uplink URL (want btp+ws:// or http://): ' + uplink)
}

// Parses --key value / --flag arguments into an object (camelCased keys).
function parseArgs (argv) {
  const out = {}
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (!a.startsWith('--')) { (out._ = out._ || []).push(a); continue }
    const key = a.slice(2).replace(/-([a-z])/g, (_, c) => c.toUpperCase())
    const next = argv[i + 1]
    if (next === undefined || next.startsWith('--')) out[key] = true
    else { out[key] = next; i++ }
  }
  return out
}

module.exports = { emit, fail, watchStdin, waitFor, pluginFor, parseArgs }
