"""The ``monetization`` feature of Permissions Policy, as the W3C spec parses it (no Qt).

WICG Web Monetization: "This specification defines a policy-controlled feature identified by
the string "monetization". Its default allowlist is 'self'." A link is fetched only if "element's
node document is allowed to use the "monetization" feature".

Two inputs, two grammars (Permissions Policy §5):

* the ``Permissions-Policy`` response header is a **Structured Field dictionary** (RFC 8941
  §3.2) — ``monetization=()``, ``monetization=*``, ``monetization=(self "https://a.example")``,
  parameters, other members in any order. "If parsing fails, return an empty policy" — a header
  that is not a valid dictionary (an upper-case key, a stray quote) declares nothing. An exact
  string match (the extension's issue 575) gets every one of these wrong;
* the iframe ``allow`` attribute is a *serialized permissions policy*: directives separated by
  ``;``, each ``feature allowlist…`` with ``*``, ``'self'``, ``'src'``, ``'none'`` or origins,
  and ``'src'`` when no allowlist is given.

Chromium parses the header too but drops ``monetization`` ("Unrecognized feature"), so Trickle
decides here, from the headers QtWebEngine reports and the attributes bridge.js reads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

from wallet.payments import origin_of_url

__all__ = [
    "FEATURE",
    "Allowlist",
    "SfParseError",
    "frame_allows",
    "parse_allow_attribute",
    "parse_dictionary",
    "parse_header",
    "serialized_origin",
    "top_level_allows",
]

FEATURE = "monetization"
_SCHEMES = frozenset({"http", "https", "ws", "wss"})


class SfParseError(ValueError):
    """The text is not a valid Structured Field (RFC 8941 says: ignore the whole field)."""


# ---- RFC 8941 Structured Field dictionaries ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Token:
    """An sf-token (``self``, ``*``...); strings are plain ``str``."""

    value: str


BareItem = int | float | str | bytes | bool | Token


@dataclass(frozen=True, slots=True)
class Item:
    value: BareItem
    params: tuple[tuple[str, BareItem], ...] = ()


@dataclass(frozen=True, slots=True)
class InnerList:
    items: tuple[Item, ...]
    params: tuple[tuple[str, BareItem], ...] = ()


_KEY_FIRST = re.compile(r"[a-z*]")
_KEY = re.compile(r"[a-z*][a-z0-9_\-.*]*")
_TOKEN = re.compile(r"[A-Za-z*][!#$%&'*+\-.^_`|~0-9A-Za-z:/]*")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]*)?")
_BYTES = re.compile(r":([A-Za-z0-9+/=]*):")


class _Parser:
    """RFC 8941 §4.2, over one combined field value."""

    def __init__(self, text: str) -> None:
        self.s = text
        self.i = 0

    def peek(self) -> str:
        return self.s[self.i] if self.i < len(self.s) else ""

    def skip(self, chars: str) -> None:
        while self.i < len(self.s) and self.s[self.i] in chars:
            self.i += 1

    def fail(self, what: str) -> SfParseError:
        return SfParseError(f"{what} at character {self.i}")

    def dictionary(self) -> dict[str, Item | InnerList]:
        self.skip(" ")
        members: dict[str, Item | InnerList] = {}
        while self.i < len(self.s):
            key = self.key()
            member: Item | InnerList
            if self.peek() == "=":
                self.i += 1
                member = self.item_or_inner_list()
            else:
                member = Item(True, self.params())
            members.pop(key, None)  # "overwrite": the last one wins, in its own place
            members[key] = member
            self.skip(" \t")
            if self.i >= len(self.s):
                return members
            if self.peek() != ",":
                raise self.fail("expected ','")
            self.i += 1
            self.skip(" \t")
            if self.i >= len(self.s):
                raise self.fail("trailing ','")
        return members

    def key(self) -> str:
        m = _KEY.match(self.s, self.i)
        if m is None:
            raise self.fail("expected a key")
        self.i = m.end()
        return m.group()

    def item_or_inner_list(self) -> Item | InnerList:
        if self.peek() == "(":
            return self.inner_list()
        return Item(self.bare_item(), self.params())

    def inner_list(self) -> InnerList:
        self.i += 1  # "("
        items: list[Item] = []
        while self.i < len(self.s):
            self.skip(" ")
            if self.peek() == ")":
                self.i += 1
                return InnerList(tuple(items), self.params())
            items.append(Item(self.bare_item(), self.params()))
            if self.peek() not in (" ", ")"):
                raise self.fail("expected ' ' or ')'")
        raise self.fail("unterminated inner list")

    def params(self) -> tuple[tuple[str, BareItem], ...]:
        params: dict[str, BareItem] = {}
        while self.peek() == ";":
            self.i += 1
            self.skip(" ")
            key = self.key()
            value: BareItem = True
            if self.peek() == "=":
                self.i += 1
                value = self.bare_item()
            params[key] = value
        return tuple(params.items())

    def bare_item(self) -> BareItem:
        c = self.peek()
        if c == '"':
            return self.string()
        if c == "?":
            if self.s[self.i : self.i + 2] in ("?0", "?1"):
                self.i += 2
                return self.s[self.i - 1] == "1"
            raise self.fail("bad boolean")
        if c == ":":
            m = _BYTES.match(self.s, self.i)
            if m is None:
                raise self.fail("bad byte sequence")
            self.i = m.end()
            return m.group(1).encode("ascii")
        if c == "-" or c.isdigit():
            m = _NUMBER.match(self.s, self.i)
            if m is None:
                raise self.fail("bad number")
            self.i = m.end()
            text = m.group()
            if m.group(1) is None:
                if len(text.lstrip("-")) > 15:
                    raise self.fail("integer too long")
                return int(text)
            whole, frac = text.lstrip("-").split(".")
            if not frac or len(frac) > 3 or len(whole) > 12:
                raise self.fail("bad decimal")
            return float(text)
        m = _TOKEN.match(self.s, self.i)
        if m is None:
            raise self.fail("expected an item")
        self.i = m.end()
        return Token(m.group())

    def string(self) -> str:
        self.i += 1
        out: list[str] = []
        while self.i < len(self.s):
            c = self.s[self.i]
            self.i += 1
            if c == "\\":
                nxt = self.peek()
                if nxt not in ('"', "\\"):
                    raise self.fail("bad escape")
                out.append(nxt)
                self.i += 1
            elif c == '"':
                return "".join(out)
            elif not (" " <= c <= "~"):
                raise self.fail("non-printable character in a string")
            else:
                out.append(c)
        raise self.fail("unterminated string")


def parse_dictionary(text: str) -> dict[str, Item | InnerList]:
    """An RFC 8941 dictionary. Raises :class:`SfParseError` if ``text`` is not one."""
    return _Parser(text.strip(" ")).dictionary()


# ---- allowlists ---------------------------------------------------------------------------------


def serialized_origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an absolute http(s)/ws(s) URL; ``None`` if it has none."""
    try:
        scheme = urlsplit(url.strip()).scheme.lower()
    except ValueError:
        return None
    return origin_of_url(url) if scheme in _SCHEMES else None


