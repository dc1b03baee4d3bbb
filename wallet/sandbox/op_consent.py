"""The sandbox wallet's consent page: where ``interact.redirect`` leads the user.

``GET <origin>/auth/interact/<id>/<nonce>`` shows, in plain words, which client asks for what
(the outgoing-payment limit and how often it renews) with two buttons, ``#accept`` and
``#decline``, in a form that POSTs to ``…/finish``. Then, as Rafiki's interaction routes do
(RAF packages/auth/src/interaction/routes.ts ``handleFinishableGrant``): a grant that asked for a
finish redirect sends the browser there (303) with ``interact_ref`` and ``hash`` = base64
SHA-256 of ``"<client nonce>\\n<interact nonce>\\n<interact_ref>\\n<grant endpoint>"``, or with
``result=grant_rejected``; a polled grant shows a page saying the client may now continue.
Text that came from clients is HTML-escaped.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from html import escape
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from aiohttp import web

from wallet.amounts import format_amount
from wallet.budgets import Asset
from wallet.openpayments.intervals import RepeatingInterval
from wallet.sandbox.op_http import SiteUrls
from wallet.sandbox.op_ledger import GrantState, Interaction, OpenPaymentsLedger, SandboxGrant

__all__ = ["ConsentHandlers", "interaction_hash"]


def interaction_hash(client_nonce: str, interact_nonce: str, ref: str, grant_endpoint: str) -> str:
    data = f"{client_nonce}\n{interact_nonce}\n{ref}\n{grant_endpoint}".encode()
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def _page(title: str, body: str, status: int = 200) -> web.Response:
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<link rel='icon' href='data:,'>"
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(status=status, text=html, content_type="text/html")


def _shown_amount(amount: dict[str, Any]) -> str:
    """A limit's amount as a person reads it ("5.00 USD"), from its integer value and scale:
    never rounded (what the user consents to is shown exactly, "4.999 USD" if it is that)."""
    value, scale = int(str(amount.get("value", "0"))), int(amount.get("assetScale", 0))
    return format_amount(value, Asset(str(amount.get("assetCode", "")), scale))


def _renewal(text: str) -> str:
    """``R/<start>/P1M`` in words ("renewing every month from 6 December 2026")."""
    try:
        interval = RepeatingInterval.parse(text)
    except ValueError:
        return f"renewing on the schedule {text}"
    every = "every month" if text.endswith("/P1M") else f"every {text.rsplit('/', 1)[1]}"
    start = interval.start
    return f"renewing {every} from {start.day} {start:%B %Y} ({start:%H:%M} UTC)"


def _describe(access: list[dict[str, Any]]) -> str:
    lines = []
    for item in access:
        if item.get("type") != "outgoing-payment":
            continue
        limits = item.get("limits") or {}
        amount = limits.get("debitAmount") or limits.get("receiveAmount")
        what = "send payments from your wallet"
        if isinstance(amount, dict):
            verb = "taken from your wallet" if "debitAmount" in limits else "delivered"
            what += f", up to {_shown_amount(amount)} {verb}"
        if "interval" in limits:
            what += ", " + _renewal(str(limits["interval"]))
        lines.append(f"<li>{escape(what)}</li>")
    return "<ul id='access'>" + "".join(lines) + "</ul>"


class ConsentHandlers:
    def __init__(self, ledger: OpenPaymentsLedger, urls: Callable[[], SiteUrls]) -> None:
        self.ledger = ledger
        self._urls = urls

    def _pending(self, request: web.Request) -> tuple[SandboxGrant, Interaction] | web.Response:
        """The grant still waiting at this interaction, or the page that says why not."""
        grant = self.ledger.interaction(request.match_info["id"], request.match_info["nonce"])
        if grant is None or grant.interaction is None:
            return _page("Unknown request", "<p>This grant request is not known.</p>", 404)
        if grant.state is not GrantState.PENDING:
            return _page("Already answered", "<p id='outcome'>This request was answered.</p>")
        return grant, grant.interaction

    async def start(self, request: web.Request) -> web.Response:
        found = self._pending(request)
        if isinstance(found, web.Response):
            return found
        grant, interaction = found
        client = self.ledger.wallets.get(grant.client_wallet or "")
        name = client.public_name if client is not None else "A client"
        action = f"/auth/interact/{interaction.id}/{interaction.nonce}/finish"
        body = (
            # The grant's client is identified by a wallet address whose keys it holds: for a
            # browser paying from the user's own wallet, that is this very wallet.
            f"<p id='client'>An app holding a key you added to {escape(name)} "
            f"({escape(grant.client_wallet or '')}) asks to:</p>"
            f"{_describe(grant.access)}"
            f"<form method='post' action='{escape(action)}'>"
            "<button id='accept' name='decision' value='accept' type='submit'>Accept</button> "
            "<button id='decline' name='decision' value='decline' type='submit'>Decline</button>"
            "</form>"
        )
        return _page("Allow payments from your sandbox wallet?", body)

    async def finish(self, request: web.Request) -> web.Response:
        found = self._pending(request)
        if isinstance(found, web.Response):
            return found
        grant, interaction = found
        form = await request.post()
        accepted = form.get("decision") == "accept"
        self.ledger.decide(grant, accepted)
        if interaction.finish_uri is None:
            words = "You can close this tab." if accepted else "Nothing was allowed."
            title = "Payments allowed" if accepted else "Request declined"
            return _page(title, f"<p id='outcome'>{escape(words)}</p>")
        if not accepted:
            target = _with_query(interaction.finish_uri, {"result": "grant_rejected"})
        else:
            assert interaction.ref is not None and interaction.client_nonce is not None
            digest = interaction_hash(
                interaction.client_nonce,
                interaction.nonce,
                interaction.ref,
                self._urls().auth_server,
            )
            target = _with_query(
                interaction.finish_uri, {"hash": digest, "interact_ref": interaction.ref}
            )
        raise web.HTTPSeeOther(location=target)
