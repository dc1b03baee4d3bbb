"""The Web Monetization user scripts of a profile (qutebrowser's ``_inject_js``, our way).

Two scripts per profile, both at DocumentCreation, both named ``_trickle_…`` so they can be
found and replaced, both idempotent (they return early when already present):

* ``_trickle_webmonetization`` — MAIN world, **runs on subframes**: the frozen
  ``window.WebMonetization`` façade (``resources/js/webmonetization.js``), with today's
  ``MonetizationEvent``, ``onmonetization`` and ``relList.supports("monetization")``
  (``resources/js/monetization_event.js``, inserted into its closure).
* ``_trickle_wm_bridge`` — ApplicationWorld (isolated), **runs on subframes**: ``qwebchannel.js``
  plus ``resources/js/bridge.js`` (with ``resources/js/link_tags.js`` inserted into its closure),
  the only code that can reach the page's QWebChannel (in the
  main frame; in a first-level iframe it relays the frame's monetization links to the main
  frame's copy, see bridge.js).

What iframes get (decided): the same façade, whose ``register`` and ``monetize`` reject at once
with ``NotAllowedError`` ("only available in the top-level document"); their
``<link rel="monetization">`` elements are paid when the Permissions Policy allows it, out of the
top-level document's site. QWebChannel does not reach
subframes, and a payment must belong to the tab's own site, so a clean, named refusal is the
honest answer; nothing is silently dropped.

The two scripts share a per-profile random nonce written into their sources here; it tags the
one window message that hands the façade its private MessagePort. The nonce never appears in a
function a page can ``toString()``.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from importlib import resources

from PySide6.QtCore import QFile, QIODevice
from PySide6.QtWebEngineCore import QWebEngineProfile, QWebEngineScript, QWebEngineSettings

FACADE_SCRIPT_NAME = "_trickle_webmonetization"
BRIDGE_SCRIPT_NAME = "_trickle_wm_bridge"
_NONCE_PLACEHOLDER = '"__TRICKLE_NONCE__"'
_QWEBCHANNEL_JS = ":/qtwebchannel/qwebchannel.js"
# webmonetization.js takes monetization_event.js (today's MonetizationEvent) here, in its closure
_EVENT_MARKER = "/*__TRICKLE_MONETIZATION_EVENT__*/"
# bridge.js takes link_tags.js (links, iframes' links, the Coil-era meta) here, in its closure
_LINKS_MARKER = "/*__TRICKLE_LINK_TAGS__*/"


class ScriptError(RuntimeError):
    """A bundled script is missing (a packaging bug)."""


def _resource_text(name: str) -> str:
    return resources.files("resources.js").joinpath(name).read_text(encoding="utf-8")


def qwebchannel_js() -> str:
    """The text of Qt's ``qwebchannel.js`` (from the Qt resource system)."""
    f = QFile(_QWEBCHANNEL_JS)
    if not f.open(QIODevice.OpenModeFlag.ReadOnly):
        raise ScriptError(f"cannot read {_QWEBCHANNEL_JS}")
    try:
        return bytes(f.readAll().data()).decode("utf-8")
    finally:
        f.close()


@dataclass(frozen=True, slots=True)
class WebMonetizationScripts:
    """The two script sources of one profile, sharing one nonce."""

    nonce: str
    facade_source: str
    bridge_source: str

    @classmethod
    def generate(cls) -> WebMonetizationScripts:
        nonce = secrets.token_urlsafe(32)
        literal = json.dumps(nonce)
        facade = _resource_text("webmonetization.js")
        if facade.count(_EVENT_MARKER) != 1:
            raise ScriptError("the MonetizationEvent marker is missing from webmonetization.js")
        facade = facade.replace(_EVENT_MARKER, _resource_text("monetization_event.js").strip())
        bridge = _resource_text("bridge.js")
        if bridge.count(_LINKS_MARKER) != 1:
            raise ScriptError("the link-tags marker is missing from bridge.js")
        bridge = bridge.replace(_LINKS_MARKER, _resource_text("link_tags.js").strip())
        if facade.count(_NONCE_PLACEHOLDER) != 1 or bridge.count(_NONCE_PLACEHOLDER) != 1:
            raise ScriptError("nonce placeholder missing from the bundled scripts")
        return cls(
            nonce=nonce,
            facade_source=facade.replace(_NONCE_PLACEHOLDER, literal),
            bridge_source=qwebchannel_js() + "\n" + bridge.replace(_NONCE_PLACEHOLDER, literal),
        )

    def scripts(self) -> list[QWebEngineScript]:
        facade = QWebEngineScript()
        facade.setName(FACADE_SCRIPT_NAME)
        facade.setSourceCode(self.facade_source)
        facade.setWorldId(QWebEngineScript.ScriptWorldId.MainWorld)
        facade.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
        facade.setRunsOnSubFrames(True)

        bridge = QWebEngineScript()
        bridge.setName(BRIDGE_SCRIPT_NAME)
        bridge.setSourceCode(self.bridge_source)
        bridge.setWorldId(QWebEngineScript.ScriptWorldId.ApplicationWorld)
        bridge.setInjectionPoint(QWebEngineScript.InjectionPoint.DocumentCreation)
        bridge.setRunsOnSubFrames(True)
        return [facade, bridge]


class WebMonetizationProfileInstaller:
    """A ``ui.browser.hooks.ProfileInstaller``: puts the two scripts into a profile.

    Installing twice replaces the scripts (with a fresh nonce) instead of adding copies.
    """

    def install(self, profile: QWebEngineProfile) -> None:
        # QtWebEngine 6.11 can keep pages in a back/forward cache (off by default), but a page
        # restored from it no longer hears its QWebChannel (``qt.webChannelTransport`` is gone
        # from its world; what it sends still arrives): its links would be paid with no event
        # at them and draft-4 calls never answered. Off, stated here (see README, platform facts).
        profile.settings().setAttribute(
            QWebEngineSettings.WebAttribute.BackForwardCacheEnabled, False
        )
        collection = profile.scripts()
        for name in (FACADE_SCRIPT_NAME, BRIDGE_SCRIPT_NAME):
            for old in collection.find(name):
                collection.remove(old)
        for script in WebMonetizationScripts.generate().scripts():
            collection.insert(script)
