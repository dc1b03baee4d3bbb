// The welcome page: registers the built-in provider through the same consent dialog as any
// provider (WebMonetization.register needs a click: it is called from the button's handler).
'use strict'
;(function () {
  const button = document.getElementById('use-builtin')
  const result = document.getElementById('result')
  // "Change the monthly budget" opens the wallet's Settings at the budget field and comes
  // back here with the same demo links (the link carries no amount).
  document.getElementById('change-budget').setAttribute('href', 'budget' + location.search)
  for (const id of ['demo-blog', 'demo-echo']) {
    const link = document.getElementById(id)
    if (!link.getAttribute('href')) link.parentElement.hidden = true
  }
  button.addEventListener('click', () => {
    if (!window.WebMonetization) {
      result.textContent = 'Web Monetization is not available on this page.'
      return
    }
    result.textContent = 'Waiting for your answer in the dialog…'
    window.WebMonetization.register({
      name: 'Trickle Wallet',
      handlerUri: 'trickle://wallet/handler'
    }).then((accepted) => {
      document.body.dataset.registered = String(accepted)
      result.textContent = accepted
        ? 'Done: Trickle Wallet is your provider. Open a demo site below.'
        : 'Not changed. You can choose the wallet as your provider at any time.'
    }, (error) => {
      result.textContent = `${error.name}: ${error.message}`
    })
  })
})()
