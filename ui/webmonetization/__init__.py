"""``window.WebMonetization`` (Web Monetization draft 4) in Trickle's pages.

Layout: ``scripts`` (the two user scripts), ``bridge`` (one QWebChannel object per page, the
Python end of every call), ``register`` + ``consent`` (registration rules and the native
dialog), ``monetize`` (monetize rules, the per-tab budget gate), ``handler_host`` (handler
iframes in a hidden page; the ``Link`` to them), ``stream_adapter`` (the STREAM client as the
page sees it), ``protocols`` (the seams), ``component`` (what the app composes).
"""
