// Demo site script: shows, live, what the site's own STREAM receiver has received (Server-Sent
// Events from /events). A page with <link rel="monetization"> (the blog) is paid by the
// browser on its own and hears of each payment as a `monetization` event; the echo page pays
// itself through window.WebMonetization (draft 4), which also carries data.
// The status line says what Trickle tells the user about this site (its toolbar's words, on
// the same event stream: "Streaming", "Paused", "Day cap reached", ...); the line below it
// counts what this page has sent. Only when Trickle says nothing (another browser) does the
// status line fall back to what the page itself saw.
'use strict'
;(function () {
  const $ = (id) => document.getElementById(id)
  const pending = {} // draws waiting for the next frame, by what they draw
  const MAX_U64 = '18446744073709551615'

  function formatAmount (amount, scale) {
    const digits = String(amount).padStart(scale + 1, '0')
    const whole = digits.slice(0, digits.length - scale)
    const frac = digits.slice(digits.length - scale)
    return `${BigInt(whole).toLocaleString()}.${frac}`
  }

  function showStatus (text, kind) {
    const status = $('status')
    status.textContent = text
    status.className = kind || ''
  }

  // What Trickle says about this site ({cause, label, explanation}), once it has said it.
  let trickle = null
  function setStatus (text, kind) {
    if (trickle !== null) return // the browser's own words win over what the page guesses
    showStatus(text, kind)
  }
  function showTrickle (status) {
    trickle = status
    if (status === null) return
    const flowing = status.cause === 'streaming' || status.cause === 'accruing'
    showStatus(`${status.label} — ${status.explanation}`, flowing ? 'ok' : 'warn')
    document.body.dataset.status = status.label
  }
  function showSent (amount, scale, currency) {
    later('sent', () => {
      $('sent').textContent = `You have sent ${formatAmount(amount, scale)} ${currency} to ` +
        'this site.'
    })
  }

  // Each payment brings two updates (what we sent, from the page's connection, and what the
  // site received, from its server) a few milliseconds apart: draw them in one frame.
  let drawTimer = null
  function later (key, draw) {
    pending[key] = draw
    if (drawTimer === null) {
      drawTimer = setTimeout(() => {
        drawTimer = null
        for (const k of Object.keys(pending)) {
          pending[k]()
          delete pending[k]
        }
      }, 100)
    }
  }

  // Live totals while the page is visible only: a hidden tab holds no connection (browsers
  // allow just 6 per host, and a page left open in many tabs must not starve the others).
  let events = null
  function watchTotals () {
    if (document.visibilityState === 'visible' && events === null) {
      events = new EventSource('/events')
      events.onmessage = (event) => {
        const totals = JSON.parse(event.data)
        later('received', () => {
          $('received').textContent = formatAmount(totals.received, totals.assetScale)
          $('asset').textContent = totals.assetCode
          document.body.dataset.received = totals.received
        })
        if (totals.status) showTrickle(totals.status)
      }
    } else if (document.visibilityState !== 'visible' && events !== null) {
      events.close()
      events = null
    }
  }
  document.addEventListener('visibilitychange', watchTotals)
  watchTotals()

  function chat (text, direction) {
    const log = $('chat')
    if (!log) return
    const line = document.createElement('p')
    line.className = direction
    line.textContent = (direction === 'out' ? '→ ' : '← ') + text
    log.appendChild(line)
    while (log.children.length > 8) log.removeChild(log.firstChild)
  }

  async function start () {
    if (!window.WebMonetization) {
      setStatus('This browser does not support Web Monetization.', 'warn')
      return
    }
    setStatus('Asking your provider to connect…')
    const response = await fetch('/.well-known/pay', { headers: { Accept: 'application/spsp4+json' } })
    const spsp = await response.json()
    const connection = await window.WebMonetization.monetize({
      destinationAccount: spsp.destination_account,
      sharedSecret: spsp.shared_secret
    })
    const stream = connection.createStream()
    let sent = 0n
    stream.addEventListener('outgoing_money', (event) => {
      sent += BigInt(event.amount)
      showSent(sent, connection.sourceAssetScale, connection.sourceAssetCode)
    })
    stream.addEventListener('data', (event) => chat(new TextDecoder().decode(event.data), 'in'))
    stream.addEventListener('error', (event) => setStatus(`Paused: ${event.error.message}`, 'warn'))
    connection.addEventListener('close', () => setStatus('The connection closed.', 'warn'))
    setStatus('Connected. Waiting for your budget to allow the first payment…', 'ok')
    stream.setSendMax(MAX_U64).catch((error) => setStatus(`${error.name}: ${error.message}`, 'warn'))
    if (document.body.dataset.site === 'echo') {
      let n = 0
      const say = () => {
        const text = `hello from the page, message ${++n}`
        chat(text, 'out')
        stream.send(text).catch((error) => chat(`${error.name}: ${error.message}`, 'out'))
      }
      say()
      setInterval(say, 3000)
    }
  }

  // Today's web: the browser pays the link's wallet address; the page only listens.
  function watchLink (link) {
    let sent = 0n
    let scale = 0
    let currency = ''
    setStatus('Waiting for your browser to pay this site…')
    link.addEventListener('error', () => setStatus('Not paid: choose a payment provider on ' +
      'the Trickle welcome page (trickle://wallet/) and reload, or this site\'s wallet could ' +
      'not be reached.', 'warn'))
    link.addEventListener('load', () => setStatus('Your wallet found this site\'s wallet. ' +
      'Waiting for your budget to allow the first payment…', 'ok'))
    link.addEventListener('monetization', (event) => {
      const [whole, frac = ''] = event.amountSent.value.split('.')
      scale = Math.max(scale, frac.length)
      currency = event.amountSent.currency
      sent += BigInt(whole + frac.padEnd(scale, '0'))
      showSent(sent, scale, currency)
    })
  }

  const link = document.querySelector('link[rel="monetization"]')
  if (link !== null) {
    watchLink(link)
    return
  }

  start().catch((error) => {
    if (error.name === 'NoHandlerRegisteredError') {
      setStatus('No payment provider yet: open the Trickle welcome page (trickle://wallet/) and ' +
        'choose “Use Trickle Wallet as your provider”, then reload.', 'warn')
    } else {
      setStatus(`Could not start paying: ${error.name}: ${error.message}`, 'warn')
    }
  })
})()
