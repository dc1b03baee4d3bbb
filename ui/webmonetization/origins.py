"""Origins and URLs as the page API needs them: serialised origins, the https-or-loopback rule,
and the display form of a host (punycode, elided from the front)."""

from __future__ import annotations

from PySide6.QtCore import QUrl

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: QUrl) -> str:
    """The serialised origin ``scheme://host[:port]`` (default ports omitted); ``"null"`` for
    URLs without a host (opaque origins: data:, about:, file:)."""
    scheme = url.scheme().lower()
    host = url.host(QUrl.ComponentFormattingOption.FullyEncoded).lower()
    if not scheme or not host:
        return "null"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    port = url.port(-1)
    if port == -1 or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def is_loopback_host(host: str) -> bool:
    return host.lower() in LOOPBACK_HOSTS


def is_potentially_trustworthy(url: QUrl) -> bool:
    """https, http to a loopback host, or Trickle's own ``trickle:`` pages (the rule for
    handler URLs; with the same-origin rule only Trickle's internal pages can register a
    ``trickle:`` handler — the built-in provider)."""
    scheme = url.scheme().lower()
    if scheme in ("https", "trickle"):
        return True
    return scheme == "http" and is_loopback_host(url.host())


def display_host(url: QUrl, max_chars: int = 48) -> str:
    """The host as ASCII (IDN in punycode, so look-alike letters can't hide) plus the port,
    elided from the front ("…example.com") when longer than ``max_chars`` — the registrable
    end of a host is what matters."""
    host = url.host(QUrl.ComponentFormattingOption.FullyEncoded).lower()
    ace = QUrl.toAce(host)
    shown = bytes(ace.data()).decode("ascii", "replace") if ace.size() else host
    port = url.port(-1)
    if port != -1 and port != _DEFAULT_PORTS.get(url.scheme().lower()):
        shown = f"{shown}:{port}"
    if len(shown) > max_chars:
        shown = "…" + shown[-(max_chars - 1) :]
    return shown


def display_url(url: QUrl, max_chars: int = 80) -> str:
    """``scheme://display_host/path`` (path elided at the end), without user info or query."""
    text = f"{url.scheme()}://{display_host(url)}{url.path(QUrl.ComponentFormattingOption.FullyEncoded)}"
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    return text
