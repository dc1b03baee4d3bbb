#!/usr/bin/env node
'use strict'
// Checks Open Payments client requests the way Rafiki does, with Rafiki's own libraries:
// the signature and Content-Digest with @interledger/http-signature-utils
// (validateSignatureHeaders + validateSignature, Rafiki's signature middleware), and the request
// against the official OpenAPI files with @interledger/openapi (createRequestValidator, Rafiki's
// validator middleware, which also wants `Accept: application/json`).
//
//   node op_checker.js --specs DIR --roots JSON [--max-age-seconds 300]
// --roots: {"wallet": [wallet address URLs], "auth": [authServer, auth origin URL],
//           "resource": [resourceServer]}: which OpenAPI file covers which URLs.
// stdin, one JSON object a line: {"id", "method", "url", "headers": {lower-case: value},
//   "body": "<text>" | null} -> stdout {"event": "verdict", "id", "operation",
//   "signature": {"ok", "error"?}, "openapi": {"ok", "error"?}};
//   or {"cmd": "jwks", "wallet": URL, "keys": [JWK]} -> {"event": "jwks-stored"}: the keys a
//   wallet-address client's requests are verified with (its jwks.json).
// Keys: a grant request is verified with the JWK in its own body (`client.jwk`), and that JWK is
// remembered by `kid` for later requests (as Rafiki's auth server and resource server do for
// directed identity). http-signature-utils 2.0.3 does not look at `created`; a request whose
// `created` is more than --max-age-seconds from now (or in the future) is refused here too.

const { emit, fail, watchStdin, parseArgs } = require('./common')
const path = require('path')
const { validateSignatureHeaders, validateSignature } = require('@interledger/http-signature-utils')
const { createOpenAPI } = require('@interledger/openapi')

const SPEC_FILES = { wallet: 'wallet-address-server.yaml', auth: 'auth-server.yaml', resource: 'resource-server.yaml' }

function templateRegex (template) {
  const source = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{([^}]+)\}/g, '(?<$1>[^/]+)')
  return new RegExp('^' + source + '$')
}

