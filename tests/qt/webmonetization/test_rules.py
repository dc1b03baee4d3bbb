"""The pure rules (no page): URL/origin display, argument validation, dismissals, scripts."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtWebEngineCore import QWebEngineScript

from tests.qt.webmonetization.conftest import FakeClock
from ui.webmonetization.consent import MAX_SHOWN_NAME, shown_name
from ui.webmonetization.errors import PageError
from ui.webmonetization.monetize import parse_amount, validate_monetize
from ui.webmonetization.origins import display_host, origin_of
from ui.webmonetization.register import Answer, DismissalTracker, validate_register
from ui.webmonetization.scripts import (
    BRIDGE_SCRIPT_NAME,
    FACADE_SCRIPT_NAME,
    WebMonetizationProfileInstaller,
    WebMonetizationScripts,
)


def test_display_host_is_punycode_and_elided_from_the_front() -> None:
    assert display_host(QUrl("https://bücher.example/")) == "xn--bcher-kva.example"
    long = "a" * 60 + "." + "b" * 40 + ".evil.example"
    shown = display_host(QUrl(f"https://{long}:8443/"))
    assert shown.startswith("…") and shown.endswith(".evil.example:8443")
    assert len(shown) <= 48


def test_origins() -> None:
    assert origin_of(QUrl("https://a.example:443/x")) == "https://a.example"
    assert origin_of(QUrl("http://127.0.0.1:8080/x?y#z")) == "http://127.0.0.1:8080"
    assert origin_of(QUrl("data:text/html,hi")) == "null"


@pytest.mark.parametrize(
    ("uri", "name"),
    [
        ("http://example.com/h", "SecurityError"),  # http, not loopback
        ("https://other.example/h", "SecurityError"),  # cross-origin
        ("ftp://a.example/h", "SecurityError"),
        ("", "TypeError"),
    ],
)
def test_register_rules(uri: str, name: str) -> None:
    with pytest.raises(PageError) as info:
        validate_register({"name": "x", "handlerUri": uri}, QUrl("https://a.example/"), True)
    assert info.value.name == name


def test_register_accepts_same_origin_https_and_loopback_http() -> None:
    req = validate_register(
        {"name": "x", "handlerUri": "/h#frag"}, QUrl("https://a.example/p"), True
    )
    assert (req.origin, req.handler_uri) == ("https://a.example", "https://a.example/h")
    local = validate_register(
        {"name": "x", "handlerUri": "http://localhost:9/h"}, QUrl("http://localhost:9/"), True
    )
    assert local.handler_uri == "http://localhost:9/h"
    with pytest.raises(PageError) as info:
        validate_register({"name": "x", "handlerUri": "/h"}, QUrl("https://a.example/"), False)
    assert info.value.name == "NotAllowedError"


def test_monetize_rules() -> None:
    secret = base64.b64encode(bytes(32)).decode()
    ok = validate_monetize({"destinationAccount": "g.site.abc", "sharedSecret": secret})
    assert ok.shared_secret == bytes(32)
    assert "sharedSecret" not in repr(ok) and secret not in repr(ok)
    urlsafe = base64.urlsafe_b64encode(b"\xff" * 32).decode().rstrip("=")
    assert validate_monetize(
        {"destinationAccount": "g.a", "sharedSecret": urlsafe}
    ).shared_secret == (b"\xff" * 32)
    cases: list[tuple[Any, str]] = [
        (None, "TypeError"),
        ({"destinationAccount": 1, "sharedSecret": secret}, "TypeError"),
        ({"destinationAccount": "nope", "sharedSecret": secret}, "InvalidAddressError"),
        (
            {"destinationAccount": "g.a", "sharedSecret": base64.b64encode(bytes(31)).decode()},
            "InvalidSharedSecretError",
        ),
        ({"destinationAccount": "g.a", "sharedSecret": "!" * 44}, "InvalidSharedSecretError"),
    ]
    for args, name in cases:
        with pytest.raises(PageError) as info:
            validate_monetize(args)
        assert info.value.name == name


def test_amounts() -> None:
    assert parse_amount("18446744073709551615") == 2**64 - 1
    for bad, name in [
        ("18446744073709551616", "RangeError"),
        ("-1", "TypeError"),
        ("1.5", "TypeError"),
        (5, "TypeError"),
        ("", "TypeError"),
    ]:
        with pytest.raises(PageError) as info:
            parse_amount(bad)
        assert info.value.name == name


def test_shown_name_is_one_capped_line() -> None:
    assert shown_name("A\nB\u202eC\tD") == "A B C D"
    assert len(shown_name("x" * 10_000)) == MAX_SHOWN_NAME


def test_three_dismissals_block_for_the_cooldown() -> None:
    clock = FakeClock()
    tracker = DismissalTracker(clock)
    for _ in range(2):
        tracker.record("https://a", Answer.DECLINED)
    tracker.record("https://a", Answer.CANCELLED)  # navigation is not the user's answer
    assert not tracker.is_blocked("https://a")
    tracker.record("https://a", Answer.DECLINED)
    assert tracker.is_blocked("https://a")
    assert not tracker.is_blocked("https://b")
    clock.advance(hours=24)
    assert not tracker.is_blocked("https://a")


def test_scripts_are_named_world_scoped_and_replaced_not_duplicated(env: Any) -> None:
    WebMonetizationProfileInstaller().install(env.profile)  # a second time
    collection = env.profile.scripts()
    [facade] = collection.find(FACADE_SCRIPT_NAME)
    [bridge] = collection.find(BRIDGE_SCRIPT_NAME)
    assert facade.worldId() == QWebEngineScript.ScriptWorldId.MainWorld
    assert facade.runsOnSubFrames()
    assert bridge.worldId() == QWebEngineScript.ScriptWorldId.ApplicationWorld
    assert bridge.runsOnSubFrames()  # it relays first-level iframes' links to the top
    for s in (facade, bridge):
        assert s.injectionPoint() == QWebEngineScript.InjectionPoint.DocumentCreation
    a, b = WebMonetizationScripts.generate(), WebMonetizationScripts.generate()
    assert a.nonce != b.nonce
    assert a.nonce in a.facade_source and a.nonce in a.bridge_source
