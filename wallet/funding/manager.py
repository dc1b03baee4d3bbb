"""The funding sources of Trickle's one wallet: the local account, or the user's Open Payments
wallet — which one pays link-tag sites, connecting a wallet, and disconnecting it.

Connecting (Web Monetization flows, "Connecting a wallet"; issue 19; by finish redirect, or,
with ``finish_redirect=False`` or no loopback port, by polling the grant as FLOWS does):

1. :meth:`Funding.begin` — the user typed a wallet address or payment pointer; Trickle reads
   the wallet address and makes a fresh Ed25519 key ("For every new wallet connection, the
   browser MUST generate a fresh key pair [...] and MUST display the newly generated encoded
   public key JWK"): its private part goes to the keyring at once, its public JWK is shown.
2. :meth:`Funding.request_grant` — once the user added the key at their wallet: an
   interactive grant (``quote``, ``outgoing-payment: create, read`` with ``limits.debitAmount`` =
   the monthly budget and ``interval`` ``R/<now>/P1M``), finishing by redirect to Trickle's
   loopback listener (:mod:`wallet.funding.finish`). The caller opens the returned consent URL
   in a tab.
3. The redirect arrives: its ``hash`` is checked, the grant continued, the tokens and URIs stored
   in the keyring, the wallet's details as a setting, and the wallet becomes the funding source.
   :meth:`Connecting.outcome` resolves with the :class:`ConnectedWallet` (or the error, in words).

Disconnecting cancels the grant at the wallet (``DELETE <continue uri>``; a failure there is
reported but the local records go anyway, as FLOWS allows) and forgets key, tokens and details.

Owns: the active source (through :class:`~wallet.funding.store.FundingStore`), the one
:class:`ConnectedWallet`, the connection attempt in progress. Wallet loop, except the
snapshot readers marked "any thread".
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from wallet.budgets import Asset
from wallet.errors import WalletError
from wallet.funding.connected import (
    ConnectedWallet,
    GrantBudget,
    grant_to_secrets,
    secrets_to_grant,
)
from wallet.funding.finish import FinishListener
from wallet.funding.store import FundingSource, FundingStore, Settings, StoredKey, WalletInfo
from wallet.net.spsp import InvalidPaymentPointerError, resolve_receiver
from wallet.openpayments import errors as op
from wallet.openpayments.client import OpenPaymentsClient
from wallet.openpayments.models import Amount, Grant, WalletAddress
from wallet.openpayments.outgoing_models import (
    GrantLimits,
    InteractionFinish,
    PendingGrant,
    monthly_interval,
)
from wallet.openpayments.transport import HttpResponse, HttpTransport, Transport
from wallet.openpayments.user_wallet import UserWalletClient
from wallet.payments.op_errors import GrantRevokedError
from wallet.secrets import SecretStore
from wallet.store.history import SiteTotal

__all__ = ["ConnectError", "Connecting", "Funding", "FundingStatus"]

log = logging.getLogger(__name__)
Clock = Callable[[], dt.datetime]
# How long Disconnect waits for payments in flight to settle before it cancels the grant
# (after that their fate could no longer be read: they would be charged).
DISCONNECT_GRACE = 15.0
# How long a polled grant waits for the user's decision at their wallet.
CONSENT_TIMEOUT = dt.timedelta(minutes=15)


class ConnectError(WalletError):
    """Connecting the wallet failed; the message says why, for the user."""


class SpentHistory(Settings, Protocol):
    """What the funding sources need of the wallet service (``WalletService`` fits): settings,
    and history, for Trickle's own count of what was paid through a provider."""

    def site_totals(
        self,
        *,
        start: dt.datetime | None = None,
        end: dt.datetime | None = None,
        site: str | None = None,
        provider: str | None = None,
    ) -> list[SiteTotal]: ...


def provider_spent(
    service: SpentHistory, provider: str, start: dt.datetime, end: dt.datetime
) -> int:
    """What history says was paid (sent or of unknown fate) through ``provider`` from the hour
    holding ``start`` to ``end``: a whole first hour, so never less than the truth."""
    hour = start.replace(minute=0, second=0, microsecond=0)
    totals = service.site_totals(start=hour, end=end, provider=provider)
    return sum(t.sent + t.unresolved for t in totals)


@dataclass(frozen=True)
class FundingStatus:
    """A snapshot for the UI (any thread)."""

    source: FundingSource
    wallet: WalletInfo | None
    budget: GrantBudget | None
    problem: str | None  # why the wallet pays nothing (words), with ``reconnect`` as the fix
    reconnect: bool
    trouble: str | None  # the wallet does not answer: Trickle tries again