async function main () {
  const args = parseArgs(process.argv.slice(2))
  if (!args.specs || !args.roots) fail('--specs and --roots are required')
  const roots = JSON.parse(args.roots)
  const maxAge = Number(args.maxAgeSeconds || 300)
  const apis = {}
  for (const [name, file] of Object.entries(SPEC_FILES)) apis[name] = await createOpenAPI(path.join(args.specs, file))
  const keys = new Map() // kid -> public JWK
  // Wallet-address clients: the keys at <wallet>/jwks.json, as Rafiki fetches them; the test
  // hands them over ({"cmd": "jwks", "wallet", "keys"}) because the checker runs inside the
  // server it would fetch them from.
  const walletKeys = new Map() // wallet URL -> [JWK]
  // One validator per operation, made once as Rafiki makes them at start-up:
  // createRequestValidator appends the path's parameters to the operation's on every call.
  const validators = new Map()
  function validatorFor (spec, template, method) {
    const key = `${spec} ${method} ${template}`
    if (!validators.has(key)) validators.set(key, apis[spec].createRequestValidator({ path: template, method }))
    return validators.get(key)
  }

  // The spec, the path template and its params for a URL: the longest root that prefixes it.
  function operationFor (method, url) {
    let best = null
    for (const [name, list] of Object.entries(roots)) {
      for (const root of list) {
        if ((url === root || url.startsWith(root + '/')) && (!best || root.length > best.root.length)) best = { name, root }
      }
    }
    if (!best) return null
    const rest = new URL(url).pathname.slice(new URL(best.root).pathname.replace(/\/$/, '').length) || '/'
    for (const template of Object.keys(apis[best.name].paths)) {
      const match = templateRegex(template).exec(rest)
      if (match && apis[best.name].paths[template][method.toLowerCase()]) {
        return { spec: best.name, path: template, params: Object.assign({}, match.groups) }
      }
    }
    return { spec: best.name, path: null, rest }
  }

  async function checkSignature (request, parsedBody) {
    const sigInput = request.headers['signature-input']
    if (!sigInput) {
      if (request.method === 'GET' && !request.headers.authorization) return { ok: true, unsigned: true }
      return { ok: false, error: 'no signature' }
    }
    const keyid = /keyid="([^"]*)"/.exec(sigInput)
    const created = /created=(\d+)/.exec(sigInput)
    if (!keyid || !created) return { ok: false, error: 'signature-input lacks keyid or created' }
    const age = Date.now() / 1000 - Number(created[1])
    if (age > maxAge || age < -5) return { ok: false, error: `created is ${Math.round(age)} s old` }
    let jwk = keys.get(keyid[1])
    const bodyJwk = parsedBody && parsedBody.client && parsedBody.client.jwk
    if (bodyJwk) jwk = bodyJwk
    const client = parsedBody && parsedBody.client
    const clientWallet = typeof client === 'string' ? client : (client && client.walletAddress)
    let walletJwk = null
    if (clientWallet) {
      walletJwk = (walletKeys.get(clientWallet) || []).find(k => k.kid === keyid[1]) || null
      if (!walletJwk) return { ok: false, error: `keyid ${keyid[1]} is not in ${clientWallet}/jwks.json` }
      jwk = walletJwk
    }
    if (!jwk) return { ok: false, error: `unknown keyid ${keyid[1]}` }
    if (jwk.kid !== keyid[1]) return { ok: false, error: 'keyid is not the JWK kid' }
    // What Rafiki's middleware hands the library (contextToRequestLike): the body re-serialized.
    const like = { method: request.method, url: request.url, headers: request.headers, body: parsedBody ? JSON.stringify(parsedBody) : undefined }
    if (!validateSignatureHeaders(like)) return { ok: false, error: 'signature headers invalid (components or Content-Digest)' }
    let valid = false
    try { valid = await validateSignature(jwk, like) } catch (e) { return { ok: false, error: 'validateSignature threw: ' + e.message } }
    if (!valid) return { ok: false, error: 'signature does not verify' }
    if (bodyJwk) keys.set(bodyJwk.kid, bodyJwk)
    if (walletJwk) keys.set(walletJwk.kid, walletJwk)
    return { ok: true }
  }

  function checkOpenApi (request, parsedBody) {
    const op = operationFor(request.method, request.url)
    if (!op || !op.path) return { ok: false, error: `no OpenAPI operation for ${request.method} ${request.url}` }
    const accept = request.headers.accept || ''
    if (!accept.includes('application/json') && !accept.includes('*/*')) return { ok: false, error: 'Must accept application/json', op }
    const validator = validatorFor(op.spec, op.path, request.method.toLowerCase())
    const query = Object.fromEntries(new URL(request.url).searchParams)
    try {
      validator({ body: parsedBody, headers: request.headers, query, params: op.params })
      return { ok: true, op }
    } catch (err) {
      const message = err && err.errors ? err.errors.map(e => e.message).join('; ') : String(err)
      return { ok: false, error: message, op }
    }
  }

  watchStdin(null, async line => {
    let request
    try { request = JSON.parse(line) } catch (e) { return emit({ event: 'error-line', message: 'not JSON' }) }
    if (request.cmd === 'jwks') {
      walletKeys.set(request.wallet, request.keys)
      return emit({ event: 'jwks-stored', wallet: request.wallet })
    }
    let parsedBody
    if (request.body) {
      try { parsedBody = JSON.parse(request.body) } catch (e) { parsedBody = undefined }
    }
    let signature, openapi
    try {
      signature = await checkSignature(request, parsedBody)
      openapi = checkOpenApi(request, parsedBody)
    } catch (e) {
      signature = signature || { ok: false, error: 'checker failed: ' + e.message }
      openapi = { ok: false, error: 'checker failed: ' + e.message }
    }
    emit({ event: 'verdict', id: request.id, operation: openapi.op ? `${openapi.op.spec} ${request.method} ${openapi.op.path}` : null, signature, openapi: { ok: openapi.ok, error: openapi.error } })
  })
  emit({ event: 'ready', specs: Object.keys(apis) })
}

main().catch(err => fail(err && err.stack ? err.stack : String(err)))
