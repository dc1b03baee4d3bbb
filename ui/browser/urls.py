"""What the user typed in the address bar → where to go.

Rules, in order:

1. Empty → nothing.
2. A URL with a scheme we open (``http``, ``https``, ``trickle``, ``about:blank``) → as typed.
   Other schemes (``file:``, ``javascript:``, ``data:`` ...) are not opened from the address bar.
3. A host with no scheme (``example.com``, ``example.com/a?b``, ``host:8080``) → ``https://``.
   Exception: loopback (``localhost``, ``127.x.x.x``, ``[::1]``) → ``http://``, because local
   development servers rarely speak TLS and loopback never leaves the machine.
4. Anything else — spaces, no dot in the host, not parseable → the internal "can't open" page,
   which says so and shows the text. The address bar searches for such text instead when
   the user has chosen a search engine (``ui.browser.search``).
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from PySide6.QtCore import QUrl

from ui.browser.scheme import SCHEME, internal_url

OPENABLE_SCHEMES = frozenset({"http", "https", SCHEME})
_HAS_SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")
# host[:port][/...]: a host name, an IPv4 address or a bracketed IPv6 address.
_HOSTLIKE = re.compile(
    r"^(?P<host>\[[0-9a-fA-F:.]+\]|[^\s/:?#\[\]@]+)(?::(?P<port>\d{1,5}))?(?:[/?#]\S*)?$"
)
_HOST_PORT = re.compile(r"^[^:/\s]+:\d")  # "localhost:8080" looks like a scheme but is not


@dataclass(frozen=True, slots=True)
class Target:
    """Where to navigate; ``understood`` is False when ``url`` is the "can't open" page."""

    url: QUrl
    understood: bool


def not_a_url(text: str) -> QUrl:
    return internal_url("error", "/not-a-url", q=text[:2000])


def _is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _scheme_url(text: str) -> Target | None:
    """A URL typed with its scheme; ``None`` if it is not one we open."""
    if text.lower() == "about:blank":
        return Target(QUrl("about:blank"), True)
    url = QUrl(text, QUrl.ParsingMode.StrictMode)
    scheme = url.scheme().lower()
    if not url.isValid() or scheme not in OPENABLE_SCHEMES:
        return None
    if scheme == SCHEME and not url.host():
        # "trickle:start" is short for "trickle://start/" (Chromium normalises it the same way).
        name, _, rest = url.path().partition("/")
        url = internal_url(name, "/" + rest)
    return Target(url, True) if url.host() else None


def parse(text: str) -> Target | None:
    """Turn address-bar text into a navigation target (``None`` for blank input)."""
    text = text.strip()
    if not text:
        return None
    if _HAS_SCHEME.match(text) and not _HOST_PORT.match(text):
        return _scheme_url(text) or Target(not_a_url(text), False)
    match = _HOSTLIKE.match(text)
    if match is None:
        return Target(not_a_url(text), False)
    host = match.group("host")
    port = match.group("port")
    if port is not None and not 0 < int(port) < 65536:
        return Target(not_a_url(text), False)
    loopback = _is_loopback(host)
    if not loopback and "." not in host.strip("."):
        return Target(not_a_url(text), False)
    url = QUrl(("http://" if loopback else "https://") + text, QUrl.ParsingMode.StrictMode)
    if not url.isValid() or not url.host():
        return Target(not_a_url(text), False)
    return Target(url, True)