@dataclass
class Connecting:
    """One attempt to connect a wallet (the user sees its key, then approves at the wallet)."""

    address: WalletAddress
    key: StoredKey = field(repr=False)
    jwk: dict[str, str]
    pending: PendingGrant | None = None
    consent_url: str | None = None
    budget: int = 0
    result: asyncio.Future[ConnectedWallet] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    forget_finish: Callable[[], None] | None = None
    poller: asyncio.Future[None] | None = None

    @property
    def asset(self) -> Asset:
        return Asset(self.address.asset_code, self.address.asset_scale)

    async def outcome(self) -> ConnectedWallet:
        """The connected wallet once the user approved (raises ConnectError otherwise)."""
        return await asyncio.shield(self.result)


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Funding:
    """Which source pays link-tag sites, and the connected wallet (see the module docstring)."""

    def __init__(
        self,
        service: SpentHistory,
        secrets_store: SecretStore | None,
        *,
        transport: Transport | None = None,
        extra_ca_file: str | Path | Callable[[], Awaitable[str | Path | None]] | None = None,
        clock: Clock = _utc_now,
        finish: FinishListener | None = None,
        finish_redirect: bool = True,
    ) -> None:
        self.store = FundingStore(service, secrets_store)
        self._service = service
        self._own_transport: HttpTransport | _LazyTransport | None = None
        if transport is None:
            own = (
                _LazyTransport(extra_ca_file)
                if callable(extra_ca_file)
                else HttpTransport(extra_ca_file=extra_ca_file)
            )
            self._own_transport = own
        self._client = OpenPaymentsClient(transport or own, clock=clock)
        self._clock = clock
        self._finish = finish or FinishListener()
        self._finish_redirect = finish_redirect  # else the grant is polled (FLOWS's way)
        self._wallet: ConnectedWallet | None = None
        self._loaded = False
        self._connecting: Connecting | None = None
        self.listeners: list[Callable[[], None]] = []
        """Called (on the wallet loop) when the source, the wallet or its state changes."""

    # -- any thread: what the UI reads --

    def source(self) -> FundingSource:
        return self.store.source()

    def status(self) -> FundingStatus:
        wallet = self._wallet
        problem = wallet.problem if wallet is not None else None
        info = self.store.wallet()
        if wallet is None and info is not None and self._loaded:
            problem = GrantRevokedError(
                words="Trickle's key and permission for your wallet are missing from the "
                "keyring. Reconnect your wallet to go on paying from it."
            )
        return FundingStatus(
            source=self.store.source(),
            wallet=info,
            budget=wallet.budget() if wallet is not None else None,
            problem=None if problem is None else str(problem),
            reconnect=bool(problem is not None and problem.reconnect),
            trouble=None if wallet is None or wallet.trouble is None else str(wallet.trouble),
        )

    # -- the wallet loop --

    def paying_wallet(self) -> ConnectedWallet | None:
        """The wallet that pays link-tag sites now, or ``None`` (the local account pays)."""
        if self.store.source() is not FundingSource.OPEN_PAYMENTS:
            return None
        return self._wallet

    async def load(self) -> ConnectedWallet | None:
        """The connected wallet from the keyring and settings (once; no network)."""
        if self._loaded:
            return self._wallet
        self._loaded = True
        info = self.store.wallet()
        if info is None:
            return None
        try:
            stored_key, saved = self.store.key(), self.store.grant()
        except WalletError as e:
            log.warning("the connected wallet cannot be loaded: %s", e)
            return None
        if stored_key is None or saved is None:
            return None
        key = stored_key.client_key()
        address = WalletAddress(
            id=info.address,
            public_name=info.public_name,
            asset_code=info.asset.code,
            asset_scale=info.asset.scale,
            auth_server=info.auth_server,
            resource_server=info.resource_server,
        )
        self._install(info, address, secrets_to_grant(saved, key, self._clock()))
        return self._wallet

    def set_source(self, source: FundingSource) -> None:
        self.store.set_source(source)
        self._notify()

    async def begin(self, text: str) -> Connecting:
        """Read the wallet address ``text`` (URL or ``$pointer``) and make a fresh key.

        Raises:
            ConnectError: not a wallet address, unreachable, no keyring.
        """
        url = _wallet_url(text)
        try:
            address = await self._client.get_wallet_address(url)
        except op.OpenPaymentsError as e:
            raise ConnectError(f"{url} is not a wallet address Trickle can use: {e}") from e
        kid = "trickle-" + secrets.token_urlsafe(9)
        key = StoredKey.generate(kid)
        try:
            self.store.save_key(key)  # replaces an earlier key, as the flows spec asks
        except WalletError as e:
            raise ConnectError(str(e)) from e
        connecting = Connecting(address, key, key.client_key().public_jwk())
        self._abandon()
        self._connecting = connecting
        return connecting

    async def request_grant(self, connecting: Connecting, budget: int) -> str:
        """Ask the wallet for the grant; the consent page's URL (open it in a tab).

        Raises:
            ConnectError: the wallet refused (the key not added there, ...).
        """
        if budget <= 0:
            raise ConnectError("The budget must be more than zero.")
        now = self._clock()
        address = connecting.address
        limits = GrantLimits(
            debit_amount=Amount(budget, address.asset_code, address.asset_scale),
            interval=monthly_interval(now),
        )
        client = UserWalletClient(self._client, connecting.key.client_key())

        async def finished(url: str) -> tuple[str, str]:
            return await self._finished(connecting, client, url)

        finish_uri: str | None = None
        forget: Callable[[], None] = _nothing
        if self._finish_redirect:
            try:
                finish_uri, forget = await self._finish.uri(finished)
            except OSError as e:  # no loopback port: poll the grant instead
                log.warning("no finish listener (%s): the grant is polled", e)
        try:
            pending = await client.request_grant(address, limits, finish_uri=finish_uri)
        except op.SignatureError as e:
            forget()
            raise ConnectError(
                "Your wallet does not know Trickle's key yet: add the key shown here to your "
                f"wallet, then try again. ({e})"
            ) from e
        except op.OpenPaymentsError as e:
            forget()
            raise ConnectError(f"Your wallet refused to let Trickle pay from it: {e}") from e
        connecting.pending, connecting.budget = pending, budget
        connecting.consent_url, connecting.forget_finish = pending.redirect_url, forget
        if finish_uri is None:
            connecting.poller = asyncio.ensure_future(self._poll(connecting, client, pending))
        return pending.redirect_url

    async def _poll(
        self, connecting: Connecting, client: UserWalletClient, pending: PendingGrant
    ) -> None:
        """FLOWS "Connecting a wallet" step 13: continue every ``wait`` seconds until the user
        decided at their wallet (a grant requested without a finish redirect)."""
        try:
            granted = await client.wait_for_grant(pending, timeout=CONSENT_TIMEOUT)
            if connecting is not self._connecting:
                return
            wallet = self._connected(connecting, granted)
        except op.GrantRejectedError as e:
            self._fail(connecting, ConnectError(f"You declined at your wallet: {e}"))
        except (op.OpenPaymentsError, WalletError) as e:
            self._fail(connecting, ConnectError(f"Connecting failed: {e}"))
        else:
            if not connecting.result.done():
                connecting.result.set_result(wallet)

    async def _finished(
        self, connecting: Connecting, client: UserWalletClient, url: str
    ) -> tuple[str, str]:
        """The finish redirect arrived: check it, continue the grant, store it."""
        pending = connecting.pending
        try:
            if pending is None or connecting is not self._connecting:
                raise ConnectError("Trickle is not waiting for this wallet any more.")
            finish = InteractionFinish.from_redirect(url)
            pending.verify_finish(finish)
            granted = await self._continue(client, pending, finish.interact_ref)
            if not isinstance(granted, Grant):
                raise ConnectError("Your wallet did not finish the grant.")
            wallet = self._connected(connecting, granted)
        except op.GrantRejectedError as e:
            error = ConnectError(f"You declined at your wallet: Trickle is not connected. ({e})")
            self._fail(connecting, error)
            return "Not connected", str(error)
        except (op.OpenPaymentsError, WalletError) as e:
            error = e if isinstance(e, ConnectError) else ConnectError(f"Connecting failed: {e}")
            self._fail(connecting, error)
            return "Not connected", str(error)
        if not connecting.result.done():
            connecting.result.set_result(wallet)
        name = connecting.address.public_name or connecting.address.id
        return (
            "Trickle is connected to your wallet",
            f"Trickle now pays the sites you visit from {name}, within the budget you gave it. "
            "You can close this tab.",
        )

    async def _continue(
        self, client: UserWalletClient, pending: PendingGrant, ref: str
    ) -> Grant | PendingGrant:
        """Continue with the ``interact_ref``, no sooner than the wallet's ``wait`` allows
        (Rafiki answers ``too_fast`` before; once more after it says so)."""
        for _ in range(2):
            delay = (pending.next_poll_at() - self._clock()).total_seconds()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                return await client.continue_grant(pending, interact_ref=ref)
            except op.TooFastError:
                pending = replace(pending, requested_at=self._clock())
        return await client.continue_grant(pending, interact_ref=ref)

    def _fail(self, connecting: Connecting, error: ConnectError) -> None:
        if not connecting.result.done():
            connecting.result.set_exception(error)
        if self._connecting is connecting:
            self._connecting = None

    def _connected(self, connecting: Connecting, grant: Grant) -> ConnectedWallet:
        address = connecting.address
        info = WalletInfo(
            address=address.id,
            public_name=address.public_name,
            asset=connecting.asset,
            auth_server=address.auth_server,
            resource_server=address.resource_server,
            kid=connecting.key.kid,
            budget=_limit_of(grant) or connecting.budget,
            interval=_interval_of(grant),
            connected_at=self._clock(),
        )
        self.store.save_grant(grant_to_secrets(grant))
        self.store.save_wallet(info)
        self.store.set_source(FundingSource.OPEN_PAYMENTS)
        self._connecting = None
        self._loaded = True
        self._install(info, address, grant)
        assert self._wallet is not None
        return self._wallet

    def _install(self, info: WalletInfo, address: WalletAddress, grant: Grant) -> None:
        if self._wallet is not None:
            self._wallet.closed = True
            self._wallet.clear_problem()  # sessions waiting on it wake and see the new one
        wallet = ConnectedWallet(
            info,
            address,
            grant,
            UserWalletClient(self._client, grant.key),
            self.store,
            spent_between=lambda start, end: provider_spent(
                self._service, info.address, start, end
            ),
            clock=self._clock,
        )
        wallet.listeners.append(self._notify)
        self._wallet = wallet
        self._notify()

    async def disconnect(self) -> str | None:
        """Cancel the grant at the wallet and forget it here; the local account pays again.
        Returns a warning in words if the wallet could not be told (the records go anyway)."""
        self._abandon()
        wallet, self._wallet = self._wallet, None
        warning = None
        if wallet is not None:
            wallet.closed = True  # no new payments; the ones in flight settle first
            wallet.clear_problem()
            await wallet.until_idle(DISCONNECT_GRACE)
            client = UserWalletClient(self._client, wallet.grant.key)
            try:
                await client.cancel_grant(wallet.grant)
            except op.GrantRevokedError:
                pass  # already gone at the wallet
            except op.OpenPaymentsError as e:
                warning = f"Your wallet could not be told to cancel Trickle's permission: {e}"
            wallet.clear_problem()
        self.store.forget()
        self._notify()
        return warning

    def _abandon(self) -> None:
        connecting, self._connecting = self._connecting, None
        if connecting is not None:
            if connecting.forget_finish is not None:
                connecting.forget_finish()
            if connecting.poller is not None:
                connecting.poller.cancel()
            self._fail(connecting, ConnectError("Connecting was started again."))

    def _notify(self) -> None:
        for listener in list(self.listeners):
            try:
                listener()
            except Exception:
                log.exception("a funding listener failed")

    async def close(self) -> None:
        self._abandon()
        await self._finish.close()
        if self._own_transport is not None:
            await self._own_transport.close()


