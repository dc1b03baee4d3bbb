"""Which site a document's payments belong to: HTML's origin rules, never a shared "null"."""

from __future__ import annotations

import pytest

from wallet.payments import OriginNotAllowedError, document_origin, origin_of_url


@pytest.mark.parametrize(
    ("url", "reported", "site"),
    [
        ("https://blog.example/post?x=1#y", "https://blog.example", "https://blog.example"),
        ("https://blog.example:443/", "https://blog.example", "https://blog.example"),
        ("http://127.0.0.1:8080/a", "http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        ("http://[::1]:9/a", "http://[::1]:9", "http://[::1]:9"),
        ("trickle://demo/blog", "trickle://demo", "trickle://demo"),
        # blob: documents are their creator's origin
        (
            "blob:https://blog.example/4f0e5c1a-9d4b-4c8e-8d0f-0a1b2c3d4e5f",
            "https://blog.example",
            "https://blog.example",
        ),
        # about:blank / about:srcdoc inherit their creator's origin
        ("about:blank", "https://blog.example", "https://blog.example"),
        ("about:srcdoc", "https://blog.example", "https://blog.example"),
    ],
)
def test_a_document_pays_for_its_real_site(url: str, reported: str, site: str) -> None:
    assert document_origin(url, reported) == site


@pytest.mark.parametrize(
    ("url", "reported"),
    [
        ("data:text/html,<p>hi", "null"),  # data: is opaque
        ("https://blog.example/sandboxed", "null"),  # a sandboxed document (CSP sandbox)
        ("about:blank", "null"),  # opened by an opaque document
        ("about:blank", None),
        ("blob:null/4f0e5c1a", "null"),  # created by an opaque document
        ("https://blog.example/", "https://other.example"),  # disagrees with its URL
        ("blob:https://blog.example/4f0e", "https://other.example"),
        ("https://blog.example/", "https://blog.example/path"),  # not an origin
        ("about:blank", "javascript:alert(1)"),
    ],
)
def test_opaque_or_inconsistent_origins_are_refused(url: str, reported: str | None) -> None:
    with pytest.raises(OriginNotAllowedError) as caught:
        document_origin(url, reported)
    assert type(caught.value).js_name == "NotAllowedError"


def test_origin_of_url() -> None:
    assert origin_of_url("HTTPS://Blog.Example:443/a") == "https://blog.example"
    assert origin_of_url("https://blog.example:8443/") == "https://blog.example:8443"
    assert origin_of_url("data:text/plain,x") is None
    assert origin_of_url("https://bad:port/") is None
