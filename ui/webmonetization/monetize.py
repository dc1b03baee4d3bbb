"""``monetize({destinationAccount, sharedSecret})`` and stream-call argument rules.

Argument rules: both strings (``TypeError``); ``destinationAccount`` a valid ILP address (RFC 15,
``InvalidAddressError``); ``sharedSecret`` standard base64 (padding optional, base64url accepted)
of exactly 32 bytes (``InvalidSharedSecretError``). The secret is held in memory only.

What a page observes at a budget limit is the payment layer's (``wallet.payments``): while
the rate of pay has not accrued more, or the user does not attend to the tab, sending pauses
and ``sendTotal`` stays pending; a limit reached for good rejects it with
``BudgetExceededError`` and the stream stays open.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from ui.webmonetization.errors import PageError

# ``wallet.ilp`` (the ILP codecs) is imported by the first page call that needs it, not with the
# page API: the browser's first paint does without it.

SHARED_SECRET_BYTES = 32
_B64 = re.compile(r"[A-Za-z0-9+/_-]{43}=?")


@dataclass(frozen=True, slots=True)
class MonetizeRequest:
    destination_account: str
    shared_secret: bytes

    def __repr__(self) -> str:  # never print the secret
        return f"MonetizeRequest(destination_account={self.destination_account!r}, ...)"


def validate_monetize(args: object) -> MonetizeRequest:
    from wallet.ilp import is_valid_address

    if not isinstance(args, dict):
        raise PageError(
            "TypeError", "monetize() takes {destinationAccount: string, sharedSecret: string}"
        )
    dest = args.get("destinationAccount")
    secret = args.get("sharedSecret")
    if not isinstance(dest, str) or not isinstance(secret, str):
        raise PageError(
            "TypeError", "monetize(): destinationAccount and sharedSecret must be strings"
        )
    if not is_valid_address(dest):
        raise PageError("InvalidAddressError", "destinationAccount is not a valid ILP address")
    if not _B64.fullmatch(secret):
        raise PageError("InvalidSharedSecretError", "sharedSecret must be base64 of 32 bytes")
    try:
        raw = base64.b64decode(secret.replace("-", "+").replace("_", "/").rstrip("=") + "=")
    except (binascii.Error, ValueError) as e:
        raise PageError(
            "InvalidSharedSecretError", "sharedSecret must be base64 of 32 bytes"
        ) from e
    if len(raw) != SHARED_SECRET_BYTES:
        raise PageError("InvalidSharedSecretError", "sharedSecret must be base64 of 32 bytes")
    return MonetizeRequest(dest, raw)


def parse_amount(value: object) -> int:
    """A page amount: a decimal string of a UInt64."""
    from wallet.ilp import U64_MAX

    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 20:
        raise PageError("TypeError", "amount must be a string of decimal digits")
    amount = int(value)
    if amount > U64_MAX:
        raise PageError("RangeError", "amount exceeds the UInt64 maximum")
    return amount


def parse_timeout(value: object) -> float | None:
    """A page timeout in ms → seconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e12:
        raise PageError("TypeError", "timeout must be a non-negative number of milliseconds")
    return float(value) / 1000.0
