"""Test support for Open Payments: the sandbox server behind TLS with a test CA, and an OpenAPI
check (openapi-core) of every request it receives and every response it sends.

The OpenAPI files are the official ones (tests/vectors/openpayments/, see SOURCES.md there),
loaded unchanged except for their ``servers``, which are pointed at the sandbox's real URLs
(the files name ``https://ilp.interledger-test.dev`` etc.), so the validator can find each
operation from the URL the client used, one contradiction resolved and one gap filled (see
``configure``).
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import json
import re
import ssl
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import aiohttp
import yaml
import yarl
from aiohttp import web
from aiohttp.typedefs import Handler
from openapi_core import OpenAPI
from openapi_core.datatypes import RequestParameters
from werkzeug.datastructures import Headers, ImmutableMultiDict

from tests.certs import self_signed
from wallet.net.ildcp import fetch_account_config
from wallet.net.router import Router
from wallet.net.stream_client import connect
from wallet.openpayments.client import OpenPaymentsClient
from wallet.openpayments.transport import HttpTransport
from wallet.sandbox.network import SandboxNetwork
from wallet.sandbox.op_server import BackendFactory, OpenPaymentsSandbox, serve_open_payments
from wallet.stream import ConnectionConfig

SPEC_DIR = Path(__file__).parent / "vectors" / "openpayments"
SPECS = ("wallet-address-server", "auth-server", "resource-server")


@cache
def load_spec(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((SPEC_DIR / f"{name}.yaml").read_text())
    return doc


class _Request:
    """openapi-core's request protocol over what aiohttp received (host_url keeps the port)."""

    def __init__(self, request: web.Request, body: bytes) -> None:
        self.host_url = f"{request.url.scheme}://{request.url.host}:{request.url.port}"
        self.path = request.url.path
        self.method = request.method.lower()
        self.body = body or None
        self.content_type = request.content_type if body else ""
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.query.items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )


class _Response:
    def __init__(self, response: web.Response) -> None:
        body = response.body
        self.data = body if isinstance(body, bytes) else b""
        self.status_code = response.status
        self.content_type = response.content_type if self.data else ""
        self.headers = Headers(list(response.headers.items()))


@dataclass
class OpenApiCheck:
    """Validates every exchange with the sandbox against the three OpenAPI files."""

    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    _apis: list[tuple[str, OpenAPI]] = field(default_factory=list)

    def configure(self, site: OpenPaymentsSandbox, wallet_names: list[str]) -> None:
        servers = {
            "wallet-address-server": [site.wallet_url(n) for n in wallet_names],
            "auth-server": [site.auth_server, f"{site.origin}/auth"],
            "resource-server": [site.resource_server],
        }
        self._apis = []
        for name in SPECS:
            spec = copy.deepcopy(load_spec(name))
            spec["servers"] = [{"url": url} for url in servers[name]]
            if name == "resource-server":
                # The file's global `security: [GNAP]` contradicts its own get-incoming-payment
                # operation, which documents the unauthenticated answer (`public-incoming-
                # payment`, `optional-signature-input`); Rafiki serves it. Allow both there.
                get = spec["paths"]["/incoming-payments/{id}"]["get"]
                get["security"] = [{"GNAP": []}, {}]
                # The file lists no 400 for creating an outgoing payment, but Rafiki answers
                # 400 there ("invalid receiver", "negative receive amount", "invalid quote":
                # RAF payment/outgoing/errors.ts errorToHTTPCode); allow its error-response.
                create = spec["paths"]["/outgoing-payments"]["post"]["responses"]
                create.setdefault("400", {"$ref": "#/components/responses/400"})
            self._apis.append((name, OpenAPI.from_dict(spec)))

    def _api_for(self, request: _Request) -> tuple[str, OpenAPI, str] | None:
        """The spec whose server URL is the longest prefix of the request URL, and that URL."""
        url = request.host_url + request.path
        best: tuple[str, OpenAPI, str] | None = None
        for name, api in self._apis:
            for server in api.spec["servers"]:
                base = str(server["url"])
                if (url == base or url.startswith(base + "/")) and (
                    best is None or len(base) > len(best[2])
                ):
                    best = (name, api, base)
        return best

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        body = await request.read()
        adapted = _Request(request, body)
        label = f"{request.method} {request.url.path}"
        if request.path.startswith(("/auth/interact/", "/account/")):
            # The consent page and the key page are the wallet's own front channel (Rafiki
            # checks the former against its IdP spec, not among the Open Payments files).
            self.checked.append(f"{label} (front channel)")
            return await handler(request)
        found = self._api_for(adapted)
        if found is not None and adapted.host_url + adapted.path == found[2]:
            adapted.path += "/"  # the server URL itself is the spec's path "/"
        if found is None:
            self.problems.append(f"{label}: no OpenAPI file covers this URL")
            response = await handler(request)
            return response
        name, api, _ = found
        try:
            api.validate_request(adapted)
        except Exception as e:
            self.problems.append(f"{label} request ({name}): {_explain(e)}")
        response = await handler(request)
        if not isinstance(response, web.Response):
            self.problems.append(f"{label}: not a plain response")
            return response
        if response.content_type != "application/spsp4+json":
            try:
                api.validate_response(adapted, _Response(response))
            except Exception as e:
                self.problems.append(f"{label} response {response.status} ({name}): {_explain(e)}")
        self.checked.append(f"{label} -> {response.status}")
        return response


