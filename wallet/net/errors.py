"""Network errors: the HTTP and WebSocket clients' (:class:`TransportError`) and the uplinks'
(:class:`UplinkError`).

:class:`TransportError` is the one tree of the clients (:mod:`wallet.net.http`,
:mod:`wallet.net.http_client`, :mod:`wallet.net.websocket`): failures any connection can have
(:class:`ConnectError`, :class:`TlsError`, :class:`DisconnectedError`,
:class:`RequestTimeoutError`) sit at its root, HTTP's own under :class:`HttpError` and
WebSocket's under :class:`WebSocketError`, so a WebSocket failure is never taken for an HTTP
one. Their messages quote no URL, header or body (those may carry credentials).

Each uplink error names the uplink (its URL without credentials) and says in words what the user can
do. Messages never carry tokens. :class:`~wallet.net.link.Link` ``send`` turns the ones that are
"trouble on the path" into local Rejects (see :func:`local_reject_code`); the ones the user must
act on (:class:`UplinkAuthError`, :class:`UplinkTlsError`, :class:`UplinkConfigError`) are
raised.
"""

from __future__ import annotations

from wallet.errors import WalletError

# -- the clients' errors -------------------------------------------------------------------


class TransportError(WalletError):
    """Base of the HTTP and WebSocket clients' errors: the exchange did not complete."""


class ConnectError(TransportError):
    """No connection could be opened (refused, DNS failure, network unreachable)."""


class TlsError(TransportError):
    """The TLS handshake failed (untrusted certificate, wrong host name, protocol mismatch)."""


class DisconnectedError(TransportError):
    """The connection closed or broke before the exchange was complete (or was closed by us)."""


class RequestTimeoutError(TransportError, TimeoutError):
    """No complete answer by the deadline (also a :class:`TimeoutError`)."""


class HttpError(TransportError):
    """Base of the errors only HTTP has."""


class HttpProtocolError(HttpError):
    """The server's response is not valid HTTP/1.1 (or exceeds our size limits)."""


class ResponseTooLargeError(HttpProtocolError):
    """The response's body is larger than the client takes (``max_body``)."""


class HttpRequestError(HttpError, ValueError):
    """The request cannot be sent as asked: not an ``http(s)://`` URL with a host, a header
    that would break the message (CR, LF, NUL, not Latin-1), a method the client does not send,
    or a closed session. Says which, never the value."""


class HttpStatusError(HttpError):
    """The server answered with a status the caller does not accept (``status``; ``text`` is
    the start of the body, as plain text)."""

    def __init__(self, status: int, text: str = "") -> None:
        super().__init__(f"HTTP {status}")
        self.status = status
        self.text = text


class HttpContentError(HttpError):
    """The response's body is not what was asked for (e.g. not a JSON document)."""


class WebSocketError(TransportError):
    """Base of the errors only WebSocket has."""


class WebSocketHandshakeError(WebSocketError):
    """The server refused the WebSocket upgrade: ``status`` is its answer (401 or 403: we are
    not let in; 0 when the answer was not a valid upgrade)."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the server refused the WebSocket upgrade (HTTP {status})")
        self.status = status


class WebSocketProtocolError(WebSocketError):
    """The server broke RFC 6455 (bad frame, oversized message)."""


# -- the uplinks' errors -------------------------------------------------------------------


class UplinkError(WalletError):
    """Base of every uplink failure. ``uplink`` is the peer's URL without credentials."""

    ADVICE = ""

    def __init__(self, uplink: str, detail: str = "") -> None:
        self.uplink = uplink
        self.detail = detail
        text = self.describe()
        if detail:
            text = f"{text} ({detail})"
        if self.ADVICE:
            text = f"{text}. {self.ADVICE}"
        super().__init__(text)

    def describe(self) -> str:
        return f"Problem with the connection to {self.uplink}"


class UplinkConfigError(UplinkError):
    """The uplink settings are unusable (bad URL, missing token)."""

    ADVICE = "Check the uplink settings."

    def describe(self) -> str:
        return f"The uplink {self.uplink} is not configured correctly"


class UplinkAuthError(UplinkError):
    """The connector refused our token (HTTP 401 or a BTP auth ERROR). Never retried."""

    ADVICE = "Check the uplink token in the wallet settings; Trickle will not retry on its own."

    def describe(self) -> str:
        return f"The connector at {self.uplink} did not accept the uplink token"


class UplinkUnreachableError(UplinkError):
    """Nothing answers at the uplink's address (refused, DNS, network down)."""

    ADVICE = "Check the URL and your network; Trickle keeps trying."

    def describe(self) -> str:
        return f"Cannot reach the connector at {self.uplink}"


class UplinkTlsError(UplinkError):
    """The TLS handshake failed (bad certificate, wrong host name, protocol mismatch)."""

    ADVICE = "The server's certificate could not be verified; check the URL (https/wss) and host."

    def describe(self) -> str:
        return f"Secure connection to {self.uplink} failed"


class UplinkDisconnectedError(UplinkError):
    """The connection dropped while a packet was in flight."""

    ADVICE = "The packet may be retried; Trickle reconnects on its own."

    def describe(self) -> str:
        return f"The connection to {self.uplink} dropped"


class UplinkTimeoutError(UplinkError):
    """The peer did not answer before the Prepare expired."""

    ADVICE = "The connector or the receiver is too slow; try again later."

    def describe(self) -> str:
        return f"The connector at {self.uplink} did not answer in time"


class PacketTooLargeError(UplinkError):
    """The peer refused the request body as too large (HTTP 413)."""

    ADVICE = "Send less data per packet (whole ILP packets must stay under 32767 bytes)."

    def describe(self) -> str:
        return f"The connector at {self.uplink} refused a packet as too large"


class UplinkProtocolError(UplinkError):
    """The peer broke the transport protocol (bad frame, bad status, not an ILP reply)."""

    ADVICE = "The connector may run an incompatible version."

    def describe(self) -> str:
        return f"The connector at {self.uplink} sent something Trickle does not understand"


class UplinkClosedError(UplinkError):
    """The uplink was closed by Trickle; it takes no more packets (a programming error)."""

    def describe(self) -> str:
        return f"The uplink to {self.uplink} is closed"


def local_reject_code(error: UplinkError) -> str:
    """The ILP error code of the local Reject that stands for ``error`` in ``Link.send``.

    RFC 27: T01 "Peer Unreachable" for a peer we cannot reach or lost; R00 "Transfer Timed Out"
    when the Prepare expired unanswered; RFC 35: "Server errors ... SHOULD be translated into ILP
    Reject packets with T00"; a packet the peer refuses as malformed or too large is final (F00).
    """
    if isinstance(error, UplinkTimeoutError):
        return "R00"
    if isinstance(error, UplinkUnreachableError | UplinkDisconnectedError):
        return "T01"
    if isinstance(error, PacketTooLargeError):
        return "F00"
    return "T00"


class AccountConfigError(UplinkError):
    """IL-DCP (RFC 31) failed: the connector did not tell us our address and asset."""

    ADVICE = "Check that this uplink is a child account of the connector."

    def describe(self) -> str:
        return f"The connector at {self.uplink} did not provide the account's address and asset"
