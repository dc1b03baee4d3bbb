"""The application: composition root and entry point of the browser.

``run(args)`` registers the ``trickle:`` scheme (before the QApplication exists), creates the
Trickle profile directory, logging to a file inside it, the persistent QtWebEngine profile,
and the main window. ``compose()`` is the one place where the other parts of Trickle (Web
Monetization, the built-in provider, the wallet UI) are wired in — by constructor injection,
never through globals.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import shiboken6
from PySide6.QtCore import (
    QByteArray,
    QCoreApplication,
    QEvent,
    QMessageLogContext,
    QSettings,
    QSocketNotifier,
    QTimer,
    QtMsgType,
    QUrl,
    qInstallMessageHandler,
)
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QApplication

import resources
from ui import gc_pause
from ui.browser import single_instance, urls
from ui.browser.browsing import Browsing
from ui.browser.clear_data import site_data_cleared_on_start
from ui.browser.downloads import Downloads, default_download_dir
from ui.browser.hooks import PageHook, ProfileInstaller
from ui.browser.profile import ProfileInUseError, create_profile, storage_dir
from ui.browser.sandbox_bar import show_sandbox_warning
from ui.browser.scheme import START_URL, Route, page_directories, register_scheme
from ui.browser.single_instance import InstanceServer
from ui.browser.storage import BrowsingStore
from ui.browser.window import BrowserWindow
from ui.browser.windows import Windows
from ui.icons import app_icon
from ui.launch_checks import sandbox_disabled
from ui.provider import OpenTabs, wire_provider
from wallet import __version__
from wallet.private_files import PRIVATE_UMASK, tighten_profile

log = logging.getLogger("trickle")

APP_NAME = "Trickle"
DESKTOP_FILE = "org.trickle.Trickle"
PAGES_DIR = Path(resources.__file__).parent / "pages"
LOG_FILE = "trickle.log"
UI_SETTINGS = "window.ini"  # window size and place, in the profile directory
# The wallet starts once the first page has loaded, or after this long (a slow site).
FIRST_PAINT_WAIT_MS = 1500
# ... and has had this long for its next frames: the wallet's start thread (its imports hold
# the GIL for a few hundred ms) and a page's first frames would compete for the same 2 cores.
SETTLE_MS = 100


@dataclass(frozen=True)
class LaunchOptions:
    """What the command line asked for."""

    profile_dir: Path
    urls: Sequence[str] = ()
    sandbox: bool = False
    uplink: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> LaunchOptions:
        profile = getattr(args, "profile", None)
        return cls(
            profile_dir=Path(profile).expanduser().resolve() if profile else default_profile_dir(),
            urls=tuple(getattr(args, "urls", ()) or ()),
            sandbox=bool(getattr(args, "sandbox", False)),
            uplink=getattr(args, "uplink", None),
        )


@dataclass(frozen=True)
class Extensions:
    """What plugs into the browser.

    Attributes:
        profile_installers: run once on the profile, before any page exists.
        page_hooks: attached to every page (popups included) before it loads.
        internal_pages: extra ``trickle://HOST/`` pages, by HOST (beside resources/pages/).
        on_shutdown: run in order after the windows and the profile are gone (close the
            wallet service, stop the asyncio loop ...).
        window_hooks: called with each browser window once it exists (the wallet UI adds its
            indicator, Wallet action and notification banner).
        after_first_paint: run once the first window's page has loaded (or after
            ``FIRST_PAINT_WAIT_MS``), with a function that opens tabs where the user looks:
            the wallet starts there (and opens the first launch's welcome page and demo).
        parts: the composed objects by name (startup, provider), for tests and diagnostics;
            nothing in the app looks them up here.
    """

    profile_installers: Sequence[ProfileInstaller] = ()
    page_hooks: Sequence[PageHook] = ()
    internal_pages: Mapping[str, Route] = field(default_factory=dict)
    on_shutdown: Sequence[Callable[[], object]] = ()
    window_hooks: Sequence[Callable[[BrowserWindow], object]] = ()
    after_first_paint: Sequence[Callable[[OpenTabs], object]] = ()
    parts: Mapping[str, object] = field(default_factory=dict)


def compose(options: LaunchOptions) -> Extensions:
    """The composition root: the one place where Trickle's parts are wired together.

    Runs after the QApplication exists and before the profile is built, and stays light: it
    is on the path to the first paint. What is slow to import or open (the wallet) starts from
    ``after_first_paint``; what pages ask of it meanwhile waits for it (``ui/provider.py``).
    Add parts here, e.g. (see ui/webmonetization/component.py)::

        wm = WebMonetization(asyncs, registry=..., payments=...)
        installers.append(wm)                  # profile-wide: user scripts, handler host
        hooks.append(wm)                       # per page: bridge, tab visibility
        pages["wallet"] = WalletPages(...)     # a trickle://wallet/ page, if any
        shutdown += [asyncs.close, loop.stop]
    """
    log.info("network: %s", "uplink" if options.uplink else "sandbox")
    # --- window.WebMonetization now; the wallet, its UI and network after the first paint --
    wiring = wire_provider(
        options.profile_dir,
        sandbox=options.sandbox,
        uplink=options.uplink,
        first_urls_allowed=not options.urls,
    )
    startup = wiring.startup
    return Extensions(
        wiring.installers,
        wiring.hooks,
        wiring.internal_pages,
        wiring.shutdown,
        window_hooks=[startup.attach_window],
        after_first_paint=[startup.start],
        parts={"startup": startup, "provider": wiring},
    )


def open_first_tabs(window: BrowserWindow, urls: Sequence[QUrl], home: QUrl = START_URL) -> None:
    """Open ``urls`` in ``window``; a lone start page nobody left gives way to them."""
    tabs = window.tabs()
    untouched = tabs if len(tabs) == 1 and tabs[0].url() == home else []
    for url in urls:
        window.new_tab(url)
    for tab in untouched:
        window.tab_strip.close_tab(tab)


def after_first_paint(
    window: BrowserWindow,
    start: Callable[[], object],
    wait_ms: int = FIRST_PAINT_WAIT_MS,
    settle_ms: int = SETTLE_MS,
) -> None:
    """Call ``start`` once, ``settle_ms`` after ``window``'s current page has both loaded and
    shown its first frame (its contents size known: QtWebEngine tells it as a frame is
    activated), or after ``wait_ms`` if that comes first (a slow site, a hidden window).
    What ``start`` does (the wallet's start thread) must not compete with the first paint, nor
    with the frames right after it, and ``loadFinished`` can come before it."""
    called: list[bool] = []
    seen: set[str] = set()

    def once() -> None:
        if not called:
            called.append(True)
            start()

    def happened(what: str) -> None:
        seen.add(what)
        if seen == {"loaded", "framed"} and not called:
            QTimer.singleShot(settle_ms, once)

    tab = window.current_tab()
    if tab is not None:
        tab.page().contentsSizeChanged.connect(lambda _size: happened("framed"))
        tab.loadFinished.connect(lambda _ok: happened("loaded"))
    QTimer.singleShot(wait_ms, once)


def register_schemes() -> None:
    """Declare Trickle's URL schemes. Must run before the QApplication is created."""
    register_scheme()


def default_profile_dir() -> Path:
    import platformdirs  # only without --profile

    return Path(platformdirs.user_data_dir("trickle", appauthor=False))


def internal_routes(extra: Mapping[str, Route]) -> dict[str, Route]:
    """The built-in pages of ``resources/pages/<host>/``, then the extensions' pages."""
    routes = page_directories(PAGES_DIR)
    routes.update(extra)
    return routes


LOG_MAX_BYTES = 2_000_000
LOG_BACKUPS = 3
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def setup_logging(profile_dir: Path, level: int = logging.INFO) -> Path:
    """Log to ``<profile>/logs/trickle.log``. Returns the file's path.

    A plain file handler until :func:`rotate_log` (after the first paint) puts a rotating one in
    its place: ``logging.handlers`` brings ``socket`` and ``pickle``, which the first paint
    does without.
    """
    logs = profile_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    path = logs / LOG_FILE
    _log_to(logging.FileHandler(path, encoding="utf-8"), level)
    return path


def rotate_log(path: Path, max_bytes: int = LOG_MAX_BYTES) -> None:
    """From now on ``path`` rolls over at ``max_bytes`` (``LOG_BACKUPS`` old files kept)."""
    import logging.handlers

    root = logging.getLogger()
    plain = [
        h
        for h in root.handlers
        if type(h) is logging.FileHandler and h.baseFilename == os.path.abspath(path)
    ]
    rotating = logging.handlers.RotatingFileHandler(
        path, maxBytes=max_bytes, backupCount=LOG_BACKUPS, encoding="utf-8"
    )
    _log_to(rotating, root.level)  # before the plain one goes: no record is lost between
    for handler in plain:
        root.removeHandler(handler)
        handler.close()


def _log_to(handler: logging.Handler, level: int) -> None:
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)


_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def _qt_message(kind: QtMsgType, _context: QMessageLogContext, message: str) -> None:
    logging.getLogger("trickle.qt").log(_QT_LEVELS.get(kind, logging.WARNING), "%s", message)


def open_targets(texts: Sequence[str]) -> list[QUrl]:
    """Command-line URLs, read like the address bar reads them."""
    targets = [urls.parse(text) for text in texts]
    return [t.url for t in targets if t is not None]


def stop_on_signals(app: QApplication) -> QSocketNotifier:
    """Quit cleanly (pages, profile, cookies flushed) on SIGINT/SIGTERM.

    Python runs signal handlers only between bytecodes, and Qt's event loop is in C++: the
    C-level handler writes to a pipe (``signal.set_wakeup_fd``) that wakes Qt, whose slot runs
    Python, and with it the handler. No polling timer: an idle browser never wakes for it.
    """
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda _sig, _frame: app.quit())
    reader, writer = os.pipe()  # both ends close on exec (PEP 446)
    for end in (reader, writer):
        os.set_blocking(end, False)
    signal.set_wakeup_fd(writer)
    notifier = QSocketNotifier(reader, QSocketNotifier.Type.Read, app)

    def drain() -> None:
        with contextlib.suppress(OSError):
            os.read(reader, 64)

    notifier.activated.connect(drain)
    app.aboutToQuit.connect(lambda: signal.set_wakeup_fd(-1))
    return notifier  # the pipe stays open for the process's life