def _explain(e: Exception) -> str:
    parts = [f"{type(e).__name__}: {e}"]
    cause = e.__cause__
    while cause is not None:
        parts.append(f"{type(cause).__name__}: {cause}")
        schema_errors = getattr(cause, "schema_errors", None)
        if schema_errors:
            parts.extend(str(getattr(s, "message", s)) for s in schema_errors)
        cause = cause.__cause__
    return " | ".join(parts)


async def pay(
    network: SandboxNetwork,
    address: str,
    secret: bytes,
    amount: int,
    name: str = "payer",
    *,
    max_packet_amount: int | None = None,
) -> int:
    """Trickle's own STREAM client pays ``amount`` from a new sandbox account; returns what it
    says was delivered."""
    link = network.account(name, max_packet_amount=max_packet_amount)
    account = await fetch_account_config(link)
    router = Router(link, own_address=account.client_address)
    conn = await connect(
        link,
        ConnectionConfig(
            shared_secret=secret,
            asset_code="USD",
            asset_scale=9,
            source_account=account.client_address,
            destination_account=address,
        ),
        router=router,
    )
    stream = conn.create_stream()
    await stream.send_total(amount)
    delivered = conn.total_delivered
    conn.close()
    await asyncio.wait_for(conn.closed, 5)
    return delivered


@dataclass
class OpSandbox:
    network: SandboxNetwork
    server: OpenPaymentsSandbox
    openapi: OpenApiCheck
    ca_file: Path

    def wallet(self, name: str) -> str:
        return self.server.wallet_url(name)

    @asynccontextmanager
    async def client(
        self, clock: Callable[[], dt.datetime] | None = None
    ) -> AsyncIterator[tuple[OpenPaymentsClient, HttpTransport]]:
        """Trickle's Open Payments client, trusting the sandbox's test CA."""
        transport = HttpTransport(extra_ca_file=self.ca_file)
        try:
            yield OpenPaymentsClient(transport, **({"clock": clock} if clock else {})), transport
        finally:
            await transport.close()


@asynccontextmanager
async def op_sandbox(
    tmp: Path,
    *,
    backend: BackendFactory | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    wallets: tuple[str, ...] = ("alice", "bob"),
    user_wallets: Mapping[str, int] | None = None,
    check_openapi: bool = True,
    middlewares: tuple[Any, ...] = (),
    **server_options: Any,
) -> AsyncIterator[OpSandbox]:
    """The sandbox network with its Open Payments server on https://127.0.0.1 (a test CA in
    ``ca_file``). ``user_wallets`` are funded wallets (name -> balance) that can pay;
    ``server_options`` go to :func:`serve_open_payments` (``grant_wait_seconds``,
    ``access_token_lifetime``, ``min_send_amount``, ``legacy``). On exit, every exchange must
    have passed the OpenAPI check."""
    server_tls, _ = self_signed(tmp)
    network = SandboxNetwork()
    check = OpenApiCheck()
    site = await serve_open_payments(
        network,
        ssl_context=server_tls,
        backend=backend,
        clock=clock,
        middlewares=[check.middleware, *middlewares],
        **server_options,
    )
    for name in wallets:
        site.add_wallet(name, f"{name.title()}'s sandbox wallet")
    for name, balance in (user_wallets or {}).items():
        site.add_wallet(name, f"{name.title()}'s sandbox wallet", balance=balance)
    check.configure(site, [*wallets, *(user_wallets or {})])
    try:
        yield OpSandbox(network, site, check, tmp / "cert.pem")
    finally:
        await site.close()
    if check_openapi:
        assert not check.problems, json.dumps(check.problems, indent=1)


async def answer_consent(ca_file: Path, redirect_url: str, *, accept: bool) -> str | None:
    """What the user does on the sandbox wallet's consent page, over plain HTTP: load it, press
    Accept or Decline. Returns where the wallet sends the browser (the finish redirect), or
    ``None`` for a polled grant (the page then just says so)."""
    ssl_context = ssl.create_default_context(cafile=str(ca_file))
    async with aiohttp.ClientSession() as http:
        async with http.get(redirect_url, ssl=ssl_context) as page:
            assert page.status == 200, page.status
            html = await page.text()
        assert "id='accept'" in html and "id='decline'" in html
        match = re.search(r"<form method='post' action='([^']+)'>", html)
        assert match is not None
        target = str(yarl.URL(redirect_url).join(yarl.URL(match.group(1))))
        form = {"decision": "accept" if accept else "decline"}
        async with http.post(target, data=form, ssl=ssl_context, allow_redirects=False) as done:
            if done.status == 303:
                return done.headers["Location"]
            assert done.status == 200, done.status
            return None
