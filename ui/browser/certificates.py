"""Certificates the browser accepts although no CA it trusts issued them: each for exactly one
origin and one certificate, while whoever pinned it keeps it pinned.

The one user is the sandbox (``wallet.sandbox``): its Open Payments server is https on loopback
with a certificate that is its own CA, made at start-up. Connecting the sandbox's wallet opens
that server's consent page in a Trickle tab, which must load there as the user's real wallet's
page would. A page (``ui.browser.page``) asks :meth:`CertificatePins.vouches_for` on a
certificate error before it refuses.

Invariants: an error is accepted only when (1) its URL is ``https`` on exactly a pinned host and
port, (2) the only thing wrong is the issuer (``CertificateAuthorityInvalid``: a wrong name, an
expired or revoked certificate are refused as ever), and (3) the certificate the server showed
is byte for byte (DER) the one pinned for that origin. Never by host name alone; nothing is
pinned unless the sandbox runs; anything else goes to the page's refusal.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

from PySide6.QtCore import QUrl
from PySide6.QtWebEngineCore import QWebEngineCertificateError, QWebEnginePage

from ui.browser.hooks import TabContext

__all__ = ["CertificatePins", "PinError"]

_UNTRUSTED_ISSUER = QWebEngineCertificateError.Type.CertificateAuthorityInvalid


class PinError(ValueError):
    """What was to be pinned is not an ``https://host:port`` origin or has no certificate."""


class CertificatePins:
    """Pinned (host, port) → certificate (DER). A page hook: every page asks this one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pins: dict[tuple[str, int], bytes] = {}

    def pin(self, origin: str, der: bytes) -> Callable[[], None]:
        """Accept ``der`` at ``origin`` (``https://host:port``) until the returned function is
        called.

        Raises:
            PinError: ``origin`` is not an https origin with an explicit port, or ``der`` is
                empty.
        """
        key = _origin_key(origin)
        if not der:
            raise PinError("no certificate to pin")
        with self._lock:
            self._pins[key] = bytes(der)

        def unpin() -> None:
            with self._lock:
                if self._pins.get(key) == der:
                    del self._pins[key]

        return unpin

    def vouches(
        self, url: QUrl, error_type: QWebEngineCertificateError.Type, chain: Sequence[bytes]
    ) -> bool:
        """Whether the pins accept a certificate error of ``error_type`` for ``url`` whose
        server showed ``chain`` (DER, the server's own certificate first)."""
        if url.scheme() != "https" or error_type != _UNTRUSTED_ISSUER or not chain:
            return False
        with self._lock:
            pinned = self._pins.get((url.host().lower(), url.port()))
        return pinned is not None and chain[0] == pinned

    def vouches_for(self, error: QWebEngineCertificateError) -> bool:
        chain = [bytes(c.toDer().data()) for c in error.certificateChain()]
        return self.vouches(error.url(), error.type(), chain)

    def attach(self, page: QWebEnginePage, _tab: TabContext) -> None:
        """The page hook: ``page`` consults these pins on certificate errors."""
        trust = getattr(page, "trust_pinned", None)
        if callable(trust):
            trust(self)


def _origin_key(origin: str) -> tuple[str, int]:
    parts = urlsplit(origin)
    try:
        port = parts.port
    except ValueError as e:
        raise PinError(f"not an origin: {origin[:200]!r}") from e
    if parts.scheme != "https" or not parts.hostname or port is None or parts.path not in ("", "/"):
        raise PinError(f"not an https origin with a port: {origin[:200]!r}")
    return parts.hostname.lower(), port
