"""Address bar text → where to go (pure function; no window needed)."""

from __future__ import annotations

import pytest

from ui.browser import urls
from ui.browser.scheme import query_value


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("example.com", "https://example.com"),
        ("  example.com/a?b=1#c  ", "https://example.com/a?b=1#c"),
        ("sub.example.co.uk:8443", "https://sub.example.co.uk:8443"),
        ("http://example.com/", "http://example.com/"),
        ("https://example.com/x", "https://example.com/x"),
        ("localhost:8000/x", "http://localhost:8000/x"),
        ("localhost", "http://localhost"),
        ("127.0.0.1:9000", "http://127.0.0.1:9000"),
        ("[::1]:8080/", "http://[::1]:8080/"),
        ("trickle:start", "trickle://start/"),
        ("trickle://error/certificate", "trickle://error/certificate"),
        ("about:blank", "about:blank"),
    ],
)
def test_addresses(typed: str, expected: str) -> None:
    target = urls.parse(typed)
    assert target is not None and target.understood
    assert target.url.toString() == expected


@pytest.mark.parametrize(
    "typed",
    [
        "foo",
        "pay the sites",
        "example.com/a b",
        "javascript:alert(1)",
        "file:///etc/passwd",
        "data:text/html,<b>x</b>",
        "mailto:a@example.com",
        "http://",
        "example.com:99999",
    ],
)
def test_not_addresses_go_to_the_explaining_page(typed: str) -> None:
    target = urls.parse(typed)
    assert target is not None and not target.understood
    assert target.url.scheme() == "trickle" and target.url.host() == "error"
    assert target.url.path() == "/not-a-url"
    assert query_value(target.url, "q") == typed


def test_blank_input_goes_nowhere() -> None:
    assert urls.parse("   ") is None
