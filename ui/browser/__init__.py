"""The browser window: tabs, address bar, pages, the ``trickle:`` scheme and the page hooks.

Nothing here knows about money. Other parts plug in through ``ui.app.compose`` (the
composition root), which returns an ``ui.app.Extensions``:

* ``profile_installers`` — ``hooks.ProfileInstaller``: ``install(profile)`` once, before any
  page exists (user scripts, request interceptors, scheme handlers of other schemes).
* ``page_hooks`` — ``hooks.PageHook``: ``attach(page, tab)`` for every page, popups included,
  before it loads; ``tab`` is a ``hooks.TabContext`` (``is_visible_in_focused_window()``,
  ``visibility_changed(bool)``, ``closing()``).
* ``internal_pages`` — ``scheme.InternalPage`` by host, for ``trickle://HOST/`` pages computed in
  Python; static pages are files under ``resources/pages/HOST/``.
* ``on_shutdown`` — callables run after the windows and the profile are gone.

Modules: ``window`` (main window, shortcuts, focus), ``tabs`` (tab strip), ``webview`` (a tab),
``page`` (popups, certificate errors, console logging), ``addressbar`` and ``urls`` (typed text →
URL), ``scheme`` (``trickle:``), ``profile`` (the persistent QtWebEngine profile), ``downloads``,
``findbar``, ``linkpreview``, ``notice``.
"""