@dataclass(frozen=True, slots=True)
class Allowlist:
    """The origins a feature is enabled for: every origin (``*``), or these."""

    everyone: bool = False
    origins: frozenset[str] = frozenset()

    def matches(self, origin: str) -> bool:
        return self.everyone or (origin != "null" and origin in self.origins)


def _allowlist(value: Item | InnerList, self_origin: str) -> Allowlist:
    # Permissions Policy, "parse policy from header": "If value is the token *, or if value is a
    # list which contains the token *, set allowlist to the special value *. [...] If value is
    # the token self, let value be a list containing that token" — for each element, the token
    # self is the container's own origin; a string is parsed as a URL and its (non-opaque) origin
    # allowed. Anything else ("src" in a header, numbers...) allows nobody.
    items = value.items if isinstance(value, InnerList) else (value,)
    origins: set[str] = set()
    for item in items:
        v = item.value
        if v == Token("*"):
            return Allowlist(everyone=True)
        if v == Token("self"):
            origins.add(self_origin)
        elif isinstance(v, str):
            origin = serialized_origin(v)
            if origin is not None:
                origins.add(origin)
    return Allowlist(origins=frozenset(origins))


def parse_header(values: Iterable[str], self_origin: str) -> Allowlist | None:
    """The ``monetization`` allowlist a document's ``Permissions-Policy`` header lines declare
    (combined as one field, RFC 9110 §5.3), or ``None`` if they declare none (absent, or not a
    valid Structured Field dictionary: then the default allowlist applies)."""
    combined = ", ".join(v for v in values if v.strip())
    if not combined:
        return None
    try:
        members = parse_dictionary(combined)
    except SfParseError:
        return None
    member = members.get(FEATURE)
    return None if member is None else _allowlist(member, self_origin)


def parse_allow_attribute(text: str, parent_origin: str, src_origin: str) -> Allowlist | None:
    """The ``monetization`` allowlist an iframe's ``allow`` attribute gives (``None``: none).

    Permissions Policy "parse policy directive": split on ``;``; each directive is a feature name
    and a whitespace-separated allowlist of ``*``, ``'self'``, ``'src'``, ``'none'`` or origins;
    "If targets is empty, the allowlist is 'src'". The first directive for a feature counts.
    """
    for directive in text.split(";"):
        tokens = directive.split()
        if not tokens or tokens[0] != FEATURE:
            continue
        targets = tokens[1:] or ["'src'"]
        origins: set[str] = set()
        for target in targets:
            word = target.lower()
            if word == "*":
                return Allowlist(everyone=True)
            if word == "'self'":
                origins.add(parent_origin)
            elif word == "'src'":
                origins.add(src_origin)
            elif word == "'none'":
                continue
            else:
                origin = serialized_origin(target)
                if origin is not None:
                    origins.add(origin)
        return Allowlist(origins=frozenset(origins - {"null"}))
    return None


# ---- decisions ---------------------------------------------------------------------------------


def top_level_allows(header: Allowlist | None, origin: str) -> bool:
    """Whether a top-level document of ``origin`` may use ``monetization`` (default ``'self'``:
    yes, unless its header's allowlist leaves its own origin out)."""
    return header is None or header.matches(origin)


def frame_allows(
    *,
    parent_origin: str,
    parent_header: Allowlist | None,
    allow: str,
    src_origin: str,
    frame_origin: str,
) -> bool:
    """Whether a first-level iframe's document of ``frame_origin`` may use ``monetization``.

    Permissions Policy, "define an inherited policy for feature in container at origin": disabled
    if the parent may not use it, or the parent's declared policy does not match ``origin``; then
    the container policy (the ``allow`` attribute) decides if it names the feature; else the
    default allowlist ``'self'``: same origin as the parent only.
    """
    if not top_level_allows(parent_header, parent_origin):
        return False
    if parent_header is not None and not parent_header.matches(frame_origin):
        return False
    container = parse_allow_attribute(allow, parent_origin, src_origin)
    if container is not None:
        return container.matches(frame_origin)
    return frame_origin == parent_origin and frame_origin != "null"


def header_values(headers: Mapping[str, list[str]], name: str) -> list[str]:
    """The values of header ``name`` (case-insensitive) in a name → values mapping."""
    wanted = name.lower()
    return [v for k, values in headers.items() if k.lower() == wanted for v in values]
