"""The sandbox's auth server, as Rafiki's (RAF packages/auth/src/grant/routes.ts,
accessToken/routes.ts, signature/middleware.ts; OPEN-PAYMENTS-NOTES §4):

* ``POST <origin>/auth/<tenant>``: a grant request. ``client: {jwk}`` (directed identity) gets
  non-interactive incoming-payment grants only; ``client: {walletAddress}`` (or the deprecated
  bare string) is verified with the keys registered at that wallet (its ``jwks.json``) and gets
  quote / incoming-payment grants at once, and ``outgoing-payment`` grants only with the user's
  consent: ``{"interact": {"redirect", "finish"}, "continue": {..., "wait"}}``.
* ``POST <origin>/auth/continue/<id>``: with ``{"interact_ref"}`` after the finish redirect, or
  with no body to poll (refused for grants that asked for a finish redirect); sooner than
  ``wait`` seconds after the request (or the last poll): ``400 too_fast``.
* ``DELETE <origin>/auth/continue/<id>``: cancel the grant (its token stops working).
* ``POST <origin>/auth/token/<manage id>``: rotate (a new token and manage id; the old token is
  inactive); ``DELETE``: revoke. An expired token may still be rotated.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from wallet.openpayments.intervals import RepeatingInterval
from wallet.openpayments.signing import InvalidJwkError, public_key_from_jwk
from wallet.sandbox.op_http import (
    SiteUrls,
    fail,
    gnap_token,
    json_response,
    read_body,
    verify_signature,
)
from wallet.sandbox.op_ledger import GrantState, OpenPaymentsLedger, SandboxGrant

__all__ = ["AuthHandlers"]

_JWK_INTERACTIVE = "JWK client identifier cannot be used for interactive grants"


class AuthHandlers:
    def __init__(self, ledger: OpenPaymentsLedger, urls: Callable[[], SiteUrls], tenant: str):
        self.ledger = ledger
        self._urls = urls
        self.tenant = tenant

    # -- JSON -----------------------------------------------------------------------------

    def token_json(self, grant: SandboxGrant) -> dict[str, Any]:
        lifetime = int((grant.expires_at - self.ledger.clock()).total_seconds() + 0.5)
        return {
            "value": grant.access_token.reveal(),
            "manage": f"{self._urls().origin}/auth/token/{grant.token_id}",
            "expires_in": max(lifetime, 0),
            "access": grant.access,
        }

    def _continue_json(self, grant: SandboxGrant, *, wait: bool) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "access_token": {"value": grant.continue_token.reveal()},
            "uri": f"{self._urls().origin}/auth/continue/{grant.id}",
        }
        if wait:
            doc["wait"] = self.ledger.grant_wait
        return doc

    def _issued(self, grant: SandboxGrant) -> web.Response:
        return json_response(
            {
                "access_token": self.token_json(grant),
                "continue": self._continue_json(grant, wait=False),
            }
        )

    # -- grant request --------------------------------------------------------------------

    async def grant_request(self, request: web.Request) -> web.Response:
        if request.match_info["tenant"] != self.tenant:
            fail(404, "not_found", "no such tenant")
        raw, doc = await read_body(request)
        token = doc.get("access_token")
        access = token.get("access") if isinstance(token, dict) else None
        client = doc.get("client")
        if isinstance(client, dict) and "jwk" in client:
            return self._directed_identity_grant(request, raw, doc, client["jwk"], access)
        client_wallet = client.get("walletAddress") if isinstance(client, dict) else client
        if not isinstance(client_wallet, str) or client_wallet not in self.ledger.wallets:
            fail(400, "invalid_client", "missing required request field 'client'")
        keys = self.ledger.client_keys.get(client_wallet, {})
        verify_signature(request, raw, keys, now=self.ledger.clock(), code="invalid_client")
        items = self._checked_access(access)
        if not any(item["type"] == "outgoing-payment" for item in items):
            wallet_id = next((str(i["identifier"]) for i in items if "identifier" in i), "")
            grant = self.ledger.issue_grant(
                kid="", key=None, wallet_id=wallet_id, access=items, client_wallet=client_wallet
            )
            return self._issued(grant)
        interact = doc.get("interact")
        if not isinstance(interact, dict) or "redirect" not in (interact.get("start") or ()):
            fail(400, "invalid_request", "missing required request field 'interact'")
        finish = interact.get("finish")
        finish_uri = client_nonce = None
        if finish is not None:
            if not isinstance(finish, dict) or finish.get("method") != "redirect":
                fail(400, "invalid_request", "unsupported interact.finish method")
            finish_uri, client_nonce = finish.get("uri"), finish.get("nonce")
            if not isinstance(finish_uri, str) or not isinstance(client_nonce, str):
                fail(400, "invalid_request", "interact.finish needs uri and nonce")
        grant = self.ledger.request_interactive_grant(
            client_wallet=client_wallet,
            access=items,
            finish_uri=finish_uri,
            client_nonce=client_nonce,
        )
        interaction = grant.interaction
        assert interaction is not None
        name = self.ledger.wallets[client_wallet].public_name
        query = urlencode({"clientName": name, "clientUri": client_wallet})
        redirect = f"{self._urls().origin}/auth/interact/{interaction.id}/{interaction.nonce}"
        return json_response(
            {
                "interact": {"redirect": f"{redirect}?{query}", "finish": interaction.nonce},
                "continue": self._continue_json(grant, wait=True),
            }
        )

    def _directed_identity_grant(
        self, request: web.Request, raw: bytes, doc: dict[str, Any], jwk: object, access: object
    ) -> web.Response:
        try:
            kid, key = public_key_from_jwk(jwk)
        except InvalidJwkError as e:
            fail(400, "invalid_client", str(e))
        verify_signature(request, raw, {kid: key}, now=self.ledger.clock(), code="invalid_client")
        if "interact" in doc:
            fail(400, "invalid_client", _JWK_INTERACTIVE)
        items = self._checked_access(access)
        wallet_id = ""
        for item in items:
            if item["type"] != "incoming-payment":
                fail(400, "invalid_client", _JWK_INTERACTIVE)
            wallet_id = str(item.get("identifier", wallet_id))
        return self._issued(
            self.ledger.issue_grant(kid=kid, key=key, wallet_id=wallet_id, access=items)
        )

    def _checked_access(self, access: object) -> list[dict[str, Any]]:
        """The access items, refused as Rafiki refuses them (unknown identifier, both limit
        amounts, an interval it cannot read)."""
        if not isinstance(access, list) or not access:
            fail(400, "invalid_request", "access_token.access is required")
        items: list[dict[str, Any]] = []
        for item in access:
            kind = item.get("type") if isinstance(item, dict) else None
            if kind not in ("incoming-payment", "outgoing-payment", "quote"):
                fail(400, "invalid_request", "unknown access type")
            assert isinstance(item, dict)
            identifier = item.get("identifier")
            if kind == "outgoing-payment" and identifier is None:
                fail(400, "invalid_request", "access item needs an identifier")
            if identifier is not None and identifier not in self.ledger.wallets:
                fail(400, "invalid_request", "unknown identifier")
            limits = item.get("limits")
            if isinstance(limits, dict):
                if "debitAmount" in limits and "receiveAmount" in limits:
                    fail(400, "invalid_request", "only one of receiveAmount or debitAmount allowed")
                if "interval" in limits:
                    try:
                        RepeatingInterval.parse(str(limits["interval"]))
                    except ValueError:
                        fail(400, "invalid_request", "invalid interval")
            items.append(item)
        return items

    def _verify(
        self,
        request: web.Request,
        raw: bytes,
        grant: SandboxGrant,
        description: str = "Signature validation error",
    ) -> None:
        """Refuse unless signed by one of the grant's client keys (``invalid_client``)."""
        keys = self.ledger.keys_for(grant)
        now = self.ledger.clock()
        verify_signature(
            request, raw, keys, now=now, code="invalid_client", description=description
        )

    # -- continuation ---------------------------------------------------------------------

    def _continued(self, request: web.Request) -> SandboxGrant:
        token = gnap_token(request)
        if token is None:
            fail(401, "invalid_continuation", "missing continuation information")
        grant = self.ledger.grant_for_continue(request.match_info["id"], token)
        if grant is None:
            fail(404, "invalid_continuation", "grant not found")
        return grant

    async def continue_grant(self, request: web.Request) -> web.Response:
        grant = self._continued(request)
        raw, doc = await read_body(request)
        verify_signature(
            request,
            raw,
            self.ledger.keys_for(grant),
            now=self.ledger.clock(),
            code="invalid_client",
        )
        now = self.ledger.clock()
        too_fast = grant.last_continued_at is not None and (
            (now - grant.last_continued_at).total_seconds() < self.ledger.grant_wait
        )
        interaction = grant.interaction
        if not doc:
            if too_fast:
                fail(400, "too_fast", 'polled grant faster than "wait" period')
            if interaction is not None and interaction.finish_uri is not None:
                fail(401, "request_denied", "grant cannot be polled")
            if grant.state is GrantState.PENDING:
                grant.last_continued_at = now
                return json_response({"continue": self._continue_json(grant, wait=True)})
            if grant.state is not GrantState.APPROVED:
                fail(401, "request_denied", "grant cannot be continued")
            self.ledger.issue_token(grant)
            return self._issued(grant)
        ref = doc.get("interact_ref")
        if not isinstance(ref, str) or not ref:
            fail(401, "invalid_request", "missing interaction reference")
        known = interaction is not None and interaction.ref is not None
        if not known or grant.state not in (GrantState.APPROVED, GrantState.PENDING):
            fail(404, "invalid_continuation", "grant not found")
        assert interaction is not None and interaction.ref is not None
        if not hmac.compare_digest(interaction.ref.encode(), ref.encode()):
            fail(404, "invalid_continuation", "grant not found")
        if too_fast:
            fail(400, "too_fast", 'continued grant faster than "wait" period')
        if grant.state is not GrantState.APPROVED:
            fail(401, "request_denied", "grant interaction not approved")
        self.ledger.issue_token(grant)
        return self._issued(grant)

    async def cancel_grant(self, request: web.Request) -> web.Response:
        token = gnap_token(request)
        grant = self.ledger.grant_for_continue(request.match_info["id"], token or "")
        if token is None or grant is None:
            fail(404, "invalid_request", "unknown grant")
        self._verify(request, await request.read(), grant)
        self.ledger.revoke_grant(grant)
        return web.Response(status=204)

    # -- token management -----------------------------------------------------------------

    async def _managed(self, request: web.Request) -> SandboxGrant:
        grant = self.ledger.grant_for_manage(request.match_info["id"])
        if grant is None:
            fail(401, "invalid_client", "invalid access token")
        self._verify(request, await request.read(), grant, "invalid signature")
        return grant

    async def rotate_token(self, request: web.Request) -> web.Response:
        grant = await self._managed(request)
        self.ledger.issue_token(grant)
        return json_response({"access_token": self.token_json(grant)})

    async def revoke_token(self, request: web.Request) -> web.Response:
        grant = await self._managed(request)
        grant.token_active = False
        return web.Response(status=204)
