"""The browser window: tabs, address bar, pages, the ``trickle:`` scheme and the page hooks.

Nothing here knows about money. The Web Monetization layer plugs in through
``ui.browser.hooks`` (``ProfileInstaller`` for profile-wide setup, ``PageHook`` per page).
"""
