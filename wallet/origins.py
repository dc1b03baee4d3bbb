"""Site origins typed by people or scripts: required, and normalised as browsers serialise them.

``normalise_origin("HTTPS://News.Example:443/page")`` is ``"https://news.example"`` — the key the
browser records a site under (scheme and host lower-case, IDN as punycode, default port left
out, path dropped). A bare host is refused with the origin it probably means. No Qt.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from wallet.errors import WalletError

_DEFAULT_PORTS = {"http": 80, "https": 443}


class OriginError(WalletError):
    """Text that is not a site's origin (``https://host[:port]``)."""


def normalise_origin(text: str) -> str:
    """``text`` (an origin or a URL) as the serialised origin ``scheme://host[:port]``.

    Raises:
        OriginError: no http(s) scheme, no host, or a port out of range.
    """
    raw = text.strip()
    if "://" not in raw:
        guess = f"https://{raw.split('/', 1)[0]}" if raw and " " not in raw else None
        hint = f"; did you mean {guess}?" if guess else ""
        raise OriginError(f"{raw!r} is not an origin: write it with its scheme{hint}")
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError as e:
        raise OriginError(f"{raw!r} is not an origin: {e}") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise OriginError(f"{raw!r} is not a web site's origin (http or https)")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise OriginError(f"{raw!r} has no host")
    if ":" in host:
        host = f"[{host}]"
    else:
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError as e:
            raise OriginError(f"{raw!r} has an invalid host name") from e
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


__all__ = ["OriginError", "normalise_origin"]
