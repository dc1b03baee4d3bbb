"""``window.WebMonetization`` (Web Monetization draft 4) in Trickle's pages.

Layout: ``scripts`` (the two user scripts), ``bridge`` (one QWebChannel object per page, the
Python end of every call), ``register`` + ``consent`` (registration rules and the native
dialog), ``monetize`` (monetize argument rules), ``handler_host`` (handler iframes in a hidden
page; the ``Link`` to them), ``protocols`` (the seams), ``component`` (what the app composes);
today's link tags: ``link_tags`` (a session per link), ``link_policy`` (whether a document's
policy lets a link be paid: ``permissions_policy``, ``csp``).
Every payment decision is ``wallet.payments``'s: this package reports documents, attention and
lifecycle to it and relays its connections to the page.
"""
