"""IL-DCP client (RFC 31) over any :class:`~wallet.net.link.Link`.

RFC 31: "A child node requests configuration information from the parent node" with a Prepare
to ``peer.config`` (amount 0, condition ``sha256(32 zero bytes)``, empty data); "The parent node
responds" with a Fulfill whose data is ``address | scale | asset code``, or a Reject. The packet
codec is :mod:`wallet.ilp.ildcp`; this module only sends and checks.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from wallet.ilp import CodecError, IldcpResponse, Reject, ildcp_request
from wallet.net.errors import AccountConfigError
from wallet.net.link import Link
from wallet.net.uplink_base import utc_now

# RFC 31: "The expiresAt of the ILP packet is arbitrary"; WIRE-NOTES §4: about 60 s.
DEFAULT_EXPIRY = timedelta(seconds=60)


async def fetch_account_config(
    link: Link,
    *,
    now: datetime | None = None,
    expiry: timedelta = DEFAULT_EXPIRY,
    uplink: str = "",
) -> IldcpResponse:
    """Ask the parent connector behind ``link`` for our address, asset code and scale.

    Args:
        now: the current time (defaults to the clock); the request expires ``expiry`` later.
        uplink: how to name the uplink in errors (defaults to the link's ``display_url``).

    Raises:
        AccountConfigError: the connector rejected the request or answered with bad data.
        UplinkError: what ``link.send`` raises (e.g. :class:`UplinkAuthError`).
    """
    name = uplink or str(getattr(link, "display_url", "the uplink"))
    prepare = ildcp_request((now or utc_now()) + expiry)
    reply = await link.send(prepare)
    if isinstance(reply, Reject):
        raise AccountConfigError(name, f"{reply.code} {reply.message}"[:300])
    try:
        return IldcpResponse.from_fulfill(reply)
    except CodecError as e:
        raise AccountConfigError(name, str(e)[:300]) from e
