"""Connecting the user's Open Payments wallet, against the sandbox's wallet server: the key and
tokens live only in the secret store, the finish redirect's hash is checked, a declined grant
connects nothing, the access token is rotated when it expires (before use, and when the wallet
calls it inactive) and the new one replaces the old in the store, and Disconnect cancels the
grant at the wallet (which then refuses the old token) and forgets everything here."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Coroutine
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest

from tests.funding_support import FundingWorld, Page, funding_world
from wallet.funding import ConnectError, FundingSource
from wallet.funding.store import GRANT_SECRET, KEY_SECRET
from wallet.sandbox.op_ledger import GrantState

WAIT = 30.0


def run(main: Callable[[], Coroutine[object, object, None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 120))


def live_grant(w: FundingWorld) -> object:
    (grant,) = [
        g
        for g in w.server.ledger.grants.values()
        if g.client_wallet == w.wallet("user") and g.state is GrantState.ISSUED
    ]
    return grant


async def pay_some(w: FundingWorld, count: int = 2) -> Page:
    _, session, page = w.pay(w.wallet("alice"))
    await page.until(lambda: len(page.payments) >= count)
    session.stop()
    await asyncio.wait_for(asyncio.shield(session.task), WAIT)
    return page


def test_connecting_stores_the_key_and_tokens_only_in_the_secret_store(tmp_path: Path) -> None:
    async def main() -> None:
        async with funding_world(tmp_path) as w:
            assert w.funding.source() is FundingSource.LOCAL
            connecting = await w.funding.begin(w.wallet("user"))
            jwk = connecting.jwk
            assert set(jwk) == {"kty", "crv", "x", "kid", "alg"} and "d" not in jwk
            assert w.secrets.get(KEY_SECRET) is not None  # the private part, at once
            w.server.register_client_key("user", jwk)
            consent = await w.funding.request_grant(connecting, 5_000_000_000)
            landing = await w.press(consent, "accept")
            assert "Trickle is connected to your wallet" in landing
            wallet = await asyncio.wait_for(connecting.outcome(), WAIT)
            assert w.secrets.get(GRANT_SECRET) is not None
            info = w.funding.store.wallet()
            assert info is not None and info.budget == 5_000_000_000
            assert info.interval is not None and info.interval.endswith("/P1M")
            assert info.kid == jwk["kid"]
            saved = w.service.setting("funding")
            text = repr(saved)
            for secret in (wallet.grant.access_token, wallet.grant.continue_token):
                assert secret.reveal() not in text
            # the wallet's grant asks what the issue says
            grant = live_grant(w)
            kinds = {a["type"]: a for a in grant.access}  # type: ignore[attr-defined]
            assert set(kinds) == {"quote", "outgoing-payment"}
            limits = kinds["outgoing-payment"]["limits"]
            assert limits["debitAmount"]["value"] == "5000000000"
            assert limits["interval"].startswith("R/") and limits["interval"].endswith("/P1M")
            # a fresh Funding (the next launch) loads it from the store, no network needed
            await pay_some(w)

    run(main)


def forge_hash(location: str) -> str:
    back = urlsplit(location)
    query = dict(parse_qsl(back.query))
    query["hash"] = "AAAA" + query["hash"][4:]
    return urlunsplit(back._replace(query=urlencode(query)))


@pytest.mark.parametrize(
    ("decision", "tamper", "words"),
    [("decline", str, "declined"), ("accept", forge_hash, "hash")],
    ids=["declined", "forged-hash"],
)
def test_a_declined_grant_or_a_forged_finish_hash_connects_nothing(
    tmp_path: Path, decision: str, tamper: Callable[[str], str], words: str
) -> None:
    async def main() -> None:
        async with funding_world(tmp_path) as w:
            connecting, consent = await w.ask(10**9)
            landing = await w.press(consent, decision, tamper)
            assert "Not connected" in landing and words in landing
            with pytest.raises(ConnectError, match=words):
                await connecting.outcome()
            assert w.funding.source() is FundingSource.LOCAL
            assert w.secrets.get(GRANT_SECRET) is None and w.funding.store.wallet() is None

    run(main)


def test_without_a_finish_redirect_the_grant_is_polled_until_approved(tmp_path: Path) -> None:
    async def main() -> None:
        async with funding_world(tmp_path, finish_redirect=False) as w:
            connecting, consent = await w.ask(10**9)
            landing = await w.press(consent, "accept")
            assert "close this tab" in landing
            wallet = await asyncio.wait_for(connecting.outcome(), WAIT)
            assert w.funding.paying_wallet() is wallet
            await pay_some(w, 1)

    run(main)


def test_the_key_not_added_at_the_wallet_says_so(tmp_path: Path) -> None:
    async def main() -> None:
        async with funding_world(tmp_path) as w:
            connecting = await w.funding.begin(w.wallet("user"))
            with pytest.raises(ConnectError, match="does not know Trickle's key"):
                await w.funding.request_grant(connecting, 10**9)

    run(main)


def test_an_expired_token_is_rotated_before_use_and_stored(tmp_path: Path) -> None:
    async def main() -> None:
        async with funding_world(tmp_path, access_token_lifetime=dt.timedelta(minutes=5)) as w:
            wallet = await w.connect(budget=10**12)
            first = wallet.grant.access_token
            w.clock.offset += dt.timedelta(minutes=6)  # both sides: the token has expired
            page = await pay_some(w)
            assert page.stops == [None]
            rotated = wallet.grant.access_token
            assert rotated != first
            saved = w.funding.store.grant()
            assert saved is not None and saved.access_token == rotated

    run(main)


def test_a_token_the_wallet_calls_inactive_is_rotated_and_payment_goes_on(tmp_path: Path) -> None:
    async def main() -> None:
        async with funding_world(tmp_path) as w:
            wallet = await w.connect(budget=10**12)
            first = wallet.grant.access_token
            page = await pay_some(w, 1)
            grant = live_grant(w)
            grant.expires_at = w.clock() - dt.timedelta(seconds=1)  # type: ignore[attr-defined]
            page = await pay_some(w, 2)
            assert page.stops == [None] and wallet.grant.access_token != first
            assert w.funding.store.grant().access_token == wallet.grant.access_token  # type: ignore[union-attr]

    run(main)


def test_disconnect_revokes_the_grant_at_the_wallet_and_forgets_it_here(tmp_path: Path) -> None:
    async def main() -> None:
        async with funding_world(tmp_path) as w:
            wallet = await w.connect(budget=10**12)
            await pay_some(w, 1)
            _, running, page = w.pay(w.wallet("alice"))  # a page still open
            await page.until(lambda: len(page.payments) >= 1)
            old = wallet.grant
            assert await w.funding.disconnect() is None
            await asyncio.wait_for(asyncio.shield(running.task), WAIT)  # it stops paying
            assert page.stops == [None]
            sent, delivered, unresolved = w.history()
            assert unresolved == 0 and sent == delivered == w.debited()
            assert w.funding.source() is FundingSource.LOCAL
            assert w.funding.paying_wallet() is None
            assert w.secrets.get(GRANT_SECRET) is None and w.secrets.get(KEY_SECRET) is None
            assert w.funding.store.wallet() is None
            assert await w.token_refused(old)  # the wallet refuses the old token now
            # a page now is paid from the local account: without an ILP link it cannot be
            handle = w.payments.document("https://blog.example", attending=True)
            with pytest.raises(Exception, match="no payment path"):
                w.payments.pay_link_tag(handle, w.wallet("alice"), None, Page(), provider="")

    run(main)
