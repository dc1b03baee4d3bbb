"""The ``monetization`` feature of Permissions Policy: the header as an RFC 8941 dictionary (not
a string match: the extension's issue 575), the iframe ``allow`` attribute, and the inherited
policy of a first-level iframe."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ui.webmonetization.permissions_policy import (
    Allowlist,
    InnerList,
    Item,
    SfParseError,
    Token,
    frame_allows,
    parse_allow_attribute,
    parse_dictionary,
    parse_header,
    top_level_allows,
)

SELF = "https://news.example"
OTHER = "https://widgets.example:8443"


def allowlist(*origins: str) -> Allowlist:
    return Allowlist(origins=frozenset(origins))


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("monetization=()", allowlist()),
        ("monetization=*", Allowlist(everyone=True)),
        ("monetization=self", allowlist(SELF)),
        ("monetization=(self)", allowlist(SELF)),
        ('monetization=(self "https://widgets.example:8443")', allowlist(SELF, OTHER)),
        ('monetization=("https://widgets.example:8443/some/path")', allowlist(OTHER)),
        ('monetization=(  "https://widgets.example:8443"   self  )', allowlist(SELF, OTHER)),
        ("monetization=(* self)", Allowlist(everyone=True)),
        ("geolocation=(), monetization=(),camera=*", allowlist()),
        ("monetization=*, monetization=()", allowlist()),  # the last one wins
        ("monetization=();report-to=main", allowlist()),  # parameters change nothing
        ("monetization=(self);a=1, fullscreen", allowlist(SELF)),
        ("monetization=(src)", allowlist()),  # 'src' means nothing in a header
        ('monetization=("not a url" "data:text/plain,x")', allowlist()),
        ("monetization=?1", allowlist()),
        ("monetization", allowlist()),  # boolean true: no allowlist
    ],
)
def test_header_variants(header: str, expected: Allowlist) -> None:
    assert parse_header([header], SELF) == expected


@pytest.mark.parametrize(
    "header",
    [
        "",
        "geolocation=()",
        "Monetization=()",  # keys are lower case: not a dictionary, so ignored entirely
        "monetization='self'",
        "monetization=(self",
        "monetization=(), ",
        'monetization=("unterminated)',
        "monetization=() camera=()",
    ],
)
def test_headers_that_declare_nothing_leave_the_default(header: str) -> None:
    assert parse_header([header], SELF) is None
    assert top_level_allows(parse_header([header], SELF), SELF)


def test_several_header_lines_are_one_field() -> None:
    assert parse_header(["camera=()", "monetization=()"], SELF) == allowlist()
    assert parse_header(["monetization=*", "monetization=(self)"], SELF) == allowlist(SELF)
    assert parse_header(["monetization=(self", ")"], SELF) is None  # split mid-list: invalid


def test_top_level_document() -> None:
    assert top_level_allows(None, SELF)
    assert not top_level_allows(parse_header(["monetization=()"], SELF), SELF)
    assert top_level_allows(parse_header(["monetization=(self)"], SELF), SELF)
    assert not top_level_allows(parse_header([f'monetization=("{OTHER}")'], SELF), SELF)


@pytest.mark.parametrize(
    ("allow", "frame", "expected"),
    [
        ("", OTHER, False),  # default 'self': cross-origin frames get nothing
        ("", SELF, True),  # ... same-origin ones do
        ("monetization", OTHER, True),  # 'src' by default, and the frame is at its src
        ("monetization", "https://elsewhere.example", False),  # navigated away from src
        ("monetization 'src'", OTHER, True),
        ("monetization 'none'", SELF, False),
        ("monetization 'self'", OTHER, False),
        ("monetization *", "https://elsewhere.example", True),
        (f"monetization {OTHER}", OTHER, True),
        ("camera; monetization", OTHER, True),
        ("fullscreen *;  monetization   'SRC'  ", OTHER, True),
        ("monetizations", OTHER, False),
        ("camera *", OTHER, False),
    ],
)
def test_iframe_allow_attribute(allow: str, frame: str, expected: bool) -> None:
    decided = frame_allows(
        parent_origin=SELF, parent_header=None, allow=allow, src_origin=OTHER, frame_origin=frame
    )
    assert decided is expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("monetization=()", False),  # the parent may not: no frame may
        ("monetization=(self)", False),  # the parent's declared policy leaves the frame out
        (f'monetization=(self "{OTHER}")', True),
        ("monetization=*", True),
        ("Monetization=()", True),  # not a dictionary: no declared policy
    ],
)
def test_iframe_under_the_parents_header(header: str, expected: bool) -> None:
    decided = frame_allows(
        parent_origin=SELF,
        parent_header=parse_header([header], SELF),
        allow="monetization",
        src_origin=OTHER,
        frame_origin=OTHER,
    )
    assert decided is expected


def test_allow_attribute_first_directive_counts() -> None:
    assert parse_allow_attribute("monetization 'none'; monetization *", SELF, OTHER) == allowlist()


def test_dictionary_items() -> None:
    parsed = parse_dictionary('a=1, b="x\\"y";p=?0, c=(tok "s" 2.5), d=:aGk=:, e')
    assert parsed["a"] == Item(1)
    assert parsed["b"] == Item('x"y', (("p", False),))
    assert parsed["c"] == InnerList((Item(Token("tok")), Item("s"), Item(2.5)))
    assert parsed["d"] == Item(b"aGk=")
    assert parsed["e"] == Item(True)
    for bad in ("a=1,", "a=1 b=2", 'a="\\q"', "a=1.2345", "A=1", "a=(1,2)", "a=\x01"):
        with pytest.raises(SfParseError):
            parse_dictionary(bad)


# ---- properties -----------------------------------------------------------------------------

hosts = st.from_regex(r"[a-z][a-z0-9]{0,8}\.example", fullmatch=True)
ports = st.one_of(st.none(), st.integers(1, 65535))


@st.composite
def origins(draw: st.DrawFn) -> str:
    host, port = draw(hosts), draw(ports)
    return f"https://{host}" if port in (None, 443) else f"https://{host}:{port}"


members = st.sampled_from(
    ["camera=()", "geolocation=(self)", 'fullscreen=("https://a.example")', "usb=*", "x"]
)
ows = st.sampled_from(["", " ", "  "])
params = st.sampled_from(["", ";report-to=main", ";a=1;b"])


@given(
    items=st.lists(st.one_of(st.just("self"), origins()), max_size=4),
    before=st.lists(members, max_size=3),
    after=st.lists(members, max_size=3),
    gap=ows,
    inner=ows,
    param=params,
)
def test_any_serialisation_of_an_allowlist_parses_to_it(
    items: list[str], before: list[str], after: list[str], gap: str, inner: str, param: str
) -> None:
    serialised = [i if i == "self" else f'"{i}"' for i in items]
    member = f"monetization=({inner}{' '.join(serialised)}{inner}){param}"
    header = f",{gap}".join([*before, member, *after])
    expected = allowlist(*(SELF if i == "self" else i for i in items))
    assert parse_header([header], SELF) == expected
    assert top_level_allows(parse_header([header], SELF), SELF) is ("self" in items)


@given(st.text(max_size=60))
def test_any_text_parses_or_declares_nothing(text: str) -> None:
    result = parse_header([text], SELF)
    assert result is None or isinstance(result, Allowlist)
