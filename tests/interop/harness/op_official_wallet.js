#!/usr/bin/env node
'use strict'
// The official Open Payments client (@interledger/open-payments, response validation on) pays
// from a user's wallet: its key registered at the wallet (client = the user's wallet address),
// an incoming payment at the site, an interactive outgoing-payment grant with a debitAmount
// limit and a monthly interval (finish redirect: the hash is checked here; continue too early ->
// too_fast; continue with interact_ref), a polled grant (too_fast, pending, approved, cancel),
// a quote, outgoing payments from the quote and straight from the incoming payment, get until
// sent, list, the grant's spent amounts, a payment past the limit, token rotation (the old token
// refused), revocation (refused after), grant cancel.
//
//   node op_official_wallet.js --user URL --site URL --limit N --amounts A,B [--over N]
// The parent answers on stdin, one JSON line each: {"cmd": "registered"} after adding the key
// (emitted as {"event": "key", "jwk"}), {"cmd": "finished", "url"} with the finish redirect the
// consent page sent the browser to, and {"cmd": "go"} whenever the script waits for the
// sandbox's clock to pass a grant's `wait`. Trust for https: NODE_EXTRA_CA_CERTS.
// Lines: {"event": "<step>", ...} per step; done; error + exit 1 on failure.

const { emit, fail, parseArgs, watchStdin } = require('./common')
const crypto = require('crypto')
const { createAuthenticatedClient } = require('@interledger/open-payments')
const { generateKey, generateJwk } = require('@interledger/http-signature-utils')

const commands = []
const waiters = []
function nextCommand (name) {
  return new Promise((resolve, reject) => {
    const take = () => {
      const i = commands.findIndex(c => c.cmd === name)
      if (i < 0) return false
      resolve(commands.splice(i, 1)[0])
      return true
    }
    if (!take()) waiters.push(take)
    setTimeout(() => reject(new Error('no ' + name + ' command')), 60000)
  })
}

async function refusal (promise) {
  try {
    await promise
    return { refused: false }
  } catch (e) {
    return { refused: true, status: e.status, code: e.code, description: e.description, details: e.details }
  }
}