def run(args: argparse.Namespace, extensions: Extensions | None = None) -> int:
    """Start the browser; returns the process exit code."""
    options = LaunchOptions.from_args(args)
    # No automatic garbage collection until the first page has painted (ui/gc_pause.py).
    gc_pause.hold(gc_pause.STARTUP)
    os.umask(PRIVATE_UMASK)  # what Qt, Chromium and the log create in the profile is private
    tighten_profile(options.profile_dir)
    log_path = setup_logging(options.profile_dir)
    qInstallMessageHandler(_qt_message)
    log.info("Trickle %s starting, profile %s", __version__, options.profile_dir)

    register_schemes()
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setOrganizationName(APP_NAME)
    QCoreApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName(DESKTOP_FILE)
    app = QApplication(sys.argv[:1])  # user arguments are ours, not Qt's
    app.setWindowIcon(app_icon())
    instance = single_instance.claim(options.profile_dir, options.urls)
    if instance is None:  # issue 21: one Trickle per profile; it has our URLs now
        log.info("Trickle already runs with this profile: URLs handed over")
        gc_pause.release(gc_pause.STARTUP)
        return 0

    ext = extensions if extensions is not None else compose(options)
    try:
        code = _browse(app, options, ext, instance, log_path)
    finally:
        gc_pause.release(gc_pause.STARTUP)  # quit before the first paint
        for step in ext.on_shutdown:
            step()
    log.info("Trickle stopped (%d); log in %s", code, log_path)
    return code


