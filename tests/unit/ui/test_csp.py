"""CSP ``monetization-src`` (with its ``default-src`` fallback) for a link's href, matched as
CSP Level 3 matches URLs against source lists."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ui.webmonetization.csp import allows, parse_header, parse_serialized_policy, url_matches

SELF = "https://news.example"
WALLET = "https://wallet.example/alice"


@pytest.mark.parametrize(
    ("policy", "expected"),
    [
        ("", True),
        ("script-src 'none'", True),  # no monetization-src, no default-src: not governed
        ("monetization-src 'none'", False),
        ("monetization-src https://wallet.example", True),
        ("monetization-src https://wallet.example/", True),
        ("monetization-src https://wallet.example/alice", True),
        ("monetization-src https://wallet.example/bob", False),
        ("monetization-src https://wallet.example/al", False),
        ("monetization-src https://wallet.example/alice/", True),  # a prefix, as CSP3 says
        ("monetization-src wallet.example", True),
        ("monetization-src *.wallet.example", False),  # subdomains only
        ("monetization-src *.example", True),
        ("monetization-src https://*.wallet.example", False),
        ("monetization-src *", True),
        ("monetization-src https:", True),
        ("monetization-src http:", True),  # an upgrade is allowed
        ("monetization-src wss:", True),  # CSP3: wss: covers https:
        ("monetization-src ftp:", False),
        ("monetization-src 'self'", False),
        ("monetization-src 'self' https://wallet.example", True),
        ("monetization-src http://wallet.example", True),
        ("monetization-src https://wallet.example:8443", False),
        ("monetization-src https://wallet.example:*", True),
        ("monetization-src https://wallet.example:443", True),
        ("monetization-src 'unsafe-inline' 'nonce-abc'", False),
        ("MONETIZATION-SRC https://WALLET.example", True),
        ("default-src 'self'", False),
        ("default-src 'self'; monetization-src https://wallet.example", True),
        ("monetization-src https://wallet.example; default-src 'none'", True),
        ("monetization-src 'none'; monetization-src *", False),  # the first one counts
        ("default-src https://other.example", False),
    ],
)
def test_one_policy(policy: str, expected: bool) -> None:
    assert allows([parse_serialized_policy(policy)], WALLET, SELF) is expected


def test_every_policy_must_allow() -> None:
    header = parse_header(["monetization-src *, monetization-src https://other.example"])
    assert len(header) == 2
    assert not allows(header, WALLET, SELF)
    both = parse_header(["default-src *", "monetization-src https://wallet.example"])
    assert allows(both, WALLET, SELF)


def test_self_matches_the_documents_origin_and_its_upgrade() -> None:
    assert url_matches("https://news.example/w", ["'self'"], SELF)
    assert url_matches("https://news.example/w", ["'self'"], "http://news.example")
    assert not url_matches("http://news.example/w", ["'self'"], SELF)
    assert not url_matches("https://news.example:8443/w", ["'self'"], SELF)
    assert url_matches("https://sub.news.example/w", ["*.news.example"], SELF)


def test_paths_match_decoded() -> None:
    assert url_matches("https://w.example/al%69ce", ["https://w.example/alice"], SELF)
    assert url_matches("https://w.example/pay/alice", ["https://w.example/pay/"], SELF)
    assert not url_matches("https://w.example/payalice", ["https://w.example/pay/"], SELF)


def test_bad_urls_match_nothing() -> None:
    assert not url_matches("https://w.example:99999/", ["*"], SELF)
    assert not url_matches("https://w.example/", [], SELF)


@given(
    st.lists(st.sampled_from(["script-src 'self'", "img-src *", "style-src a.example"])),
    st.sampled_from(["monetization-src", "Monetization-Src", "default-src"]),
    st.sampled_from([" ", "  ", "\t"]),
)
def test_other_directives_and_spacing_change_nothing(
    others: list[str], name: str, space: str
) -> None:
    for source, expected in (("https://wallet.example", True), ("https://x.example", False)):
        text = f";{space}".join([*others, f"{name}{space}{source}"])
        assert allows([parse_serialized_policy(text)], WALLET, SELF) is expected
