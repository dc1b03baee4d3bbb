"""The browser window: tabs, address bar, pages, the ``trickle:`` scheme and the page hooks.

Nothing here knows about money. Other parts plug in through ``ui.app.compose`` (the
composition root), which returns an ``ui.app.Extensions``:

* ``profile_installers`` — ``hooks.ProfileInstaller``: ``install(profile)`` once, before any
  page exists (user scripts, request interceptors, scheme handlers of other schemes).
* ``page_hooks`` — ``hooks.PageHook``: ``attach(page, tab)`` for every page, popups included,
  before it loads; ``tab`` is a ``hooks.TabContext`` (``is_visible_in_focused_window()``,
  ``visibility_changed(bool)``, ``closing()``).
* ``internal_pages`` — ``scheme.Route`` by host, for ``trickle://HOST/`` pages computed in
  Python (an ``InternalPage``, or one that may answer ``Pending``: known later); static pages
  are files under ``resources/pages/HOST/``.
* ``on_shutdown`` — callables run after the windows and the profile are gone.

Modules: ``window`` (main window, shortcuts, focus), ``tabs`` (tab strip), ``webview`` (a tab),
``page`` (popups, certificate errors, console logging), ``addressbar`` and ``urls`` (typed text →
URL), ``scheme`` (``trickle:``), ``profile`` (the persistent QtWebEngine profile), ``downloads``,
``findbar``, ``linkpreview``, ``notice``.

Around the window (issue 21), composed by ``browsing.Browsing``: ``windows`` (every window, made
in one place), ``storage`` (``browsing.sqlite``: visits, bookmarks, session, permissions,
settings), ``history`` (the visit-recording page hook), ``completion`` and ``search`` (the
address bar), ``session``, ``single_instance``, ``menu``, ``library`` with ``history_view``,
``bookmarks_view`` (and ``bookmarks_import``) and ``downloads_view``, ``permissions`` and
``permission_bar``, ``browser_settings``.
"""
