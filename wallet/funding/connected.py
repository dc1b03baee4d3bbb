"""The connected Open Payments wallet at work: pays, keeps its grant's budget, rotates its token.

A :class:`ConnectedWallet` is the :class:`~wallet.payments.op_sessions.PayingWallet` every
Open Payments link session pays through. It owns, on the wallet loop:

* the grant (access token, rotated when it expires or the wallet calls it inactive; each new
  token goes to the keyring at once) and the user's signing key;
* **what is left of the grant**: ``debitAmount`` less the larger of what the wallet says the
  grant spent (``GET /outgoing-payment-grant``, or the spent amounts an outgoing payment's
  creation returns) and Trickle's own count (history for this wallet in the grant's current
  period, plus what settled since), less what payments in flight have claimed. So the smaller
  "left" of the two counts is what sessions may use, and concurrent sessions never ask for
  more than the grant allows;
* the receivers' minimum sendable amounts, learnt by quoting;
* the wallet's *problem* (a refusal that concerns every site: budget used up, not enough
  money, grant revoked, key not accepted) and its *trouble* (it does not answer; Trickle tries
  again), in words for the user, with listeners for the UI.

Every Open Payments error becomes a :mod:`wallet.payments.op_errors` error here; whether a
failed request may have made a payment decides between "refused" (released) and
:class:`~wallet.payments.op_errors.PaymentFateUnknownError` (charged).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from wallet.budgets import Asset
from wallet.funding.store import FundingStore, GrantSecrets, WalletInfo
from wallet.openpayments import errors as op
from wallet.openpayments.intervals import RepeatingInterval  # as the wallet reads it
from wallet.openpayments.models import Amount, Grant, WalletAddress
from wallet.openpayments.outgoing_models import OutgoingPayment, OutgoingPaymentState
from wallet.openpayments.signing import ClientKey
from wallet.openpayments.user_wallet import UserWalletClient
from wallet.payments.op_errors import (
    FundingError,
    GrantRevokedError,
    GrantUsedUpError,
    InsufficientFundsError,
    InvalidReceiverError,
    KeyNotAcceptedError,
    PaymentFateUnknownError,
    WalletRefusedError,
    WalletStuckError,
)
from wallet.payments.op_sessions import PaymentState, WalletPayment

__all__ = ["ConnectedWallet", "GrantBudget", "grant_to_secrets", "secrets_to_grant"]

log = logging.getLogger(__name__)
_T = TypeVar("_T")
Clock = Callable[[], dt.datetime]
# Trickle's own count of the grant's spending in a period: history for the wallet between two
# times (source units), supplied by the wallet service.
SpentBetween = Callable[[dt.datetime, dt.datetime], int]
# How long the wallet's own "spent" answer is trusted before it is asked again.
SPENT_REFRESH = dt.timedelta(seconds=30)
# Probing the receiver's minimum: the largest amount tried before giving up.
MAX_PROBE = 10**15


@dataclass(frozen=True)
class GrantBudget:
    """What the UI shows of the grant: its limit, what is left, when it renews."""

    limit: int
    left: int
    asset: Asset
    period_end: dt.datetime | None  # when the budget renews (``None``: it does not)
    wallet_spent: int | None  # the wallet's own count (``None``: it does not say)
    trickle_spent: int


def grant_to_secrets(grant: Grant) -> GrantSecrets:
    return GrantSecrets(
        access_token=grant.access_token,
        manage_uri=grant.manage_url,
        expires_at=grant.expires_at,
        continue_token=grant.continue_token,
        continue_uri=grant.continue_uri,
    )


def secrets_to_grant(saved: GrantSecrets, key: ClientKey, now: dt.datetime) -> Grant:
    """A :class:`Grant` from the keyring's record (``expires_in`` re-based on ``now``)."""
    expires_in = None
    if saved.expires_at is not None:
        expires_in = max(0, int((saved.expires_at - now).total_seconds()))
    return Grant(
        access_token=saved.access_token,
        manage_url=saved.manage_uri,
        expires_in=expires_in,
        continue_uri=saved.continue_uri,
        continue_token=saved.continue_token,
        key=key,
        issued_at=now,
    )


