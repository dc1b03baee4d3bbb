"""HTTP plumbing shared by the sandbox's Open Payments handlers: errors as the OpenAPI
``error-response`` (``{"error": {"code", "description", "details"?}}``), JSON bodies, and the
RFC 9421 signature check every signed request goes through."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Final, NoReturn, Protocol

from aiohttp import web
from aiohttp.typedefs import Handler
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from wallet.openpayments.signing import RequestSignatureError, SignedRequest, verify_request

__all__ = [
    "JSON",
    "MAX_BODY",
    "HttpError",
    "SiteUrls",
    "errors_middleware",
    "fail",
    "gnap_token",
    "json_response",
    "read_body",
    "verify_signature",
]

JSON: Final = "application/json"
MAX_BODY: Final = 64_000


class SiteUrls(Protocol):
    """Where the sandbox's servers are (known once it listens)."""

    @property
    def origin(self) -> str: ...

    @property
    def auth_server(self) -> str: ...

    @property
    def resource_server(self) -> str: ...

    def wallet_url(self, name: str) -> str: ...


class HttpError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        description: str,
        headers: Mapping[str, str] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description
        self.headers = dict(headers or {})
        self.details = dict(details) if details is not None else None


def fail(
    status: int,
    code: str,
    description: str,
    *,
    details: Mapping[str, Any] | None = None,
    **headers: str,
) -> NoReturn:
    raise HttpError(status, code, description, headers, details)


def json_response(doc: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json.dumps(doc).encode(), content_type=JSON)


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except HttpError as e:
        error: dict[str, Any] = {"code": e.code, "description": e.description}
        if e.details is not None:
            error["details"] = e.details
        response = json_response({"error": error}, e.status)
        response.headers.update(e.headers)
        return response


async def read_body(request: web.Request) -> tuple[bytes, dict[str, Any]]:
    """The raw body and its JSON object (``{}`` when empty)."""
    if request.content_length is not None and request.content_length > MAX_BODY:
        fail(413, "invalid_request", "body too large")
    raw = await request.read()
    if not raw:
        return raw, {}
    try:
        doc = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        fail(400, "invalid_request", "body is not JSON")
    if not isinstance(doc, dict):
        fail(400, "invalid_request", "body is not a JSON object")
    return raw, doc


def verify_signature(
    request: web.Request,
    raw: bytes,
    keys: Mapping[str, Ed25519PublicKey],
    *,
    now: Any,
    status: int = 401,
    code: str,
    description: str = "Signature validation error",
) -> None:
    """Refuse the request unless its signature verifies with one of ``keys``."""
    signed = SignedRequest(
        request.method,
        str(request.url),
        {k.lower(): v for k, v in request.headers.items()},
        raw or None,
    )
    try:
        verify_request(signed, keys, now=now)
    except RequestSignatureError as e:
        fail(status, code, f"{description}: {e}")


def gnap_token(request: web.Request) -> str | None:
    """The token of ``Authorization: GNAP <token>``, if that is what was sent."""
    header = request.headers.get("Authorization", "")
    return header[5:].strip() if header.startswith("GNAP ") else None
