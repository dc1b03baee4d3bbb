"""Open Payments peers from npm around the sandbox's Open Payments server (see harness/op_*.js).

* :class:`RequestChecker` runs ``harness/op_checker.js``; its :meth:`middleware`, put in front of
  the sandbox server, sends every request it receives to the checker
  (``@interledger/http-signature-utils`` + ``@interledger/openapi``) and answers ``400`` itself
  when the checker refuses one, as Rafiki would; every verdict is kept.
* :class:`NodeReceiverBackend` is the sandbox's STREAM receiver when it must be Rafiki's own
  (``harness/op_stream_receiver.js``): credentials come from it, Prepares go to it over
  ILP-over-HTTP.
"""

from __future__ import annotations

import asyncio
import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Self

import aiohttp
from aiohttp import web
from aiohttp.typedefs import Handler

from tests.interop.harness import NodeProcess
from tests.op_support import SPEC_DIR
from wallet.ilp import Fulfill, Prepare, Reject, parse_reply
from wallet.openpayments.models import decode_shared_secret
from wallet.sandbox.op_server import OpenPaymentsSandbox


class RequestChecker:
    """The node checker, called once per request the sandbox receives."""

    def __init__(self, proc: NodeProcess) -> None:
        self.proc = proc
        self.verdicts: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._next = 0

    @classmethod
    @contextmanager
    def start(cls, site: OpenPaymentsSandbox, wallets: list[str]) -> Iterator[RequestChecker]:
        roots = {
            "wallet": [site.wallet_url(name) for name in wallets],
            "auth": [site.auth_server, f"{site.origin}/auth"],
            "resource": [site.resource_server],
        }
        proc = NodeProcess(
            "op_checker.js", ["--specs", str(SPEC_DIR), "--roots", json.dumps(roots)]
        )
        try:
            proc.wait_for("ready")
            yield cls(proc)
        finally:
            proc.stop()

    def register_jwks(self, wallet: str, keys: list[dict[str, Any]]) -> None:
        """The keys at ``<wallet>/jwks.json``, for requests by that wallet as a client."""
        with self._lock:
            self.proc.command(json.dumps({"cmd": "jwks", "wallet": wallet, "keys": keys}))
            self.proc.wait_for("jwks-stored", where=lambda line: line["wallet"] == wallet)

    def check_sync(self, request: dict[str, Any]) -> dict[str, Any]:
        with self._lock:
            self._next += 1
            request = {**request, "id": self._next}
            self.proc.command(json.dumps(request))
            verdict = self.proc.wait_for("verdict", where=lambda line: line["id"] == request["id"])
            self.verdicts.append({**verdict, "method": request["method"], "url": request["url"]})
            return verdict

    async def check(
        self, method: str, url: str, headers: dict[str, str], body: bytes
    ) -> dict[str, Any]:
        request = {
            "method": method,
            "url": url,
            "headers": headers,
            "body": body.decode() if body else None,
        }
        return await asyncio.to_thread(self.check_sync, request)

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path.startswith(("/auth/interact/", "/account/")):
            return await handler(request)  # the wallet's own pages: a browser, not a client
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        verdict = await self.check(request.method, str(request.url), headers, body)
        if not (verdict["signature"]["ok"] and verdict["openapi"]["ok"]):
            return web.json_response(
                {"error": {"code": "invalid_request", "description": json.dumps(verdict)}},
                status=400,
            )
        return await handler(request)

    def refused(self) -> list[dict[str, Any]]:
        return [v for v in self.verdicts if not (v["signature"]["ok"] and v["openapi"]["ok"])]


class CheckerSlot:
    """The checker goes in front of the sandbox before its URLs (and so the checker) exist."""

    def __init__(self) -> None:
        self.checker: RequestChecker | None = None

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if self.checker is None:
            raise web.HTTPServiceUnavailable(text="checker not started")
        return await self.checker.middleware(request, handler)


class NodeReceiverBackend:
    """Rafiki's STREAM receiver (``@interledger/stream-receiver``) in a node process."""

    TOKEN = "op-receiver-token"
    SCRIPT = "op_stream_receiver.js"

    def __init__(self, proc: NodeProcess) -> None:
        self.proc = proc
        self.url = str(proc.ready["url"])
        self._lock = threading.Lock()
        self._http: aiohttp.ClientSession | None = None

    @classmethod
    @contextmanager
    def start(cls, address: str) -> Iterator[Self]:
        proc = NodeProcess(cls.SCRIPT, ["--address", address, "--token", cls.TOKEN])
        try:
            proc.ready = proc.wait_for("ready")
            yield cls(proc)
        finally:
            proc.stop()

    def _ask(self, command: dict[str, Any], event: str) -> dict[str, Any]:
        with self._lock:
            self.proc.command(json.dumps(command))
            return self.proc.wait_for(event)

    async def credentials(self, payment_tag: str) -> tuple[str, bytes]:
        line = await asyncio.to_thread(
            self._ask, {"cmd": "credentials", "tag": payment_tag}, "credentials"
        )
        assert line["tag"] == payment_tag
        return self._credentials(line)

    def _credentials(self, line: dict[str, Any]) -> tuple[str, bytes]:
        return str(line["ilpAddress"]), decode_shared_secret(line["sharedSecret"])

    def totals(self) -> dict[str, int]:
        """The receiver's own totals, by payment tag."""
        line = self._ask({"cmd": "totals"}, "totals")
        return {tag: int(value) for tag, value in line["totals"].items()}

    async def handle(self, prepare: Prepare) -> Fulfill | Reject:
        if self._http is None:
            self._http = aiohttp.ClientSession()
        async with self._http.post(
            self.url,
            data=prepare.to_bytes(),
            headers={
                "Authorization": f"Bearer {self.TOKEN}",
                "Content-Type": "application/octet-stream",
            },
        ) as response:
            assert response.status == 200, await response.text()
            return parse_reply(await response.read())

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.close()


class SpspStreamReceiverBackend(NodeReceiverBackend):
    """The Coil-era receivers' STREAM library (``ilp-protocol-stream``'s server) in a node
    process, behind the sandbox's SPSP wallet addresses (``harness/op_spsp_stream_receiver.js``);
    its totals are by SPSP query (connection tag)."""

    SCRIPT = "op_spsp_stream_receiver.js"

    def _credentials(self, line: dict[str, Any]) -> tuple[str, bytes]:
        return str(line["destinationAccount"]), base64.b64decode(line["sharedSecret"])
