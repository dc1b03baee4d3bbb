"""CSP ``monetization-src`` for a link's href, as CSP Level 3 matches URLs (no Qt).

WICG Web Monetization: "The monetization-src directive restricts the URLs from which a payment
pointer is loaded [...] If the result of executing "Should fetch directive execute" on name,
monetization-src, and policy is "No", return "Allowed". If the result of executing "Does request
match source list?" [...] is "Does Not Match", return "Blocked"."

"Should fetch directive execute" with the effective directive ``monetization-src`` falls back
to ``default-src``: a policy with neither allows the link. Every *enforced* policy of the
document must allow it (``Content-Security-Policy`` header lines — each may hold several
comma-separated policies — and ``<meta http-equiv="Content-Security-Policy">`` in the head;
``-Report-Only`` policies block nothing). Chromium enforces CSP but ignores the unknown
``monetization-src``, so Trickle checks the link here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit

__all__ = ["Policy", "allows", "parse_header", "parse_serialized_policy", "url_matches"]

DIRECTIVE = "monetization-src"
_FALLBACK = "default-src"
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443, "ftp": 21}
_DIRECTIVE_NAME = re.compile(r"[A-Za-z0-9-]+")
_SCHEME_SOURCE = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_HOST_SOURCE = re.compile(
    r"(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?"
    r"(?P<host>\*|(?:\*\.)?[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*)"
    r"(?::(?P<port>[0-9]+|\*))?"
    r"(?P<path>/[^?#]*)?"
)


@dataclass(frozen=True, slots=True)
class Policy:
    """One policy: directive name (lower case) → its source list. The first occurrence of a
    directive counts ("If policy's directive set contains a directive whose name is directive
    name, continue")."""

    directives: dict[str, tuple[str, ...]]

    def effective_sources(self) -> tuple[str, ...] | None:
        """The source list that governs a monetization fetch; ``None``: none does."""
        for name in (DIRECTIVE, _FALLBACK):
            if name in self.directives:
                return self.directives[name]
        return None


def parse_serialized_policy(text: str) -> Policy:
    """CSP3 §2.2.1 "parse a serialized CSP": ``;``-separated directives, each a name and
    ASCII-whitespace-separated values; names are ASCII case-insensitive."""
    directives: dict[str, tuple[str, ...]] = {}
    for token in text.split(";"):
        parts = token.split()
        if not parts or not _DIRECTIVE_NAME.fullmatch(parts[0]):
            continue
        name = parts[0].lower()
        if name in directives:
            continue
        directives[name] = tuple(parts[1:])
    return Policy(directives)


def parse_header(values: Iterable[str]) -> list[Policy]:
    """CSP3 "parse a response's Content Security Policies": each header line is a serialized
    policy *list* (comma-separated)."""
    return [
        parse_serialized_policy(part)
        for value in values
        for part in value.split(",")
        if part.strip()
    ]


def allows(policies: Iterable[Policy], url: str, self_origin: str) -> bool:
    """Whether every policy allows a monetization fetch of ``url`` from a document of
    ``self_origin`` (``scheme://host[:port]``)."""
    for policy in policies:
        sources = policy.effective_sources()
        if sources is not None and not url_matches(url, sources, self_origin):
            return False
    return True


def url_matches(url: str, sources: Iterable[str], self_origin: str) -> bool:
    """CSP3 §6.7.2.5 "Does url match source list in origin with redirect count" (count 0)."""
    expressions = list(sources)
    if not expressions or (len(expressions) == 1 and expressions[0].lower() == "'none'"):
        return False
    try:
        target = urlsplit(url)
        target.port  # noqa: B018 — raises ValueError on a bad port
        origin = urlsplit(self_origin)
    except ValueError:
        return False
    return any(_expression_matches(e, target, origin) for e in expressions)


def _scheme_part_matches(a: str, b: str) -> bool:
    # "A and B are ASCII case-insensitive matches, or A is http and B https, or A is ws and B
    # is wss, http or https, or A is wss and B https" — an upgrade is allowed, never a downgrade.
    a, b = a.lower(), b.lower()
    return (
        a == b
        or (a == "http" and b == "https")
        or (a == "ws" and b in ("wss", "http", "https"))
        or (a == "wss" and b == "https")
    )


def _host_part_matches(pattern: str, host: str) -> bool:
    pattern, host = pattern.lower(), host.lower()
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])  # a subdomain, never the domain itself
    return pattern == host


def _port_part_matches(pattern: str | None, url: SplitResult) -> bool:
    scheme = url.scheme.lower()
    port = url.port
    if pattern is None:
        # "If input is the empty string: if url's port is the default port for url's scheme"
        return port is None or port == _DEFAULT_PORTS.get(scheme)
    if pattern == "*":
        return True
    wanted = int(pattern)
    actual = port if port is not None else _DEFAULT_PORTS.get(scheme)
    # "If input is 80 and url's port is 443 [and the scheme is https]": the upgrade
    return wanted == actual or (wanted == 80 and actual == 443 and scheme in ("https", "wss"))


def _path_part_matches(pattern: str, path: str) -> bool:
    if not pattern:
        return True
    if pattern == "/" and not path:
        return True
    exact = not pattern.endswith("/")
    want = pattern.split("/")
    have = (path or "/").split("/")
    if not exact:
        want.pop()  # the trailing empty segment
    if len(want) > len(have) or (exact and len(want) != len(have)):
        return False
    return all(unquote(w) == unquote(h) for w, h in zip(want, have, strict=False))


def _expression_matches(expression: str, url: SplitResult, origin: SplitResult) -> bool:
    """CSP3 §6.7.2.8 "Does url match expression in origin with redirect count"."""
    scheme = url.scheme.lower()
    if expression == "*":
        # "If expression is "*": return Matches if url's scheme is an HTTP(S) scheme or ws(s),
        # or is the same as origin's scheme"
        return scheme in ("http", "https", "ws", "wss") or scheme == origin.scheme.lower()
    if (m := _SCHEME_SOURCE.fullmatch(expression)) is not None:
        return _scheme_part_matches(m.group(1), scheme)
    if expression.lower() == "'self'":
        # same origin, or an upgrade of origin's http(s)/ws to https/wss on default ports
        if not origin.hostname or url.hostname is None:
            return False
        if origin.hostname.lower() != url.hostname.lower():
            return False
        o_scheme = origin.scheme.lower()
        o_port = origin.port or _DEFAULT_PORTS.get(o_scheme)
        u_port = url.port or _DEFAULT_PORTS.get(scheme)
        if o_scheme == scheme and o_port == u_port:
            return True
        return (
            _scheme_part_matches(o_scheme, scheme)
            and u_port == _DEFAULT_PORTS.get(scheme)
            and o_port == _DEFAULT_PORTS.get(o_scheme)
        )
    if expression.startswith("'"):
        return False  # nonces, hashes, 'unsafe-…', 'none' among others: no URL matches
    m = _HOST_SOURCE.fullmatch(expression)
    if m is None or url.hostname is None:
        return False
    if m.group("scheme") is not None:
        if not _scheme_part_matches(m.group("scheme"), scheme):
            return False
    elif not _scheme_part_matches(origin.scheme or scheme, scheme):
        return False
    host = m.group("host")
    if host != "*" and not _host_part_matches(host, url.hostname):
        return False
    if not _port_part_matches(m.group("port"), url):
        return False
    return _path_part_matches(m.group("path") or "", url.path)
