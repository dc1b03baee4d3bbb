"""From "who to pay" to STREAM credentials: a wallet address (Open Payments incoming payment)
or a payment pointer / SPSP URL (RFC 9 / RFC 26), and back to what the receiver got.

For ``trickle pay`` and the payment layer::

    target = await open_payment_target(client, "https://wallet.example/bob")
    ... pay target.destination_account / target.shared_secret over STREAM ...
    received = await read_received_amount(client, target)   # None for SPSP
    await close_payment_target(client, target)               # cancels the grant

* ``$host/path`` is paid over SPSP (its ``https://`` URL, ``Accept: application/spsp4+json``),
  as issue 18 item 4 says; ``incoming_payment`` is then ``None``.
* an ``https:`` URL is fetched as a wallet address; if it answers Open Payments JSON, a fresh
  non-interactive grant and an incoming payment (about 10 minutes) give the credentials. If it
  answers anything else that is not an error status — an SPSP document, no JSON wallet fields —
  it is queried as an SPSP endpoint instead (a wallet with no Open Payments auth).
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field

from wallet.net.spsp import SPSP_CONTENT_TYPE, SpspError, parse_spsp_body, resolve_receiver
from wallet.openpayments.client import INCOMING_PAYMENT_LIFETIME, OpenPaymentsClient
from wallet.openpayments.errors import (
    InvalidResponseError,
    NotJsonError,
    OpenPaymentsError,
)
from wallet.openpayments.models import Amount, Grant, IncomingPayment, WalletAddress
from wallet.openpayments.transport import Transport, require_https

__all__ = [
    "PaymentTarget",
    "close_payment_target",
    "open_payment_target",
    "read_received_amount",
]

_SPSP_ACCEPT = f"{SPSP_CONTENT_TYPE}, application/spsp+json"


@dataclass(frozen=True)
class PaymentTarget:
    """Where to stream money, and (for Open Payments) the incoming payment it lands on."""

    url: str
    destination_account: str
    shared_secret: bytes = field(repr=False)
    wallet: WalletAddress | None = None
    incoming_payment: IncomingPayment | None = None
    grant: Grant | None = field(default=None, repr=False)

    @property
    def incoming_payment_url(self) -> str | None:
        return self.incoming_payment.id if self.incoming_payment else None


async def open_payment_target(
    client: OpenPaymentsClient,
    receiver: str,
    *,
    transport: Transport,
    lifetime: dt.timedelta = INCOMING_PAYMENT_LIFETIME,
) -> PaymentTarget:
    """Resolve ``receiver`` into STREAM credentials (see the module docstring).

    Raises:
        InsecureUrlError: not ``https:`` (nor a payment pointer).
        OpenPaymentsError: any failure of the wallet, auth or resource server, named.
    """
    text = receiver.strip()
    if text.startswith("$"):
        try:
            url = resolve_receiver(text)
        except SpspError as e:
            raise OpenPaymentsError(str(e)) from e
        return await _spsp_target(transport, url)
    url = require_https(text, "wallet address")
    try:
        wallet = await client.get_wallet_address(url)
    except (NotJsonError, InvalidResponseError):
        return await _spsp_target(transport, url)
    grant = await client.request_incoming_payment_grant(wallet)
    try:
        payment = await client.create_incoming_payment(
            wallet, grant, lifetime=lifetime, metadata={"source": "Trickle"}
        )
        credentials = payment.require_credentials(client.now())
    except BaseException:
        await _cancel_quietly(client, grant)
        raise
    return PaymentTarget(
        url=url,
        destination_account=credentials.ilp_address,
        shared_secret=credentials.shared_secret,
        wallet=wallet,
        incoming_payment=payment,
        grant=grant,
    )


async def read_received_amount(client: OpenPaymentsClient, target: PaymentTarget) -> Amount | None:
    """The incoming payment's ``receivedAmount`` now (``None`` for an SPSP target)."""
    if target.incoming_payment is None or target.grant is None:
        return None
    payment = await client.get_incoming_payment(target.incoming_payment.id, target.grant)
    return payment.received_amount


async def close_payment_target(client: OpenPaymentsClient, target: PaymentTarget) -> None:
    """Cancel the target's grant (the Web Monetization extension does so right after use)."""
    if target.grant is not None:
        await client.cancel_grant(target.grant)


async def _cancel_quietly(client: OpenPaymentsClient, grant: Grant) -> None:
    with contextlib.suppress(OpenPaymentsError):  # the first failure is the one to report
        await client.cancel_grant(grant)


async def _spsp_target(transport: Transport, url: str) -> PaymentTarget:
    require_https(url, "SPSP URL")
    response = await transport.request("GET", url, {"accept": _SPSP_ACCEPT}, None)
    if response.status != 200:
        raise OpenPaymentsError(
            f"the SPSP endpoint {url} answered HTTP {response.status}",
            url=url,
            status=response.status,
        )
    try:
        answer = parse_spsp_body(response.body)
    except SpspError as e:
        raise NotJsonError(
            f"{url} is neither an Open Payments wallet nor SPSP: {e}", url=url
        ) from e
    return PaymentTarget(url, answer.destination_account, answer.shared_secret)
