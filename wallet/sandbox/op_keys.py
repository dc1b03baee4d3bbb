"""The sandbox wallet's key page: where its owner adds a client's public key, as a person adds
Trickle's key in their real wallet's settings (FLOWS "Connecting a wallet": the browser shows
the JWK "so the user can copy or upload it to their wallet provider").

``GET <origin>/account/<name>/keys`` lists the keys (``kid`` only) and has a form with a
``<textarea id='jwk'>`` and ``<button id='add'>``; ``POST`` adds the JWK (JSON, or the base64
of it as FLOWS shows it) and answers with the page again, saying what happened in words.
Requests signed with an added key may then act as the wallet (``client: {walletAddress}``).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable
from html import escape

from aiohttp import web

from wallet.openpayments.signing import InvalidJwkError
from wallet.sandbox.op_ledger import OpenPaymentsLedger

__all__ = ["KeyPages", "parse_jwk_text"]


def parse_jwk_text(text: str) -> dict[str, object]:
    """A JWK from what a person pastes: its JSON, or base64 of its JSON.

    Raises:
        InvalidJwkError: neither.
    """
    text = text.strip()
    if not text.startswith("{"):
        try:
            text = base64.b64decode(text + "=" * (-len(text) % 4), validate=False).decode()
        except (binascii.Error, UnicodeDecodeError, ValueError) as e:
            raise InvalidJwkError("that is not a JWK (JSON) nor base64 of one") from e
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise InvalidJwkError("that is not a JWK (JSON) nor base64 of one") from e
    if not isinstance(doc, dict):
        raise InvalidJwkError("a JWK is a JSON object")
    return doc


class KeyPages:
    def __init__(self, ledger: OpenPaymentsLedger, wallet_url: Callable[[str], str]) -> None:
        self.ledger = ledger
        self._wallet_url = wallet_url

    def _wallet_id(self, request: web.Request) -> str:
        wallet_id = self._wallet_url(request.match_info["name"])
        if wallet_id not in self.ledger.wallets:
            raise web.HTTPNotFound(text="no such wallet")
        return wallet_id

    def _page(self, wallet_id: str, said: str = "", status: int = 200) -> web.Response:
        wallet = self.ledger.wallets[wallet_id]
        kids = sorted(self.ledger.client_keys.get(wallet_id, {}))
        listed = "".join(f"<li>{escape(kid)}</li>" for kid in kids) or "<li>none yet</li>"
        html = (
            "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<link rel='icon' href='data:,'><title>Keys</title></head><body>"
            f"<h1>Keys of {escape(wallet.public_name)}</h1>"
            f"<p id='said'>{escape(said)}</p><ul id='keys'>{listed}</ul>"
            "<form method='post'><textarea id='jwk' name='jwk' rows='6' cols='80'></textarea>"
            "<button id='add' type='submit'>Add key</button></form></body></html>"
        )
        return web.Response(status=status, text=html, content_type="text/html")

    async def show(self, request: web.Request) -> web.Response:
        return self._page(self._wallet_id(request))

    async def add(self, request: web.Request) -> web.Response:
        wallet_id = self._wallet_id(request)
        form = await request.post()
        try:
            jwk = parse_jwk_text(str(form.get("jwk", "")))
            self.ledger.register_client_key(wallet_id, jwk)
        except InvalidJwkError as e:
            return self._page(wallet_id, f"Not added: {e}", 400)
        return self._page(wallet_id, f"Added key {jwk.get('kid')}.")