class ConnectedWallet:
    """Pays from the user's wallet under its grant (see the module docstring). Wallet loop."""

    def __init__(
        self,
        info: WalletInfo,
        address: WalletAddress,
        grant: Grant,
        client: UserWalletClient,
        store: FundingStore,
        *,
        spent_between: SpentBetween,
        clock: Clock,
    ) -> None:
        self.info = info
        self._address = address
        self._grant = grant
        self._client = client
        self._store = store
        self._spent_between = spent_between
        self._clock = clock
        try:
            self._interval = RepeatingInterval.parse(info.interval) if info.interval else None
        except ValueError:
            self._interval = None
        self._period: tuple[dt.datetime, dt.datetime | None] | None = None
        self._trickle_spent = 0
        self._wallet_spent: int | None = None
        self._wallet_spent_at: dt.datetime | None = None
        self._claims = 0
        self._minimums: dict[str, int] = {}
        self._rotating: asyncio.Lock = asyncio.Lock()
        self._changed: asyncio.Event = asyncio.Event()
        self.problem: FundingError | None = None
        self.trouble: FundingError | None = None
        self.listeners: list[Callable[[], None]] = []
        self.closed = False

    # -- what sessions see (PayingWallet) --

    @property
    def provider(self) -> str:
        return self.info.address

    @property
    def asset(self) -> Asset:
        return self.info.asset

    def left(self) -> int:
        self._roll_period()
        spent = max(self._trickle_spent, self._wallet_spent or 0)
        return max(0, self.info.budget - spent - self._claims)

    def busy(self) -> bool:
        return self._claims > 0

    def claim(self, amount: int) -> None:
        self._claims += amount

    def settle(self, amount: int, *, spent: int) -> None:
        self._claims -= amount
        self._trickle_spent += spent
        self._notify()

    def used_up(self) -> FundingError:
        error = GrantUsedUpError(self._renewal_words())
        self.report(error, site="")
        return error

    def report(self, problem: FundingError | None, *, site: str) -> None:
        if problem is None:
            retried = self.problem is not None and self.problem.retry
            if self.trouble is not None or retried:
                self.trouble = None
                if retried:
                    self.problem = None  # money came: it pays again
                self._notify()
            return
        if problem.for_wallet:
            if self.problem is None:
                log.info("the connected wallet stops paying: %s", problem)
            self.problem = problem
        elif isinstance(problem, WalletStuckError):
            self.trouble = problem
        self._notify()

    def wait_for_change(self) -> Awaitable[object]:
        return self._changed.wait()

    async def until_idle(self, timeout: float) -> None:
        """Until no payment is in flight (at most ``timeout`` seconds)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self._claims and loop.time() < deadline:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), deadline - loop.time())

    def clear_problem(self) -> None:
        """The user fixed it (added money, say): sessions may try again."""
        self.problem = None
        self._notify()

    def _notify(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()
        for listener in list(self.listeners):
            listener()

    # -- the grant's budget --

    def budget(self) -> GrantBudget:
        self._roll_period()
        period = self._period
        return GrantBudget(
            limit=self.info.budget,
            left=self.left() + self._claims,
            asset=self.info.asset,
            period_end=period[1] if period else None,
            wallet_spent=self._wallet_spent,
            trickle_spent=self._trickle_spent,
        )

    def _roll_period(self) -> None:
        now = self._clock()
        if self._interval is None:
            period: tuple[dt.datetime, dt.datetime | None] = (self.info.connected_at, None)
        else:
            found = self._interval.window(now)
            period = found if found is not None else (self.info.connected_at, None)
        if period == self._period:
            return
        self._period = period
        end = period[1] or now + dt.timedelta(days=1)
        self._trickle_spent = self._spent_between(period[0], end)
        self._wallet_spent = None  # the wallet's count is of its current period: ask again
        self._wallet_spent_at = None
        if self.problem is not None and isinstance(self.problem, GrantUsedUpError):
            self.problem = None  # a new period, a new budget

    def _renewal_words(self) -> str | None:
        period = self._period
        if period is None or period[1] is None:
            return None
        return period[1].strftime("%d %B %Y, %H:%M UTC")

    async def refresh_spent(self, *, force: bool = False) -> None:
        """Ask the wallet what the grant spent (where it says), at most every 30 s."""
        now = self._clock()
        if (
            not force
            and self._wallet_spent_at is not None
            and now - self._wallet_spent_at < SPENT_REFRESH
        ):
            return
        self._roll_period()
        try:
            spent = await self._authorized(
                lambda grant: self._client.get_grant_spent_amounts(self._address, grant)
            )
        except FundingError as e:
            self.report(e, site="")
            return
        self._wallet_spent_at = now
        if spent is not None and spent.debit_amount is not None:
            self._wallet_spent = spent.debit_amount.value
        self._notify()

    # -- paying --

    async def min_send(self, receiver: str) -> int:
        """Probe quotes as the Web Monetization extension does (OPEN-PAYMENTS-NOTES §7): 1
        unit; on "too small" the wallet's ``minSendAmount`` if given, else grow, then
        bisect down between the last failure and the first success."""
        key = _receiver_key(receiver)
        known = self._minimums.get(key)
        if known is not None:
            return known
        low, amount, step = 0, 1, 0  # low: the largest amount known too small
        while True:
            try:
                await self._quote(receiver, amount)
                break
            except _TooSmall as e:
                low = amount
                if e.minimum is not None and e.minimum > amount:
                    amount = e.minimum
                else:
                    step += 1
                    amount = amount * 2 + step
                if amount > MAX_PROBE:
                    raise WalletRefusedError(
                        "no amount Trickle may send reaches this site's wallet"
                    ) from e
        high = amount
        while high - low > 1:
            mid = (low + high) // 2
            try:
                await self._quote(receiver, mid)
                high = mid
            except _TooSmall:
                low = mid
        self._minimums[key] = high
        return high

    async def _quote(self, receiver: str, amount: int) -> None:
        debit = Amount(amount, self.asset.code, self.asset.scale)
        try:
            await self._authorized(
                lambda grant: self._client.create_quote(
                    self._address, grant, receiver, debit_amount=debit
                ),
                translate_too_small=False,
            )
        except op.QuoteTooSmallError as e:
            minimum = e.min_send_amount
            known = isinstance(minimum, Amount) and minimum.asset_code == self.asset.code
            raise _TooSmall(minimum.value if isinstance(minimum, Amount) and known else None) from e

    async def create_payment(self, receiver: str, debit: int) -> WalletPayment:
        amount = Amount(debit, self.asset.code, self.asset.scale)
        try:
            payment = await self._authorized(
                lambda grant: self._client.pay(
                    self._address,
                    grant,
                    receiver,
                    amount,
                    metadata={"source": "Web Monetization"},
                ),
                maybe_paid=True,
            )
        except WalletStuckError:
            raise
        except FundingError as e:
            if isinstance(e, InvalidReceiverError | WalletRefusedError):
                self._minimums.pop(_receiver_key(receiver), None)
            raise
        if payment.grant_spent_debit_amount is not None:
            self._wallet_spent = payment.grant_spent_debit_amount.value
            self._wallet_spent_at = self._clock()
        return _wallet_payment(payment)

    async def read_payment(self, payment: WalletPayment) -> WalletPayment:
        latest = await self._authorized(
            lambda grant: self._client.get_outgoing_payment(payment.id, grant)
        )
        return _wallet_payment(latest)

    # -- tokens and errors --

    async def _authorized(
        self,
        call: Callable[[Grant], Awaitable[_T]],
        *,
        maybe_paid: bool = False,
        translate_too_small: bool = True,
    ) -> _T:
        """``call`` with a live token: rotated first when it expired, and once more when the
        wallet calls it inactive. Open Payments errors become funding errors."""
        try:
            if self._grant.expired(self._clock()):
                await self._rotate(self._grant)
            grant = self._grant
            try:
                return await call(grant)
            except op.TokenInactiveError:
                await self._rotate(grant)
                return await call(self._grant)
        except op.QuoteTooSmallError:
            if not translate_too_small:
                raise
            raise WalletRefusedError("the amount is too small for this site's wallet") from None
        except op.OpenPaymentsError as e:
            raise _funding_error(e, maybe_paid=maybe_paid) from e

    async def _rotate(self, stale: Grant) -> None:
        async with self._rotating:
            if self._grant is not stale:
                return  # another request rotated it meanwhile
            rotated = await self._client.rotate_token(stale)
            self._grant = rotated
            self._store.save_grant(grant_to_secrets(rotated))
            log.info("rotated the connected wallet's access token")

    @property
    def grant(self) -> Grant:
        return self._grant

    def replace_info(self, **changes: object) -> None:
        self.info = replace(self.info, **changes)  # type: ignore[arg-type]


class _TooSmall(Exception):
    def __init__(self, minimum: int | None) -> None:
        super().__init__("too small")
        self.minimum = minimum


def _receiver_key(receiver: str) -> str:
    """Minimums are per receiving wallet: its incoming payments share them."""
    return receiver.rsplit("/incoming-payments/", 1)[0]


def _wallet_payment(payment: OutgoingPayment) -> WalletPayment:
    state = {
        OutgoingPaymentState.SENDING: PaymentState.PENDING,
        OutgoingPaymentState.COMPLETED: PaymentState.COMPLETED,
        OutgoingPaymentState.FAILED: PaymentState.FAILED,
    }[payment.state]
    failure: FundingError | None = None
    if state is PaymentState.FAILED:
        reason = (payment.cancellation_reason or "").lower()
        failure = InsufficientFundsError() if "insufficient" in reason else FundingError()
    receive, debit, sent = payment.receive_amount, payment.debit_amount, payment.sent_amount
    return WalletPayment(
        id=payment.id,
        state=state,
        debit=debit.value,
        sent=sent.value,
        receive=receive.value,
        receive_asset=Asset(receive.asset_code, receive.asset_scale),
        failure=failure,
        asset=Asset(debit.asset_code, debit.asset_scale),
        sent_asset=Asset(sent.asset_code, sent.asset_scale),
    )


def _funding_error(error: op.OpenPaymentsError, *, maybe_paid: bool) -> FundingError:
    """The payment layer's error for an Open Payments failure; ``maybe_paid``: the request
    could have created a payment (then anything but a clear refusal is of unknown fate)."""
    detail = str(error)
    if isinstance(error, op.GrantExhaustedError):
        return GrantUsedUpError()
    if isinstance(error, op.GrantRevokedError | op.TokenInactiveError | op.AccessDeniedError):
        return GrantRevokedError(detail)
    if isinstance(error, op.SignatureError):
        return KeyNotAcceptedError(detail)
    if isinstance(error, op.InvalidReceiverError | op.IncomingPaymentExpiredError):
        return InvalidReceiverError(detail)
    if isinstance(error, op.InsufficientFundsError):
        return InsufficientFundsError()
    if isinstance(error, op.PaymentOutcomeUnknownError):
        return PaymentFateUnknownError(f"the wallet's answer was lost: {detail}")
    if isinstance(error, op.NotSentError):
        return WalletStuckError(f"the wallet cannot be reached: {detail}")
    if isinstance(error, op.UnreachableError):
        if maybe_paid:
            return PaymentFateUnknownError(f"the wallet did not answer: {detail}")
        return WalletStuckError(f"the wallet cannot be reached: {detail}")
    if isinstance(error, op.ServerRefusedError) and (error.status or 0) < 500:
        return WalletRefusedError(detail)
    if maybe_paid:
        return PaymentFateUnknownError(detail)  # a 5xx, an unreadable answer: maybe made
    return WalletStuckError(detail)
