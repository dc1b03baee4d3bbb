"""SPSP (RFC 9) and payment pointers (RFC 26): from ``$wallet.example/alice`` to STREAM credentials.

Client side: resolve a payment pointer or SPSP URL, ``GET`` it with
``Accept: application/spsp4+json, application/spsp+json`` and return the ``destination_account``
and ``shared_secret``. Server side: :func:`spsp_response_body` and :func:`spsp_app` build the
endpoint that hands every query its own STREAM credentials (with CORS headers, RFC 9
"SPSP servers SHOULD expose the CORS headers ... on GET and OPTIONS").

Receipts (RFC 39): a client asks for them with ``Receipt-Nonce`` / ``Receipt-Secret`` request
headers (base64); the server passes them to its credential factory.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from aiohttp import web

from wallet.errors import WalletError
from wallet.ilp import is_valid_address
from wallet.net.errors import RequestTimeoutError, TransportError
from wallet.net.http import HttpSession

SPSP_CONTENT_TYPE = "application/spsp4+json"
ACCEPT = "application/spsp4+json, application/spsp+json"
# Redirects an SPSP query follows (GET only, never from https to http: wallet.net.http).
MAX_REDIRECTS = 5
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?")

__all__ = [
    "SPSP_CONTENT_TYPE",
    "InvalidPaymentPointerError",
    "ReceiptRequest",
    "SpspError",
    "SpspResponse",
    "add_spsp_routes",
    "query",
    "resolve_receiver",
    "spsp_app",
    "spsp_response_body",
]


class SpspError(WalletError):
    """The SPSP endpoint could not be queried or answered nonsense."""


class InvalidPaymentPointerError(SpspError, ValueError):
    """Not a payment pointer (``$host/path``) nor an http(s) SPSP URL."""


@dataclass(frozen=True, slots=True)
class SpspResponse:
    """What an SPSP server answers. ``repr`` hides the shared secret."""

    destination_account: str
    shared_secret: bytes = field(repr=False)
    receipts_enabled: bool = False


@dataclass(frozen=True, slots=True)
class ReceiptRequest:
    """RFC 39 receipt parameters a client sends with its query. ``repr`` hides the secret."""

    nonce: bytes
    secret: bytes = field(repr=False)


def resolve_receiver(receiver: str) -> str:
    """The SPSP endpoint URL for a payment pointer or SPSP URL.

    RFC 26: ``"$" host path-abempty`` resolves to ``"https://" host path-abempty``; an empty
    path or ``/`` becomes ``/.well-known/pay``. Userinfo, port, query and fragment are not part
    of a payment pointer. Raw ``https://`` URLs are accepted as they are (RFC 9: "SHOULD be
    supported by SPSP Clients"), ``http://`` only for loopback hosts.

    Raises:
        InvalidPaymentPointerError: anything else.
    """
    text = receiver.strip()
    if text.startswith("$"):
        if not text.isascii() or any(c in text for c in "?#@: \t"):
            raise InvalidPaymentPointerError(f"not a payment pointer: {receiver!r}")
        host, _, path = text[1:].partition("/")
        if not _HOST.fullmatch(host):
            raise InvalidPaymentPointerError(f"payment pointer has no valid host: {receiver!r}")
        path = "/" + path if path else ""
        if path in ("", "/"):
            path = "/.well-known/pay"
        return f"https://{host}{path}"
    parts = urlsplit(text)
    loopback = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme == "https" or (parts.scheme == "http" and loopback):
        if not parts.hostname:
            raise InvalidPaymentPointerError(f"SPSP URL has no host: {receiver!r}")
        return text
    raise InvalidPaymentPointerError(
        f"{receiver!r} is neither a payment pointer ($wallet.example/alice) nor an https URL"
    )


def _decode_secret(value: object) -> bytes:
    if not isinstance(value, str):
        raise SpspError("SPSP shared_secret is not a string")
    try:
        padded = value + "=" * (-len(value) % 4)
        secret = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError) as e:
        raise SpspError("SPSP shared_secret is not base64") from e
    if len(secret) != 32:
        raise SpspError(f"SPSP shared_secret must be 32 bytes, got {len(secret)}")
    return secret


def parse_spsp_body(body: bytes) -> SpspResponse:
    """Parse an SPSP JSON body (unknown fields ignored, as RFC 9 requires).

    Raises:
        SpspError: not JSON, or missing/invalid fields.
    """
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise SpspError("SPSP response is not JSON") from e
    if not isinstance(doc, dict):
        raise SpspError("SPSP response is not a JSON object")
    destination = doc.get("destination_account")
    if not isinstance(destination, str) or not is_valid_address(destination):
        raise SpspError("SPSP destination_account is not an ILP address")
    return SpspResponse(
        destination, _decode_secret(doc.get("shared_secret")), bool(doc.get("receipts_enabled"))
    )


async def query(
    receiver: str,
    *,
    session: HttpSession | None = None,
    receipt: ReceiptRequest | None = None,
    timeout: float = 10.0,
) -> SpspResponse:
    """Query an SPSP endpoint (over ``session``, or a session of its own).

    Raises:
        InvalidPaymentPointerError: ``receiver`` is not a pointer or URL.
        SpspError: the endpoint is unreachable, answered an error or nonsense.
    """
    url = resolve_receiver(receiver)
    headers = {"Accept": ACCEPT}
    if receipt is not None:
        headers["Receipt-Nonce"] = base64.b64encode(receipt.nonce).decode()
        headers["Receipt-Secret"] = base64.b64encode(receipt.secret).decode()
    own = session is None
    http = session or HttpSession()
    try:
        response = await http.request("GET", url, headers, timeout=timeout, redirects=MAX_REDIRECTS)
    except RequestTimeoutError as e:
        raise SpspError(f"the SPSP endpoint {url} did not answer in {timeout:g} s") from e
    except TransportError as e:
        raise SpspError(f"cannot reach the SPSP endpoint {url}: {type(e).__name__}") from e
    finally:
        if own:
            await http.close()
    if response.status != 200:
        raise SpspError(f"SPSP endpoint {url} answered HTTP {response.status}")
    return parse_spsp_body(response.body)


def spsp_response_body(destination_account: str, shared_secret: bytes, *, receipts: bool) -> bytes:
    """The JSON an SPSP server answers with."""
    doc: dict[str, object] = {
        "destination_account": destination_account,
        "shared_secret": base64.b64encode(shared_secret).decode(),
    }
    if receipts:
        doc["receipts_enabled"] = True
    return json.dumps(doc).encode()


CredentialFactory = Callable[[ReceiptRequest | None], tuple[str, bytes]]
"""Makes fresh ``(destination_account, shared_secret)`` for one query (with receipt params)."""

_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "web-monetization-id",
}


def _receipt_request(request: web.Request) -> ReceiptRequest | None:
    nonce = request.headers.get("Receipt-Nonce")
    secret = request.headers.get("Receipt-Secret")
    if nonce is None or secret is None:
        return None
    try:
        parsed = ReceiptRequest(base64.b64decode(nonce), base64.b64decode(secret))
    except (binascii.Error, ValueError) as e:
        raise web.HTTPBadRequest(text="Receipt-Nonce / Receipt-Secret must be base64") from e
    if len(parsed.nonce) != 16 or len(parsed.secret) != 32:
        raise web.HTTPBadRequest(text="Receipt-Nonce must be 16 bytes, Receipt-Secret 32")
    return parsed


def add_spsp_routes(
    app: web.Application, make_credentials: CredentialFactory, paths: tuple[str, ...]
) -> None:
    """Serve an SPSP endpoint (GET + CORS preflight) at each of ``paths`` of ``app``."""

    async def get(request: web.Request) -> web.Response:
        receipt = _receipt_request(request)
        destination, secret = make_credentials(receipt)
        return web.Response(
            body=spsp_response_body(destination, secret, receipts=receipt is not None),
            content_type=SPSP_CONTENT_TYPE,
            headers={**_CORS, "Cache-Control": "no-cache"},
        )

    async def options(_: web.Request) -> web.Response:
        return web.Response(status=204, headers=_CORS)

    for route in paths:
        app.router.add_get(route, get)
        app.router.add_route("OPTIONS", route, options)


def spsp_app(
    make_credentials: CredentialFactory, path: str = "/.well-known/pay"
) -> web.Application:
    """An aiohttp app serving an SPSP endpoint at ``path`` (and ``/`` as an alias)."""
    app = web.Application()
    add_spsp_routes(app, make_credentials, tuple(dict.fromkeys((path, "/"))))
    return app