async function main () {
  const args = parseArgs(process.argv.slice(2))
  if (!args.user || !args.site || !args.limit || !args.amounts) fail('--user, --site, --limit, --amounts are required')
  watchStdin(null, line => {
    commands.push(JSON.parse(line))
    for (let i = waiters.length - 1; i >= 0; i--) if (waiters[i]()) waiters.splice(i, 1)
  })
  emit({ event: 'ready' })
  const keyId = 'official-' + Date.now()
  const privateKey = generateKey()
  emit({ event: 'key', jwk: generateJwk({ privateKey, keyId }) })
  await nextCommand('registered')
  const client = await createAuthenticatedClient({
    walletAddressUrl: args.user, privateKey, keyId, validateResponses: true, logLevel: 'silent'
  })
  const user = await client.walletAddress.get({ url: args.user })
  const site = await client.walletAddress.get({ url: args.site })
  const asset = { assetCode: user.assetCode, assetScale: user.assetScale }

  const ipGrant = await client.grant.request({ url: site.authServer }, {
    access_token: { access: [{ type: 'incoming-payment', actions: ['create', 'read'], identifier: site.id }] }
  })
  const incoming = await client.incomingPayment.create(
    { url: site.resourceServer, accessToken: ipGrant.access_token.value },
    { walletAddress: site.id, expiresAt: new Date(Date.now() + 10 * 60 * 1000).toISOString() }
  )
  emit({ event: 'incoming', result: incoming })

  // The interactive grant, finished by redirect.
  const nonce = crypto.randomUUID()
  const access = [
    { type: 'quote', actions: ['create', 'read'] },
    {
      type: 'outgoing-payment',
      actions: ['create', 'read', 'list'],
      identifier: user.id,
      limits: { debitAmount: { value: String(args.limit), ...asset }, interval: `R/${new Date().toISOString()}/P1M` }
    }
  ]
  const pending = await client.grant.request({ url: user.authServer }, {
    access_token: { access },
    interact: { start: ['redirect'], finish: { method: 'redirect', uri: 'https://client.invalid/finish', nonce } }
  })
  emit({ event: 'pending', redirect: pending.interact.redirect, wait: pending.continue.wait })
  const finished = new URL((await nextCommand('finished')).url)
  const ref = finished.searchParams.get('interact_ref')
  const hash = finished.searchParams.get('hash')
  const expected = crypto.createHash('sha256')
    .update(`${nonce}\n${pending.interact.finish}\n${ref}\n${user.authServer}`).digest('base64')
  emit({ event: 'hash', ok: hash === expected })
  const cont = { url: pending.continue.uri, accessToken: pending.continue.access_token.value }
  emit({ event: 'too-fast', result: await refusal(client.grant.continue(cont, { interact_ref: ref })) })
  await nextCommand('go')
  const grant = await client.grant.continue(cont, { interact_ref: ref })
  emit({ event: 'granted', expiresIn: grant.access_token.expires_in, access: grant.access_token.access })

  // A polled grant (no finish): too early, still pending, approved.
  const polled = await client.grant.request({ url: user.authServer }, {
    access_token: { access }, interact: { start: ['redirect'] }
  })
  emit({ event: 'polled-pending', redirect: polled.interact.redirect, wait: polled.continue.wait })
  const poll = { url: polled.continue.uri, accessToken: polled.continue.access_token.value }
  emit({ event: 'poll-too-fast', result: await refusal(client.grant.continue(poll)) })
  await nextCommand('go')
  const still = await client.grant.continue(poll)
  emit({ event: 'poll-still', pending: !still.access_token, wait: still.continue.wait })
  await nextCommand('go') // the user accepted, and `wait` passed
  const approved = await client.grant.continue(poll)
  emit({ event: 'poll-granted', hasToken: !!approved.access_token })
  await client.grant.cancel({ url: approved.continue.uri, accessToken: approved.continue.access_token.value })
  emit({ event: 'poll-cancelled' })

  // Paying under the interactive grant.
  const accessToken = grant.access_token.value
  const rs = { url: user.resourceServer, accessToken }
  const [first, second] = String(args.amounts).split(',')
  const quote = await client.quote.create(rs, {
    walletAddress: user.id, receiver: incoming.id, method: 'ilp', debitAmount: { value: first, ...asset }
  })
  emit({ event: 'quote', result: quote })
  const fromQuote = await client.outgoingPayment.create(rs, { walletAddress: user.id, quoteId: quote.id })
  emit({ event: 'from-quote', result: fromQuote })
  const direct = await client.outgoingPayment.create(rs, {
    walletAddress: user.id, incomingPayment: incoming.id, debitAmount: { value: second, ...asset }
  })
  emit({ event: 'direct', result: direct })
  const settled = []
  for (const payment of [fromQuote, direct]) {
    let latest = payment
    for (let i = 0; i < 200 && latest.sentAmount.value !== latest.debitAmount.value && !latest.failed; i++) {
      await new Promise(resolve => setTimeout(resolve, 50))
      latest = await client.outgoingPayment.get({ url: payment.id, accessToken })
    }
    settled.push(latest)
  }
  emit({ event: 'settled', result: settled })
  const list = await client.outgoingPayment.list({ url: user.resourceServer, walletAddress: user.id, accessToken }, { first: 10 })
  emit({ event: 'list', result: list })
  const spent = await client.outgoingPayment.getGrantSpentAmounts(rs)
  emit({ event: 'spent', result: spent })
  const over = await refusal(client.outgoingPayment.create(rs, {
    walletAddress: user.id, incomingPayment: incoming.id, debitAmount: { value: String(args.over || 1), ...asset }
  }))
  emit({ event: 'over-limit', result: over })

  // Token rotation and revocation, then the grant's end.
  const rotated = await client.token.rotate({ url: grant.access_token.manage, accessToken })
  emit({ event: 'rotated', changed: rotated.access_token.value !== accessToken, expiresIn: rotated.access_token.expires_in })
  emit({ event: 'old-token', result: await refusal(client.outgoingPayment.get({ url: direct.id, accessToken })) })
  const fresh = await client.outgoingPayment.get({ url: direct.id, accessToken: rotated.access_token.value })
  emit({ event: 'new-token', ok: fresh.id === direct.id })
  await client.token.revoke({ url: rotated.access_token.manage, accessToken: rotated.access_token.value })
  emit({ event: 'revoked-token', result: await refusal(client.outgoingPayment.get({ url: direct.id, accessToken: rotated.access_token.value })) })
  await client.grant.cancel(cont)
  emit({ event: 'cancelled' })
  emit({ event: 'done' })
  process.exit(0)
}

main().catch(err => fail((err && (err.description ? err.message + ': ' + err.description + ' ' + JSON.stringify(err.validationErrors || '') : err.stack)) || String(err)))
