"""Which site a document's payments belong to, by HTML's rules — never a shared "null".

HTML §7.1 ("Origins"): a ``blob:`` URL's origin is that of the URL it was created under (the
"blob URL entry"'s environment; for a URL ``blob:https://a.example/uuid`` the inner URL's
origin); ``about:blank`` and ``about:srcdoc`` documents inherit the origin of the document that
created them; ``data:`` URLs and sandboxed documents (the ``sandbox`` attribute or CSP
``sandbox`` without ``allow-same-origin``) get an *opaque* origin, which serialises as
``"null"`` and is never same-origin with anything.

The browser side reports the document's URL and the origin the document itself has
(``self.origin``, read in an isolated world the page cannot reach). :func:`document_origin`
accepts that origin only where HTML's rules allow it for that URL, and refuses opaque origins
with :class:`~wallet.payments.errors.OriginNotAllowedError`: their payments would have no site
whose block, pause and caps could apply.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from wallet.payments.errors import OriginNotAllowedError

__all__ = ["document_origin", "origin_of_url"]

_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# about: documents that inherit their creator's origin (HTML: "about:blank", "about:srcdoc").
_INHERITING = frozenset({"about:blank", "about:srcdoc"})


def origin_of_url(url: str) -> str | None:
    """The serialised tuple origin ``scheme://host[:port]`` of a hierarchical URL (default
    ports omitted, ``blob:`` resolved to its inner URL); ``None`` for an opaque origin."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme == "blob":
        inner = url.strip()[len("blob:") :]
        inner_scheme = urlsplit(inner).scheme.lower()
        # HTML: only a blob URL whose inner URL is http(s) (or file) has a tuple origin.
        return origin_of_url(inner) if inner_scheme in ("http", "https") else None
    host = (parts.hostname or "").lower()
    if not scheme or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS.get(scheme):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def document_origin(url: str, reported: str | None) -> str:
    """The site a document's payments are charged to.

    Args:
        url: the document's URL.
        reported: the origin the document has (``self.origin``), as its browser reports it.

    Raises:
        OriginNotAllowedError: the document's origin is opaque (``data:``, sandboxed), or the
            reported origin does not agree with the URL.
    """
    base = url.strip().split("#", 1)[0].split("?", 1)[0].lower()
    if reported is None or reported == "null":
        raise OriginNotAllowedError(
            "this document has an opaque origin (data: URL or sandboxed): it cannot be paid"
        )
    claimed = origin_of_url(reported)
    if claimed is None or claimed != reported.rstrip("/").lower():
        raise OriginNotAllowedError("this document's origin is not a web origin")
    if base in _INHERITING:
        return claimed  # created by a document of that origin, whose rules apply
    own = origin_of_url(url)
    if own is None:
        raise OriginNotAllowedError(
            "this document has an opaque origin (data: URL or sandboxed): it cannot be paid"
        )
    if own != claimed:
        raise OriginNotAllowedError("the document's origin does not match its address")
    return own
