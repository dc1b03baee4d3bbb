"""The paying side of the sandbox wallet: funded wallets' balances, quotes, outgoing payments,
and the STREAM sender that really moves their money over the sandbox network.

A funded wallet (``add_wallet(..., balance=N)``) gets its own account on the sandbox network,
``<network>.wallet-<name>``. An outgoing payment is, as in Rafiki (RAF backend
``payment/outgoing/lifecycle.ts``): FUNDING (the operator reserves the debit amount from the
balance; when it cannot, it cancels the payment, ``failed: true`` with
``metadata.cancellationReason``), SENDING (Trickle's STREAM client pays fresh credentials of the
receiving incoming payment, through the network to the server's own account, where
:meth:`OpenPaymentsLedger.handle_prepare` credits the incoming payment), then COMPLETED, or
FAILED with what was sent. What was not sent goes back to the balance.

Fees, as Rafiki takes them (RAF ``open_payments/quote/service.ts``): an operator's sending fee
(a fixed part plus basis points of the debit amount) comes *out of* a quote's ``debitAmount``:
the quote debits what was asked, sends and delivers ``debitAmount`` − fee, and a completed
payment's ``sentAmount`` is that, less than its ``debitAmount``; the fee stays with the
operator. A failed payment debits only what it sent (the operator returns the rest, fee
included, as Rafiki's own account-servicing reference and the Interledger test wallet do).
``min_send_amount`` is what must *arrive*: with a fee, the ``minSendAmount`` a refused quote
names is the debit that delivers it.

One owner: :class:`PayerBooks` owns balances, quotes and outgoing payments.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import enum
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from wallet.errors import WalletError
from wallet.net.ildcp import fetch_account_config
from wallet.net.link import Link
from wallet.net.router import Router
from wallet.net.stream_client import connect
from wallet.openpayments.models import format_timestamp
from wallet.sandbox.network import SandboxNetwork
from wallet.sandbox.op_ledger import OpenPaymentsLedger, SandboxIncomingPayment, SandboxWallet
from wallet.stream import ConnectionConfig

__all__ = [
    "INSUFFICIENT_BALANCE",
    "QUOTE_LIFESPAN",
    "OutgoingState",
    "PayerBooks",
    "SandboxOutgoingPayment",
    "SandboxQuote",
    "SendingFee",
]

QUOTE_LIFESPAN: Final = dt.timedelta(minutes=5)  # Rafiki's QUOTE_LIFESPAN
SEND_TIMEOUT: Final = 30.0
INSUFFICIENT_BALANCE: Final = "insufficient balance"  # Rafiki's TransferError message


def _amount(wallet: SandboxWallet, value: int) -> dict[str, object]:
    return {"value": str(value), "assetCode": wallet.asset_code, "assetScale": wallet.asset_scale}


@dataclass(frozen=True)
class SendingFee:
    """An operator's fee on sending: ``fixed`` units plus ``basis_points`` of the debit
    (rounded up), taken out of the debit amount."""

    fixed: int = 0
    basis_points: int = 0

    def __post_init__(self) -> None:
        if self.fixed < 0 or not 0 <= self.basis_points < 10_000:
            raise ValueError("a fee is a non-negative fixed part and under 100 %")

    def of(self, debit: int) -> int:
        """The fee on a debit of ``debit`` (never more than the debit)."""
        return min(debit, self.fixed + -(-debit * self.basis_points // 10_000))

    def least_debit(self, arrives: int) -> int:
        """The smallest debit of which at least ``arrives`` is left once the fee is taken."""
        debit = -(-(arrives + self.fixed) * 10_000 // (10_000 - self.basis_points))
        while debit > 1 and debit - 1 - self.of(debit - 1) >= arrives:
            debit -= 1
        while debit - self.of(debit) < arrives:
            debit += 1
        return debit


@dataclass
class SandboxQuote:
    id: str
    wallet: SandboxWallet
    receiver: SandboxIncomingPayment
    debit: int
    receive: int
    created_at: dt.datetime
    expires_at: dt.datetime
    fee: int = 0  # taken out of ``debit``: ``debit - fee`` is sent
    used: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "walletAddress": self.wallet.id,
            "receiver": self.receiver.id,
            "debitAmount": _amount(self.wallet, self.debit),
            "receiveAmount": _amount(self.receiver.wallet, self.receive),
            "method": "ilp",
            "createdAt": format_timestamp(self.created_at),
            "expiresAt": format_timestamp(self.expires_at),
        }


class OutgoingState(enum.Enum):
    FUNDING = "FUNDING"
    SENDING = "SENDING"
    COMPLETED = "COMPLETED"
    FAILED = "FAILED"


@dataclass
class SandboxOutgoingPayment:
    id: str
    wallet: SandboxWallet
    receiver: SandboxIncomingPayment
    quote_id: str
    grant_id: str
    client: str  # the client wallet (or kid) that created it: `read` shows only its own
    debit: int
    receive: int
    created_at: dt.datetime
    metadata: Mapping[str, Any] | None = None
    fee: int = 0
    sent: int = 0
    state: OutgoingState = OutgoingState.FUNDING
    failure: str | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def failed(self) -> bool:
        return self.state is OutgoingState.FAILED

    def to_json(self, spent: tuple[int, int] | None = None) -> dict[str, Any]:
        """``outgoing-payment`` (or ``-with-spent-amounts`` when ``spent`` is given)."""
        metadata = dict(self.metadata or {})
        if self.failure is not None:
            metadata["cancellationReason"] = self.failure
        doc: dict[str, Any] = {
            "id": self.id,
            "walletAddress": self.wallet.id,
            "quoteId": self.quote_id,
            "failed": self.failed,
            "receiver": self.receiver.id,
            "receiveAmount": _amount(self.receiver.wallet, self.receive),
            "debitAmount": _amount(self.wallet, self.debit),
            "sentAmount": _amount(self.wallet, self.sent),
            "createdAt": format_timestamp(self.created_at),
        }
        if metadata:
            doc["metadata"] = metadata
        if spent is not None:
            doc["grantSpentDebitAmount"] = _amount(self.wallet, spent[0])
            doc["grantSpentReceiveAmount"] = _amount(self.receiver.wallet, spent[1])
        return doc


@dataclass
class _Sender:
    link: Link
    router: Router | None = None
    address: str = ""
    setup: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def ready(self) -> Router:
        """The account's router, made once (IL-DCP first) however many payments start."""
        async with self.setup:
            if self.router is None:
                account = await fetch_account_config(self.link)
                self.address = account.client_address
                self.router = Router(self.link, own_address=self.address)
            return self.router


