"""From "who to pay" to STREAM credentials: a wallet address (Open Payments incoming payment)
or a payment pointer / SPSP URL (RFC 9 / RFC 26), and back to what the receiver got.

For ``trickle pay`` and the payment layer::

    target = await open_payment_target(client, "https://wallet.example/bob", transport=t)
    ... pay target.destination_account / target.shared_secret over STREAM ...
    if target.renewal_due(client.now()):                      # long sessions, every ~10 min
        target = await renew_payment_target(client, target)
    received = await read_received_amount(client, target)     # None for SPSP

* ``$host/path`` is paid over SPSP (its ``https://`` URL, ``Accept: application/spsp4+json``),
  as issue 18 item 4 says; ``incoming_payment`` is then ``None``.
* an ``https:`` URL is fetched as a wallet address; if it answers Open Payments JSON, a fresh
  non-interactive grant (a new key) gives an incoming payment (10 minutes, no amount), and the
  grant is cancelled at once, as the Web Monetization extension does: no token outlives the call.
  With ``cancel_grant=False`` the caller cancels it (:func:`cancel_target_grant`) once it has
  done what is urgent — a link session, after its first packet: flows.md "initiate a session"
  sends the cancel only "after the payment bucket has been created", and nothing that follows
  depends on its answer ("can proceed with the session even if cancellation fails").
  ``receivedAmount`` is then read with the unauthenticated GET anyone may make. If the URL
  answers anything else that is not an error status (an SPSP document, no wallet JSON), it is
  queried as an SPSP endpoint instead (a wallet with no Open Payments).
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
    "RENEWAL_LEAD",
    "PaymentTarget",
    "cancel_target_grant",
    "open_payment_target",
    "read_received_amount",
    "renew_payment_target",
]

_SPSP_ACCEPT = f"{SPSP_CONTENT_TYPE}, application/spsp+json"
RENEWAL_LEAD = dt.timedelta(minutes=1)  # a new incoming payment this long before one ends


@dataclass(frozen=True)
class PaymentTarget:
    """Where to stream money, and (for Open Payments) the incoming payment it lands on."""

    url: str
    destination_account: str
    shared_secret: bytes = field(repr=False)
    wallet: WalletAddress | None = None
    incoming_payment: IncomingPayment | None = None
    grant: Grant | None = field(default=None, repr=False, compare=False)
    """The incoming payment's grant, still to be cancelled (only with ``cancel_grant=False``)."""

    @property
    def incoming_payment_url(self) -> str | None:
        return self.incoming_payment.id if self.incoming_payment else None

    def renewal_due(self, now: dt.datetime, lead: dt.timedelta = RENEWAL_LEAD) -> bool:
        """An incoming payment that ends within ``lead``: time for the next one."""
        return self.incoming_payment is not None and self.incoming_payment.renewal_due(now, lead)


async def open_payment_target(
    client: OpenPaymentsClient,
    receiver: str,
    *,
    transport: Transport,
    lifetime: dt.timedelta = INCOMING_PAYMENT_LIFETIME,
    cancel_grant: bool = True,
) -> PaymentTarget:
    """Resolve ``receiver`` into STREAM credentials (see the module docstring; without
    ``cancel_grant``, the target's ``grant`` is the caller's to cancel).

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
    return await _incoming_payment_target(client, url, wallet, lifetime, cancel_grant)


async def renew_payment_target(
    client: OpenPaymentsClient,
    target: PaymentTarget,
    *,
    lifetime: dt.timedelta = INCOMING_PAYMENT_LIFETIME,
    cancel_grant: bool = True,
) -> PaymentTarget:
    """The next incoming payment on the same wallet address (an SPSP target is kept as is;
    ``cancel_grant`` as for :func:`open_payment_target`)."""
    if target.wallet is None:
        return target
    return await _incoming_payment_target(client, target.url, target.wallet, lifetime, cancel_grant)


async def cancel_target_grant(client: OpenPaymentsClient, target: PaymentTarget) -> None:
    """Cancel the grant ``target`` was made with, if it was left open; a failure changes
    nothing we owe (the grant expires by itself) and is not raised."""
    if target.grant is not None:
        await _cancel_quietly(client, target.grant)


async def _cancel_quietly(client: OpenPaymentsClient, grant: Grant) -> None:
    with contextlib.suppress(OpenPaymentsError):  # a failure here changes nothing we owe
        await client.cancel_grant(grant)


async def read_received_amount(client: OpenPaymentsClient, target: PaymentTarget) -> Amount | None:
    """The incoming payment's ``receivedAmount`` now (``None`` for an SPSP target)."""
    if target.incoming_payment is None:
        return None
    return await client.get_public_received_amount(target.incoming_payment.id)


async def _incoming_payment_target(
    client: OpenPaymentsClient,
    url: str,
    wallet: WalletAddress,
    lifetime: dt.timedelta,
    cancel_grant: bool,
) -> PaymentTarget:
    grant = await client.request_incoming_payment_grant(wallet, actions=("create", "read"))
    try:
        payment = await client.create_incoming_payment(
            wallet, grant, lifetime=lifetime, metadata={"source": "Web Monetization"}
        )
        credentials = payment.require_credentials(client.now())
    except BaseException:
        await _cancel_quietly(client, grant)
        raise
    if cancel_grant:
        await _cancel_quietly(client, grant)
    return PaymentTarget(
        url=url,
        destination_account=credentials.ilp_address,
        shared_secret=credentials.shared_secret,
        wallet=wallet,
        incoming_payment=payment,
        grant=None if cancel_grant else grant,
    )


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
            f"{url} is neither an Open Payments wallet address nor SPSP: {e}", url=url
        ) from e
    return PaymentTarget(url, answer.destination_account, answer.shared_secret)
