"""A document's response policy: known from the HTTP cache first, from Qt when its load ends;
the link starts that waited run once it is known, and all of them run again if Qt's differs.
An iframe's own headers (read from the cache by bridge.js) restrict it."""

from __future__ import annotations

import pytest

from ui.webmonetization.link_policy import (
    FrameInfo,
    ResponsePolicy,
    parse_frame,
    parse_headers,
    refusal,
)
from ui.webmonetization.response_policy import MAX_HELD_LINKS, DocumentResponse

URL = "https://news.example/today"
REFUSING = {"Permissions-Policy": ["monetization=()"]}


def started(response: DocumentResponse, *links: str) -> list[bool]:
    """Each link's start: True when it must wait for the policy."""
    return [response.hold(link, f"start {link}") for link in links]


def test_starts_wait_until_the_cache_tells_and_qt_agreeing_changes_nothing() -> None:
    response = DocumentResponse()
    assert started(response, "l1", "l2") == [True, True]
    assert response.cached(REFUSING, URL) == ["start l1", "start l2"]
    refusing = response.policy
    assert refusing is not None and refusing.permissions is not None
    assert started(response, "l3") == [False]  # decided at once
    assert response.ended(REFUSING, URL) == []  # the same policy: nothing to decide again
    assert response.policy == refusing


def test_qt_differing_from_the_cache_decides_every_link_again() -> None:
    response = DocumentResponse()
    started(response, "l1")
    response.cached({}, URL)
    response.drop("l1")  # stopped: never decided again
    started(response, "l2", "l3")
    assert response.ended(REFUSING, URL) == ["start l2", "start l3"]
    assert response.cached({}, URL) == []  # Qt's word is final
    assert response.ended({}, URL) == []


def test_qt_first_then_the_cache_is_not_asked() -> None:
    response = DocumentResponse()
    started(response, "l1")
    assert response.ended(REFUSING, URL) == ["start l1"]
    assert response.cached({}, URL) == []
    assert response.policy is not None and response.policy.permissions is not None


def test_a_load_without_headers_keeps_what_the_cache_said_or_the_previous_document() -> None:
    response = DocumentResponse()
    response.cached(REFUSING, URL)
    assert response.ended(None, None) == []  # stopped: the cache's policy stands
    refusing = response.policy
    response.navigating()  # a 204 next: the document stays, and so does its policy
    assert started(response, "l1") == [True]
    assert response.ended(None, None) == ["start l1"]
    assert response.policy == refusing


def test_a_new_document_without_load_started_forgets_the_policy_unless_qt_gave_its_own() -> None:
    response = DocumentResponse()
    response.cached(REFUSING, URL)
    started(response, "l1")
    response.new_document()  # a navigation during a load: Qt says no loadStarted
    assert response.policy is None
    assert started(response, "l1") == [True]
    response.ended({}, URL)  # this navigation's load ended before its document said hello
    response.new_document()
    assert response.policy == ResponsePolicy()


def test_at_most_so_many_starts_are_kept() -> None:
    response = DocumentResponse()
    started(response, *(f"l{n}" for n in range(MAX_HELD_LINKS + 5)))
    assert len(response.cached({}, URL)) == MAX_HELD_LINKS


# ---- an iframe's own headers ------------------------------------------------------------------

TOP = "https://news.example"
WIDGET = "https://widget.example"
HREF = "https://wallet.example/bob"


def frame_with(headers: object) -> FrameInfo:
    frame = parse_frame(
        {"origin": WIDGET, "src": WIDGET, "allow": "monetization", "headers": headers}
    )
    assert frame is not None
    return frame


def test_an_iframes_own_headers_restrict_it() -> None:
    no_own = frame_with(None)
    assert refusal(ResponsePolicy(), TOP, HREF, [], no_own) is None
    refused = refusal(
        ResponsePolicy(), TOP, HREF, [], frame_with({"permissions-policy": ["monetization=()"]})
    )
    assert refused is not None and not refused.error and "this frame" in refused.words
    blocked = refusal(
        ResponsePolicy(),
        TOP,
        HREF,
        [],
        frame_with({"content-security-policy": ["monetization-src 'none'"]}),
    )
    assert blocked is not None and blocked.error
    own_self = frame_with({"permissions-policy": ["monetization=(self)"]})
    assert refusal(ResponsePolicy(), TOP, HREF, [], own_self) is None


@pytest.mark.parametrize(
    "value",
    [
        None,
        "monetization=()",
        {"permissions-policy": "monetization=()"},
        {"permissions-policy": [1]},
        {"permissions-policy": ["x" * 5000]},
        {"content-security-policy": ["a"] * 9},
    ],
)
def test_headers_out_of_shape_are_not_known(value: object) -> None:
    assert parse_headers(value) is None


def test_other_headers_are_left_out() -> None:
    headers = {"permissions-policy": ["monetization=()"], "set-cookie": ["a=b"]}
    assert parse_headers(headers) == {"permissions-policy": ["monetization=()"]}
