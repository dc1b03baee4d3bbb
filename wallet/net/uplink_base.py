"""What both uplinks share: local Rejects, answering incoming Prepares, expiry as the deadline.

Owns the rules of :mod:`wallet.net.link` that do not depend on the transport:

* trouble on the path becomes a *local* Reject (:func:`local_reject`), never an exception;
* a Fulfill whose ``sha256(fulfillment)`` is not the Prepare's condition is never passed up
  (RFC 27: "the fulfillment ... MUST hash to the executionCondition"); it becomes a local F05;
* an incoming Prepare goes to the handler; no handler is F02, a handler that raises is T00, a
  handler that has not answered by the Prepare's expiry is R00 (:func:`answer_incoming`).
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final
from urllib.parse import urlsplit, urlunsplit

from wallet.errors import WalletError
from wallet.ilp import Fulfill, Prepare, Reject
from wallet.net.errors import (
    ConnectError,
    DisconnectedError,
    HttpProtocolError,
    TlsError,
    UplinkAuthError,
    UplinkConfigError,
    UplinkDisconnectedError,
    UplinkError,
    UplinkProtocolError,
    UplinkTimeoutError,
    UplinkTlsError,
    UplinkUnreachableError,
    WebSocketError,
    WebSocketHandshakeError,
    local_reject_code,
)
from wallet.net.link import IncomingHandler

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
# A Reject's message is a var-string; keep ours short and readable.
_MAX_MESSAGE: Final = 500


def utc_now() -> datetime:
    return datetime.now(UTC)


def display_url(url: str) -> str:
    """``url`` without user, password, query or fragment: safe for messages and logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def check_no_credentials(url: str) -> None:
    """Refuse URLs with a user or password in them: tokens belong in the secret store.

    Raises:
        UplinkConfigError: the URL carries credentials.
    """
    parts = urlsplit(url)
    if parts.username or parts.password:
        raise UplinkConfigError(
            display_url(url), "the URL carries credentials; keep the token in the secret store"
        )


def seconds_left(prepare: Prepare, now: datetime) -> float:
    """Seconds until ``prepare`` expires (negative when already expired)."""
    return (prepare.expires_at - now).total_seconds()


def local_reject(error: UplinkError, triggered_by: str = "") -> Reject:
    """The Reject ``Link.send`` resolves with when ``error`` stopped the packet locally."""
    return Reject(local_reject_code(error), triggered_by, str(error)[:_MAX_MESSAGE])


def expired_reject(triggered_by: str = "") -> Reject:
    """RFC 27 R00 "Transfer Timed Out": the Prepare expired before an answer came."""
    return Reject("R00", triggered_by, "the packet expired before the connector answered")


def checked_reply(
    prepare: Prepare, reply: Fulfill | Reject, triggered_by: str = ""
) -> Fulfill | Reject:
    """``reply``, unless it is a Fulfill that does not fulfill ``prepare`` (then a local F05)."""
    if isinstance(reply, Fulfill) and not prepare.is_fulfilled_by(reply.fulfillment):
        return Reject("F05", triggered_by, "the peer's fulfillment does not match the condition")
    return reply


async def answer_incoming(
    handler: IncomingHandler | None, prepare: Prepare, now: datetime, own_address: str = ""
) -> Fulfill | Reject:
    """The reply to a Prepare the peer sent us: the handler's, or a local Reject.

    The handler's reply goes back unchanged (the link contract); a handler that raises is
    answered T00 and one still busy at the Prepare's expiry R00, so the peer never hangs.
    """
    if handler is None:
        return Reject("F02", own_address, "no receiver is listening on this account")
    left = seconds_left(prepare, now)
    if left <= 0:
        return expired_reject(own_address)
    try:
        async with asyncio.timeout(left):
            return await handler(prepare)
    except TimeoutError:
        return expired_reject(own_address)
    except WalletError as e:
        log.warning("incoming packet handler failed: %s", e)
        return Reject("T00", own_address, "the receiver failed to process the packet")
    except Exception:  # the handler is someone else's code; the peer must still get an answer
        log.exception("incoming packet handler raised")
        return Reject("T00", own_address, "the receiver failed to process the packet")


def wrap_client_error(url: str, exc: BaseException) -> UplinkError:
    """The named :class:`UplinkError` for a failure of the HTTP or WebSocket client (a
    :class:`~wallet.net.errors.TransportError`), or of the OS, with ``url``.

    The clients' errors carry no URL or header, so their text is quoted; of any other
    exception only the type is (its text may carry a URL with a token). A refused WebSocket
    upgrade with 401 or 403 is the token refused.
    """
    shown = display_url(url)
    if isinstance(exc, UplinkError):
        return exc
    if isinstance(exc, WebSocketHandshakeError):
        if exc.status in (401, 403):
            return UplinkAuthError(shown, f"HTTP {exc.status}")
        return UplinkProtocolError(shown, f"HTTP {exc.status}")
    if isinstance(exc, TlsError):
        return UplinkTlsError(shown, str(exc))
    if isinstance(exc, ConnectError):
        return UplinkUnreachableError(shown, str(exc))
    if isinstance(exc, DisconnectedError):
        return UplinkDisconnectedError(shown, str(exc))
    if isinstance(exc, HttpProtocolError | WebSocketError):
        return UplinkProtocolError(shown, str(exc))
    detail = type(exc).__name__
    if isinstance(exc, ssl.SSLError):
        return UplinkTlsError(shown, detail)
    if isinstance(exc, TimeoutError):
        return UplinkTimeoutError(shown, detail)
    if isinstance(exc, OSError):
        return UplinkDisconnectedError(shown, detail)
    return UplinkProtocolError(shown, detail)
