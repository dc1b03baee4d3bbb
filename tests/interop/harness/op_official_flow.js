#!/usr/bin/env node
'use strict'
// The official Open Payments client (@interledger/open-payments, response validation on) runs
// the incoming-payment flow against a wallet address, as a directed-identity client:
// wallet address -> non-interactive grant (client: {jwk}) -> create / get / complete incoming
// payment -> public get -> cancel grant. Trust for the https server: NODE_EXTRA_CA_CERTS.
//
//   node op_official_flow.js --wallet URL [--incoming-amount N]
// Lines: ready; one {"event": "<step>", "result": ...} per step; done; error + exit 1 on failure.

const { emit, fail, parseArgs } = require('./common')
const { createAuthenticatedClient, createUnauthenticatedClient } = require('@interledger/open-payments')
const { generateKey, generateJwk } = require('@interledger/http-signature-utils')

async function main () {
  const args = parseArgs(process.argv.slice(2))
  if (!args.wallet) fail('--wallet is required')
  emit({ event: 'ready' })
  const keyId = 'official-' + Date.now()
  const privateKey = generateKey()
  const jwk = generateJwk({ privateKey, keyId })
  const client = await createAuthenticatedClient({
    walletAddressUrl: args.wallet, privateKey, keyId, validateResponses: true, logLevel: 'silent'
  })
  const wallet = await client.walletAddress.get({ url: args.wallet })
  emit({ event: 'wallet', result: wallet })
  const grant = await client.grant.request(
    { url: wallet.authServer },
    { access_token: { access: [{ type: 'incoming-payment', actions: ['create', 'read', 'complete'], identifier: wallet.id }] } },
    { jwk }
  )
  emit({ event: 'grant', result: { hasToken: !!grant.access_token, expiresIn: grant.access_token && grant.access_token.expires_in, continueUri: grant.continue.uri } })
  const accessToken = grant.access_token.value
  const expiresAt = new Date(Date.now() + 10 * 60 * 1000).toISOString()
  const body = { walletAddress: wallet.id, expiresAt, metadata: { source: 'official client' } }
  if (args.incomingAmount) body.incomingAmount = { value: String(args.incomingAmount), assetCode: wallet.assetCode, assetScale: wallet.assetScale }
  const created = await client.incomingPayment.create({ url: wallet.resourceServer, accessToken }, body)
  emit({ event: 'created', result: created })
  const fetched = await client.incomingPayment.get({ url: created.id, accessToken })
  emit({ event: 'fetched', result: fetched })
  const open = await createUnauthenticatedClient({ validateResponses: true, logLevel: 'silent' })
  const publicView = await open.incomingPayment.get({ url: created.id })
  emit({ event: 'public', result: publicView })
  const completed = await client.incomingPayment.complete({ url: created.id, accessToken })
  emit({ event: 'completed', result: completed })
  await client.grant.cancel({ url: grant.continue.uri, accessToken: grant.continue.access_token.value })
  emit({ event: 'cancelled' })
  emit({ event: 'done' })
  process.exit(0)
}

main().catch(err => fail((err && (err.description ? err.message + ': ' + err.description : err.stack)) || String(err)))