class PayerBooks:
    """Balances, quotes and outgoing payments of the sandbox's funded wallets."""

    def __init__(
        self,
        network: SandboxNetwork,
        ledger: OpenPaymentsLedger,
        *,
        clock: Callable[[], dt.datetime],
        min_send_amount: int = 1,
        fee: SendingFee | None = None,
    ) -> None:
        self.network = network
        self.ledger = ledger
        self.clock = clock
        self.min_send_amount = min_send_amount
        """The least that must arrive (a stand-in for the exchange-rate rounding that makes
        Rafiki refuse tiny quotes)."""
        self.fee = fee or SendingFee()
        """The operator's sending fee (see the module docstring)."""
        self.fail_after: int | None = None
        """Tests: payments send at most this much, then fail (a path that breaks mid-payment)."""
        self.balances: dict[str, int] = {}
        self.quotes: dict[str, SandboxQuote] = {}
        self.outgoing: dict[str, SandboxOutgoingPayment] = {}
        self._senders: dict[str, _Sender] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def fund(self, wallet: SandboxWallet, amount: int) -> None:
        """Give ``wallet`` ``amount`` of play money (and, the first time, its network account)."""
        if amount < 0:
            raise ValueError("a balance is never negative")
        if wallet.id not in self._senders:
            self._senders[wallet.id] = _Sender(self.network.account(f"wallet-{wallet.name}"))
        self.balances[wallet.id] = self.balances.get(wallet.id, 0) + amount

    def can_pay(self, wallet_id: str) -> bool:
        return wallet_id in self._senders

    # -- quotes ---------------------------------------------------------------------------

    def too_small(self, debit: int) -> bool:
        """Whether less than :attr:`min_send_amount` would arrive of ``debit``."""
        return debit - self.fee.of(debit) < self.min_send_amount

    def min_debit(self) -> int:
        """The ``minSendAmount`` a refused quote names: the least debit that is not too small."""
        return self.fee.least_debit(self.min_send_amount)

    def quote(
        self, wallet: SandboxWallet, receiver: SandboxIncomingPayment, debit: int, quote_id: str
    ) -> SandboxQuote:
        """A quote for ``debit`` (one asset: what is sent arrives; the fee comes out of it)."""
        now = self.clock()
        fee = self.fee.of(debit)
        quote = SandboxQuote(
            id=quote_id,
            wallet=wallet,
            receiver=receiver,
            debit=debit,
            receive=debit - fee,
            created_at=now,
            expires_at=now + QUOTE_LIFESPAN,
            fee=fee,
        )
        self.quotes[quote.id] = quote
        return quote

    # -- grant limits ---------------------------------------------------------------------

    def spent(
        self, grant_id: str, window: tuple[dt.datetime, dt.datetime] | None
    ) -> tuple[int, int]:
        """``(debit, receive)`` spent under ``grant_id`` in ``window`` (all time if ``None``):
        a failed payment counts with what it sent."""
        debit = receive = 0
        for payment in self.outgoing.values():
            if payment.grant_id != grant_id:
                continue
            if window is not None and not window[0] <= payment.created_at < window[1]:
                continue
            if payment.failed:
                debit += payment.sent
                receive += payment.sent
            else:
                debit += payment.debit
                receive += payment.receive
        return debit, receive

    # -- outgoing payments ----------------------------------------------------------------

    def create_outgoing(
        self,
        *,
        payment_id: str,
        quote: SandboxQuote,
        grant_id: str,
        client: str,
        metadata: Mapping[str, Any] | None,
    ) -> SandboxOutgoingPayment:
        """Record the payment and fund it: reserve its debit amount, or cancel it for lack of
        money; a funded payment starts sending in the background."""
        quote.used = True
        payment = SandboxOutgoingPayment(
            id=payment_id,
            wallet=quote.wallet,
            receiver=quote.receiver,
            quote_id=quote.id,
            grant_id=grant_id,
            client=client,
            debit=quote.debit,
            receive=quote.receive,
            created_at=self.clock(),
            metadata=metadata,
            fee=quote.fee,
        )
        self.outgoing[payment.id] = payment
        balance = self.balances.get(payment.wallet.id, 0)
        if balance < payment.debit:
            self._finish(payment, OutgoingState.FAILED, INSUFFICIENT_BALANCE)
            return payment
        self.balances[payment.wallet.id] = balance - payment.debit
        payment.state = OutgoingState.SENDING
        task = asyncio.get_running_loop().create_task(self._send(payment))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return payment

    async def _send(self, payment: SandboxOutgoingPayment) -> None:
        sender = self._senders[payment.wallet.id]
        conn = None
        try:
            router = await sender.ready()
            address, secret = await self.ledger.fresh_credentials(payment.receiver)
            conn = await connect(
                sender.link,
                ConnectionConfig(
                    shared_secret=secret,
                    asset_code=payment.wallet.asset_code,
                    asset_scale=payment.wallet.asset_scale,
                    source_account=sender.address,
                    destination_account=address,
                ),
                router=router,
            )
            stream = conn.create_stream()
            to_send = payment.debit - payment.fee
            if self.fail_after is not None:
                to_send = min(to_send, self.fail_after)
            sending = asyncio.ensure_future(stream.send_total(to_send))
            loop = asyncio.get_running_loop()
            deadline = loop.time() + SEND_TIMEOUT
            while not sending.done() and loop.time() < deadline:
                payment.sent = conn.total_sent  # GET shows the progress
                await asyncio.wait({sending}, timeout=0.05)
            payment.sent = conn.total_sent
            if not sending.done():
                sending.cancel()
                raise TimeoutError
            sending.result()
            if payment.sent < payment.debit - payment.fee:
                raise _PathBroke
        except (WalletError, TimeoutError, _PathBroke) as e:
            payment.sent = conn.total_sent if conn is not None else payment.sent
            self._settle(payment, f"sending failed: {type(e).__name__}")
            return
        finally:
            if conn is not None:
                conn.close()
        self._settle(payment, None)

    def _settle(self, payment: SandboxOutgoingPayment, failure: str | None) -> None:
        """Completed: the fee is kept; failed: all that was not sent goes back."""
        completed = failure is None and payment.sent >= payment.debit - payment.fee
        kept = payment.debit if completed else payment.sent
        self.balances[payment.wallet.id] += max(payment.debit - kept, 0)
        if completed:
            self._finish(payment, OutgoingState.COMPLETED, None)
        else:
            self._finish(payment, OutgoingState.FAILED, failure or "not everything was sent")

    @staticmethod
    def _finish(payment: SandboxOutgoingPayment, state: OutgoingState, failure: str | None) -> None:
        payment.state = state
        payment.failure = failure
        payment.done.set()

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


class _PathBroke(Exception):
    """The test hook :attr:`PayerBooks.fail_after` stopped a payment part way."""


def new_id(base: str) -> str:
    return f"{base}/{uuid.uuid4()}"
