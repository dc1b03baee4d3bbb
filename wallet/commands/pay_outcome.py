"""What ``trickle pay`` reports: one :class:`PayOutcome` for every ending, and its exit code.

Every outcome carries the amounts (sent and delivered, and "delivered, unconfirmed": what the
receiver reports having received beyond what Trickle counted), and the cause in words. It is
printed for people (:meth:`PayOutcome.lines`) or as one JSON object (:meth:`PayOutcome.doc`).

Exit codes (also in ``trickle pay --help`` and the README):

====  ===================================================================================
0     paid: the whole amount was sent
1     an unexpected error inside Trickle (the message says what)
2     bad arguments; nothing was sent
3     the connector could not be reached, refused the uplink token, or went away
4     the receiver could not be found or did not accept the packets (SPSP, F02, F06, ...)
5     the receiver stopped the payment: it closed the stream or the connection, or its
      receive limit (``receiveMax``) was reached
6     the exchange rate is below the minimum, or too imprecise to pay safely
7     ``--timeout`` passed before the payment finished
130   interrupted (SIGINT, i.e. Ctrl-C, or SIGTERM); the connection was closed first
====  ===================================================================================
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from wallet.stream.frames import ErrorCode

__all__ = ["EXIT_CODES_HELP", "Exit", "PayOutcome", "close_code_name"]


class Exit(IntEnum):
    PAID = 0
    INTERNAL = 1
    USAGE = 2
    CONNECTOR = 3
    RECEIVER = 4
    STOPPED_BY_RECEIVER = 5
    EXCHANGE_RATE = 6
    TIMEOUT = 7
    INTERRUPTED = 130


EXIT_CODES_HELP = (
    "exit codes: 0 paid in full; 1 internal error; 2 bad arguments (nothing sent); "
    "3 connector unreachable, token refused or connector gone; 4 receiver not found or not "
    "accepting the packets; 5 the receiver stopped the payment (closed the stream or "
    "connection, or its receiveMax was reached); 6 exchange rate too low or too imprecise; "
    "7 --timeout passed; 130 interrupted (Ctrl-C, SIGTERM). Whatever the code, the outcome "
    "shows what was sent and delivered."
)


def close_code_name(code: int) -> str:
    """RFC 29 §5.4's name for a close code ("ApplicationError"); unknown codes by number."""
    try:
        return "".join(part.title() for part in ErrorCode(code).name.split("_"))
    except ValueError:
        return f"error code {code}"


@dataclass(frozen=True, slots=True)
class Asset:
    code: str
    scale: int

    def doc(self) -> dict[str, Any]:
        return {"code": self.code, "scale": self.scale}

    def __str__(self) -> str:
        return f"{self.code} (scale {self.scale})"


@dataclass(slots=True)
class PayOutcome:
    """Everything known when ``trickle pay`` ends. Amounts are integers in their asset's units:
    ``sent`` in the source asset, ``delivered`` and ``unconfirmed`` in the destination's."""

    exit: Exit
    cause: str
    amount: int
    destination: str | None = None
    source_asset: Asset | None = None
    destination_asset: Asset | None = None
    sent: int = 0
    delivered: int = 0
    unconfirmed: int = 0
    packets: int = 0
    packets_rejected: int = 0
    exchange_rate: str | None = None
    receipt: bytes | None = None
    receipt_nonce: bytes | None = None
    receipt_secret: bytes | None = field(default=None, repr=False)
    data_sent: bytes | None = None
    data_received: bytes | None = None
    seconds: float = 0.0
    details: dict[str, Any] = field(default_factory=dict)
    incoming_payment: str | None = None
    """The Open Payments incoming payment paid (a wallet address RECEIVER), else ``None``."""
    received_amount: int | None = None
    received_asset: Asset | None = None
    received_error: str | None = None
    """Why the incoming payment's ``receivedAmount`` could not be read afterwards."""

    @property
    def paid(self) -> bool:
        return self.exit is Exit.PAID

    def doc(self) -> dict[str, Any]:
        """The whole outcome as one JSON-able object (amounts as decimal integer strings)."""

        def b64(value: bytes | None) -> str | None:
            return None if value is None else base64.b64encode(value).decode()

        doc: dict[str, Any] = {
            "event": "done" if self.paid else "failed",
            "status": "paid" if self.paid else "failed",
            "exitCode": int(self.exit),
            "cause": self.cause,
            "destination": self.destination,
            "amount": str(self.amount),
            "amountSent": str(self.sent),
            "amountDelivered": str(self.delivered),
            "amountUnconfirmed": str(self.unconfirmed),
            "sourceAsset": self.source_asset.doc() if self.source_asset else None,
            "destinationAsset": self.destination_asset.doc() if self.destination_asset else None,
            "packets": self.packets,
            "packetsRejected": self.packets_rejected,
            "exchangeRate": self.exchange_rate,
            "receipt": b64(self.receipt),
            "receiptsRequested": self.receipt_secret is not None,
            "receiptNonce": b64(self.receipt_nonce),
            "receiptSecret": b64(self.receipt_secret),
            "seconds": round(self.seconds, 3),
        }
        if self.incoming_payment is not None:
            doc["incomingPayment"] = self.incoming_payment
            doc["receivedAmount"] = (
                {
                    "value": str(self.received_amount),
                    "assetCode": self.received_asset.code,
                    "assetScale": self.received_asset.scale,
                }
                if self.received_amount is not None and self.received_asset is not None
                else None
            )
            if self.received_error is not None:
                doc["receivedAmountError"] = self.received_error
        if self.data_sent is not None:
            doc["dataSent"] = self.data_sent.decode("utf-8", "replace")
            doc["dataReceived"] = (self.data_received or b"").decode("utf-8", "replace")
        doc.update(self.details)
        return doc

    def lines(self) -> list[str]:
        """The outcome for people, one fact per line."""
        src = f" {self.source_asset}" if self.source_asset else ""
        dst = f" {self.destination_asset}" if self.destination_asset else ""
        head = "paid" if self.paid else f"payment failed (exit code {int(self.exit)})"
        out = [f"{head}: {self.cause}"]
        out.append(f"  sent                   {self.sent} of {self.amount}{src}")
        out.append(f"  delivered              {self.delivered}{dst}")
        if self.unconfirmed:
            out.append(
                f"  delivered, unconfirmed {self.unconfirmed}{dst} (the receiver reports more "
                "than Trickle saw fulfilled)"
            )
        out.append(
            f"  packets                {self.packets} fulfilled, {self.packets_rejected} rejected"
        )
        if self.exchange_rate is not None:
            out.append(f"  exchange rate          {self.exchange_rate}")
        if self.destination:
            out.append(f"  destination            {self.destination}")
        if self.incoming_payment is not None:
            out.append(f"  incoming payment       {self.incoming_payment}")
            if self.received_amount is not None:
                out.append(
                    f"  received (its receivedAmount) {self.received_amount} {self.received_asset}"
                )
            else:
                out.append(f"  received               unknown ({self.received_error})")
        if self.receipt_secret is not None:
            nonce = base64.b64encode(self.receipt_nonce or b"").decode()
            out.append(f"  receipt nonce          {nonce}")
            out.append(f"  receipt secret         {base64.b64encode(self.receipt_secret).decode()}")
            shown = base64.b64encode(self.receipt).decode() if self.receipt else "none received"
            out.append(f"  receipt                {shown}")
        if self.data_sent is not None:
            back = (self.data_received or b"").decode("utf-8", "replace")
            out.append(f"  data back              {back!r}")
        out.append(f"  took                   {self.seconds:.3f} s")
        return out