class _LazyTransport:
    """An :class:`HttpTransport` made on first use, once ``ca_file()`` says which extra CA
    to trust (the sandbox's starts after the funding sources are built)."""

    def __init__(self, ca_file: Callable[[], Awaitable[str | Path | None]]) -> None:
        self._ca_file = ca_file
        self._made: HttpTransport | None = None

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        once: bool = False,
    ) -> HttpResponse:
        if self._made is None:
            self._made = HttpTransport(extra_ca_file=await self._ca_file())
        return await self._made.request(method, url, headers, body, once=once)

    async def close(self) -> None:
        if self._made is not None:
            await self._made.close()


def _nothing() -> None:
    pass


def _wallet_url(text: str) -> str:
    text = text.strip()
    if not text:
        raise ConnectError("Type your wallet address (https://…) or payment pointer ($…).")
    if text.startswith("$"):
        try:
            return resolve_receiver(text)
        except InvalidPaymentPointerError as e:
            raise ConnectError(str(e)) from e
    if not text.startswith("https://"):
        raise ConnectError(f"{text!r} is not a wallet address: it must start with https:// or $.")
    return text


def _limits(grant: Grant) -> Mapping[str, Any]:
    """The ``limits`` the wallet actually granted (they may differ from what was asked)."""
    for item in grant.access:
        limits = item.get("limits")
        if item.get("type") == "outgoing-payment" and isinstance(limits, Mapping):
            return limits
    return {}


def _interval_of(grant: Grant) -> str | None:
    interval = _limits(grant).get("interval")
    return interval if isinstance(interval, str) else None


def _limit_of(grant: Grant) -> int | None:
    debit = _limits(grant).get("debitAmount")
    value = debit.get("value") if isinstance(debit, Mapping) else None
    return int(value) if isinstance(value, str) and value.isdigit() else None
