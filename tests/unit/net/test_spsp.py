"""SPSP client and server against each other on loopback, and payment-pointer resolution."""

from __future__ import annotations

import asyncio
import base64
import os

import pytest
from aiohttp import web

from wallet.net.spsp import (
    InvalidPaymentPointerError,
    ReceiptRequest,
    SpspError,
    parse_spsp_body,
    query,
    resolve_receiver,
    spsp_app,
)


@pytest.mark.parametrize(
    ("pointer", "url"),
    [
        ("$example.com", "https://example.com/.well-known/pay"),
        ("$example.com/", "https://example.com/.well-known/pay"),
        ("$example.com/invoices/12345", "https://example.com/invoices/12345"),
        ("$bob.example.com", "https://bob.example.com/.well-known/pay"),
        ("$example.com/bob", "https://example.com/bob"),
        ("https://example.com/spsp/alice", "https://example.com/spsp/alice"),
        ("http://127.0.0.1:8080/pay", "http://127.0.0.1:8080/pay"),
    ],
)
def test_resolution_follows_rfc26(pointer: str, url: str) -> None:
    assert resolve_receiver(pointer) == url


@pytest.mark.parametrize(
    "bad",
    [
        "$",
        "$example.com:8080/x",
        "$user@example.com",
        "$example.com/a?b=c",
        "$example.com/#x",
        "$exämple.com",
        "http://example.com/pay",
        "ftp://example.com",
        "example.com",
        "https:///nohost",
    ],
)
def test_invalid_receivers(bad: str) -> None:
    with pytest.raises(InvalidPaymentPointerError):
        resolve_receiver(bad)


def test_body_parsing() -> None:
    secret = os.urandom(32)
    b64url = base64.urlsafe_b64encode(secret).decode().rstrip("=")
    body = f'{{"destination_account": "test.bob", "shared_secret": "{b64url}", "x": 1}}'
    parsed = parse_spsp_body(body.encode())
    assert parsed.shared_secret == secret and parsed.destination_account == "test.bob"
    assert secret.hex() not in repr(parsed)
    for bad in (
        b"nope",
        b"[]",
        b'{"destination_account": "bad", "shared_secret": "AAAA"}',
        b'{"destination_account": "test.a", "shared_secret": 5}',
        b'{"destination_account": "test.a", "shared_secret": "AAAA"}',
        b'{"destination_account": "test.a", "shared_secret": "!!!"}',
    ):
        with pytest.raises(SpspError):
            parse_spsp_body(bad)


def test_query_against_our_server() -> None:
    seen: list[ReceiptRequest | None] = []

    def credentials(receipt: ReceiptRequest | None) -> tuple[str, bytes]:
        seen.append(receipt)
        return f"test.receiver.c{len(seen)}", bytes([len(seen)]) * 32

    async def main() -> None:
        runner = web.AppRunner(spsp_app(credentials))
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        try:
            first = await query(f"http://127.0.0.1:{port}/.well-known/pay")
            assert first.destination_account == "test.receiver.c1"
            assert first.shared_secret == b"\x01" * 32
            assert not first.receipts_enabled
            receipt = ReceiptRequest(os.urandom(16), os.urandom(32))
            second = await query(f"http://127.0.0.1:{port}/", receipt=receipt)
            assert second.destination_account == "test.receiver.c2"
            assert second.receipts_enabled
            assert seen == [None, receipt]
            with pytest.raises(SpspError, match="HTTP 404"):
                await query(f"http://127.0.0.1:{port}/nobody")
        finally:
            await runner.cleanup()
        with pytest.raises(SpspError, match="cannot reach"):
            await query(f"http://127.0.0.1:{port}/")

    asyncio.run(main())