def _browse(
    app: QApplication,
    options: LaunchOptions,
    ext: Extensions,
    instance: InstanceServer,
    log_path: Path,
) -> int:
    """Profile, windows, event loop; then the teardown in the order QtWebEngine needs."""
    downloads = Downloads(default_download_dir())
    browsing = Browsing(BrowsingStore.open(options.profile_dir), downloads)  # issue 21
    if site_data_cleared_on_start(browsing.store, storage_dir(options.profile_dir)):
        log.info("site data cleared, as asked")
    try:
        profile = create_profile(
            options.profile_dir,
            internal_routes(ext.internal_pages),
            [downloads, *browsing.installers, *ext.profile_installers],
        )
    except ProfileInUseError as e:
        log.error("cannot start: %s", e)
        print(f"Trickle: {e}. Is Trickle already running with this profile?", file=sys.stderr)
        browsing.close()
        return 1
    # Without Chromium's sandbox (--no-sandbox), every window says so in a bar.
    warn = [show_sandbox_warning] if sandbox_disabled() else []
    windows = Windows(profile, [*browsing.page_hooks, *ext.page_hooks], [*ext.window_hooks, *warn])
    browsing.bind(windows)
    downloads.finished.connect(windows.on_download_finished)
    instance.urls_received.connect(lambda texts: windows.open_urls(open_targets(texts)))
    window = browsing.start(open_targets(options.urls))

    def open_tabs(urls: Sequence[QUrl]) -> None:
        target = windows.active() or window
        if shiboken6.isValid(target):
            open_first_tabs(target, urls, windows.home)
        else:
            windows.new_window(urls)

    def first_paint_done() -> None:
        gc_pause.release(gc_pause.STARTUP)  # held since the launch (ui/cli.py, run)
        rotate_log(log_path)
        for step in ext.after_first_paint:
            step(open_tabs)

    after_first_paint(window, first_paint_done)
    settings = QSettings(str(options.profile_dir / UI_SETTINGS), QSettings.Format.IniFormat)
    geometry = settings.value("window/geometry")
    if isinstance(geometry, QByteArray) and not browsing.restored:
        window.restoreGeometry(geometry)
    windows.window_closed.connect(lambda w: settings.setValue("window/geometry", w.saveGeometry()))
    log.info("window shown")
    stop_on_signals(app)
    code = app.exec()  # quitting closes the windows (Qt 6), the last one's place is kept
    settings.sync()
    browsing.save_session()

    # Pages must go before their profile, and the profile before the app, or QtWebEngine
    # warns and may lose the last cookies.
    windows.delete_all()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    shiboken6.delete(profile)
    instance.close()
    browsing.close()
    return int(code)
