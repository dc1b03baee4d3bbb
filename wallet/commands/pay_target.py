"""``trickle pay <wallet address URL>``: an Open Payments incoming payment, then STREAM.

An ``https:`` RECEIVER is first asked for Open Payments wallet JSON (``Accept:
application/json``): if it answers, a non-interactive incoming-payment grant (a fresh key, in
memory only, cancelled at once) gives an incoming payment whose ``ilp`` method holds the STREAM
credentials, and after the payment its ``receivedAmount`` is read back (the unauthenticated GET
anyone may make) and printed. If it answers SPSP instead, it is paid over SPSP as before. The
protocol is :mod:`wallet.openpayments.receiver`'s; this module only adapts it to the command:
trust (the system store plus ``$TRICKLE_EXTRA_CA_FILE``), errors in words, and the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from wallet.openpayments.client import OpenPaymentsClient
from wallet.openpayments.errors import OpenPaymentsError
from wallet.openpayments.models import Amount
from wallet.openpayments.receiver import PaymentTarget, open_payment_target, read_received_amount
from wallet.openpayments.transport import HttpTransport

__all__ = ["WalletAddressPayment", "is_wallet_address_candidate"]


def is_wallet_address_candidate(receiver: str) -> bool:
    """An ``https:`` URL (not a ``$`` pointer): asked for wallet JSON first."""
    text = receiver.strip()
    return not text.startswith("$") and urlsplit(text).scheme == "https"


@dataclass
class WalletAddressPayment:
    """One command-line payment to a wallet address (or an https URL that answers SPSP)."""

    url: str
    transport: HttpTransport
    client: OpenPaymentsClient
    target: PaymentTarget | None = None

    @classmethod
    def for_url(cls, url: str) -> WalletAddressPayment:
        transport = HttpTransport()  # trusts $TRICKLE_EXTRA_CA_FILE besides the system store
        return cls(url, transport, OpenPaymentsClient(transport))

    async def credentials(self) -> tuple[str, bytes]:
        """The STREAM destination and secret (a new incoming payment, or SPSP's answer).

        Raises:
            OpenPaymentsError: the wallet, its auth or resource server failed, named.
        """
        self.target = await open_payment_target(self.client, self.url, transport=self.transport)
        return self.target.destination_account, self.target.shared_secret

    @property
    def incoming_payment(self) -> str | None:
        return self.target.incoming_payment_url if self.target else None

    async def received(self) -> tuple[Amount | None, str | None]:
        """The incoming payment's ``receivedAmount`` now, or why it could not be read."""
        if self.target is None or self.target.incoming_payment is None:
            return None, None
        try:
            return await read_received_amount(self.client, self.target), None
        except OpenPaymentsError as e:
            return None, str(e)

    async def close(self) -> None:
        await self.transport.close()
