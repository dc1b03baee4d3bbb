"""Whether a document's policy lets one of its monetization links be paid (no Qt).

WICG Web Monetization, the link's fetch setup steps: "If element's node document is not allowed
to use the "monetization" feature, return false" — no fetch, no event (:mod:`.permissions_policy`);
and its ``monetization-src`` pre-request check: a blocked fetch is a network error, so the link
gets ``error`` (:mod:`.csp`).

What is known where: the top-level document's response headers come from QtWebEngine
(``QWebEngineLoadingInfo.responseHeaders()``, main frame only, when the load ends) or, sooner,
from the HTTP cache (:mod:`.response_policy`); its ``<meta>`` policies and an iframe's ``allow``
attribute, src and origin come from bridge.js. QtWebEngine reports no iframe's response
headers; bridge.js in the iframe reads its own document's response from the HTTP cache
(:func:`parse_headers`), so an iframe's own ``Permissions-Policy`` and CSP headers count when
its response was stored — not when it said ``no-store``: then its ``<meta>`` policies and its
parent's header and ``allow`` attribute are all that is known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from ui.webmonetization import csp
from ui.webmonetization.permissions_policy import (
    Allowlist,
    frame_allows,
    header_values,
    parse_header,
    serialized_origin,
    top_level_allows,
)

__all__ = ["FrameInfo", "Refusal", "ResponsePolicy", "parse_frame", "parse_headers", "refusal"]

MAX_POLICIES = 8
MAX_POLICY_CHARS = 4096
POLICY_HEADERS = ("permissions-policy", "content-security-policy")


@dataclass(frozen=True, slots=True)
class ResponsePolicy:
    """What the top-level document's response headers declare."""

    permissions: Allowlist | None = None
    csp: tuple[csp.Policy, ...] = ()

    @classmethod
    def from_headers(cls, headers: Mapping[str, list[str]], origin: str) -> ResponsePolicy:
        """From the response's header lines (name → values; names in any case). Only enforced
        CSP counts (``Content-Security-Policy-Report-Only`` blocks nothing)."""
        return cls(
            parse_header(header_values(headers, "Permissions-Policy"), origin),
            tuple(csp.parse_header(header_values(headers, "Content-Security-Policy"))),
        )


@dataclass(frozen=True, slots=True)
class FrameInfo:
    """A first-level iframe, as the top-level bridge.js saw it."""

    origin: str  # its document's origin (the window message's origin)
    src: str  # the origin of its src attribute
    allow: str  # its allow attribute
    own: ResponsePolicy = ResponsePolicy()  # its own response's headers, when known


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a link is not paid, in words; ``error``: fire ``error`` at the link."""

    words: str
    error: bool


def parse_frame(value: object) -> FrameInfo | None:
    """A ``FrameInfo`` from bridge.js's ``frame`` field; ``None`` if it is malformed."""
    if not isinstance(value, dict):
        return None
    origin, src, allow = value.get("origin"), value.get("src"), value.get("allow")
    if not (isinstance(origin, str) and isinstance(src, str) and isinstance(allow, str)):
        return None
    if len(allow) > MAX_POLICY_CHARS or serialized_origin(origin) != origin:
        return None
    own = ResponsePolicy.from_headers(parse_headers(value.get("headers")) or {}, origin)
    return FrameInfo(origin, src if serialized_origin(src) == src else "null", allow, own)


def parse_headers(value: object) -> dict[str, list[str]] | None:
    """The policy headers bridge.js read from a response (``{name: [value, ...]}``, names in
    lower case); ``None`` (not known) if they are malformed or too long to have been read
    whole — never a policy with a part left out."""
    if not isinstance(value, dict):
        return None
    out: dict[str, list[str]] = {}
    for name in POLICY_HEADERS:
        if name not in value:
            continue
        values = value[name]
        if not isinstance(values, list) or len(values) > MAX_POLICIES:
            return None
        if not all(isinstance(v, str) and len(v) <= MAX_POLICY_CHARS for v in values):
            return None
        out[name] = values
    return out


def meta_policies(value: object) -> list[csp.Policy]:
    """The ``<meta>`` CSP policies bridge.js read (each one serialized policy)."""
    if not isinstance(value, list):
        return []
    texts = [v for v in value if isinstance(v, str) and len(v) <= MAX_POLICY_CHARS]
    return [csp.parse_serialized_policy(t) for t in texts[:MAX_POLICIES]]


def refusal(
    response: ResponsePolicy,
    site: str,
    href: str,
    meta: list[csp.Policy],
    frame: FrameInfo | None,
) -> Refusal | None:
    """Why the link ``href`` of the top-level document of ``site`` (or of its first-level
    ``frame``) may not be paid; ``None`` if it may."""
    if frame is None:
        allowed = top_level_allows(response.permissions, site)
        policies = [*response.csp, *meta]
        origin = site
    else:
        # inherited from the parent (its header, the allow attribute), then the frame's own
        # declared policy (its header) must allow its origin too
        allowed = frame_allows(
            parent_origin=site,
            parent_header=response.permissions,
            allow=frame.allow,
            src_origin=frame.src,
            frame_origin=frame.origin,
        ) and top_level_allows(frame.own.permissions, frame.origin)
        policies = [*frame.own.csp, *meta]
        origin = frame.origin
    if not allowed:
        where = "this page" if frame is None else "this frame"
        words = f"The site's Permissions Policy does not allow monetization in {where}."
        return Refusal(words, error=False)
    if not csp.allows(policies, href, origin):
        words = "The site's Content Security Policy (monetization-src) blocks this link."
        return Refusal(words, error=True)
    return None
