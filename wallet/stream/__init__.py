"""STREAM (RFC 29), sans-IO: bytes and ``now`` in; Prepares, replies, events and deadlines out.

No asyncio, sockets, clocks or hidden randomness here (h11/h2 style). A driver in ``wallet/net``
pumps a :class:`Connection` over a :class:`~wallet.net.link.Link`. This docstring is the
contract for that driver.

Modules
-------
``crypto`` keys, AES-256-GCM ``nonce|tag|ciphertext``, fulfillment/condition ·
``frames`` / ``packet`` the codec · ``receipts`` RFC 39 · ``credentials`` server-side
address/secret issuing · ``config`` :class:`ConnectionConfig`, :class:`Role`,
:class:`BudgetGate` · ``connection`` the state machine, whose state has one owner per piece
(``streamtable`` the streams and stream ids, ``inflight`` sequences and packets in flight,
``flow`` connection data windows, ``path`` the peer, the probe and the rate, ``lifecycle``
closing, ``counters`` totals, ``congestion`` the window, ``streams`` per-stream state), handed
as one ``parts.Parts`` to its halves (``outgoing``: building Prepares, ``replies``: settling
them and deciding each packet's ``Outcome``, ``incoming``: answering the peer's, ``control``:
the peer's limit frames) · ``rate`` probing · ``events`` · ``errors``.

Creating a connection
---------------------
::

    conn = Connection(
        ConnectionConfig(
            shared_secret=secret, asset_code="USD", asset_scale=9,   # ours, from IL-DCP
            source_account=our_address,            # None if we cannot receive Prepares
            destination_account=spsp_destination,  # client: required; server: learnt
            slippage=Fraction(1, 100), minimum_exchange_rate=None, max_window=32, ...),
        Role.CLIENT,                 # or Role.SERVER
        random_bytes=os.urandom,     # nonces and unfulfillable conditions
        now=loop.time(),             # monotonic seconds
        budget=gate,                 # optional BudgetGate (see below)
    )

A **server** maps each incoming Prepare's destination to a connection:
``generate_credentials(server_secret, base_address, os.urandom, connection_tag=...,
receipt_nonce=..., receipt_secret=...)`` issues ``destination_account`` + ``shared_secret`` for
SPSP; ``lookup_credentials(server_secret, base_address, prepare.destination)`` recovers them
(``None`` → answer ``Reject("F02")`` yourself: WIRE-NOTES §6.9). On the first Prepare for a
destination create ``Connection.server(credentials, asset_code=..., asset_scale=...,
random_bytes=os.urandom, now=...)`` (accepts any amount on new streams unless
``default_receive_max`` is given; issues receipts when the credentials carry a receipt
nonce/secret). If that brand-new connection answers its first Prepare with F06
(``packets_received == 0``), drop it and answer F02 instead, as the JS server does. Forget a
connection once it is closed and ``packets_in_flight == 0``.

The driver loop
---------------
All methods are synchronous and cheap; call them from one task/thread.

* ``conn.packets_to_send(now, wallclock) -> list[(packet_id, Prepare)]`` — send each over the
  link (concurrently: several are in flight under the congestion window; the JS reference keeps
  one). ``wallclock`` is a UTC-aware ``datetime``; Prepares expire ``config.expiry`` (30 s)
  after it. Call again after anything changes: after every reply, every incoming Prepare,
  every timeout, and every application call (``create_stream``, ``set_send_max``, ``send``,
  ``set_receive_max``, ``close``) — and after the budget gate gains room.
* ``conn.receive_reply(packet_id, fulfill_or_reject, now)`` — the link's answer for that
  Prepare (a Link resolves with a local T/R Reject on trouble; pass it through). Never raises.
* ``conn.receive_prepare(prepare, now) -> Fulfill | Reject`` — answer a Prepare the peer sent
  us (its money, data, rate probes, closes). Never raises.
* ``conn.next_deadline() -> float | None`` / ``conn.handle_timeout(now)`` — sleep until the
  deadline (or until a reply/Prepare/API call), then call ``handle_timeout``, then
  ``packets_to_send``. Covers backoff, expiry of unanswered Prepares and the idle timeout.
* ``conn.events() -> list[Event]`` — drain after each of the calls above.

Events (``wallet.stream.events``, frozen dataclasses)
-----------------------------------------------------
``Connected(exchange_rate)`` (client: probe done; server: first packet) ·
``StreamOpened(stream_id)`` (the peer opened it) ·
``MoneySent(stream_id, amount, total_sent, packet_id)`` (our units, verified Fulfill) ·
``MoneyReceived(stream_id, amount, total_received)`` ·
``DataReceived(stream_id, data)`` (in order, exactly once) ·
``ReceiptReceived(stream_id, receipt, total_received)`` (RFC 39, latest per stream) ·
``StreamClosed(stream_id, error_code, message, remote)`` ·
``ConnectionFailed(error)`` (then ``ConnectionClosed``; also when the peer closes with an
error code) ·
``ConnectionClosed(error_code, message, remote)``.

Application API (mirrors the spec's IlpConnection / IlpStream)
--------------------------------------------------------------
``conn.create_stream() -> Stream`` · ``conn.stream(id)`` · ``conn.streams`` · ``conn.close()``
(graceful: streams finish, then ConnectionClose) · ``conn.destroy(code, message)`` (now) ·
fields ``is_open``, ``is_connected``, ``state``, ``exchange_rate``,
``last_packet_exchange_rate``, ``minimum_acceptable_exchange_rate`` (``Fraction``, raw units),
``total_sent`` (ours, fulfilled only), ``total_delivered`` (the receiver's claim, its units),
``total_received``, ``source_asset_code/scale``, ``destination_asset_code/scale``,
``source_account``, ``destination_account``, ``connection_tag``, ``packets_sent/fulfilled/
rejected``, ``packets_received``, ``packets_in_flight``, ``window``, ``max_packet_amount``.

Rates are ``Fraction`` in raw integer units (scale included): USD/9 → EUR/6 at 0.792 is
``Fraction(792, 1_000_000)``. ``slippage`` / ``minimum_exchange_rate`` accept Fraction, int,
Decimal, str or float (stored exactly). ``crypto.incoming_packet_id`` gives the JS server's
per-packet id if an application wants the same idempotency key.

``Stream``: ``id``, ``set_send_max(n)``, ``send_max``, ``total_sent``, ``in_flight``,
``set_receive_max(n)``, ``receive_max``, ``total_received``, ``send(data)``, ``close()``,
``is_open``, ``receipt``. ``sendTotal(n)``/``receiveTotal(n)`` are the driver's: set the max,
then wait for ``MoneySent``/``MoneyReceived`` events reaching ``n``.

The budget hook
---------------
Pass a :class:`BudgetGate` (``reserve(packet_id, amount) -> approved``, ``settle``). Before a
money Prepare leaves, ``reserve`` is called with its source amount and may approve less (or 0:
no money now). Exactly one ``settle(packet_id, amount, outcome, delivered)`` follows for every
approved amount, with the :class:`Outcome` the connection saw (fulfilled, refused by the
receiver, rejected unverified, expired, late, bad fulfillment, lost) — also after the
connection closed, as long as the driver keeps delivering replies. A driver whose carrier fails
after a Prepare left calls :meth:`Connection.packet_lost`. Zero-amount packets never reach the
gate. ``MoneySent`` events carry the same ``packet_id``.

Errors
------
``LocalProtocolError`` (our misuse, raised by API calls), ``RemoteProtocolError`` (the peer
broke RFC 29), ``ExchangeRateError``, ``ConnectionFailedError`` (final rejects, inactivity) —
all ``ProtocolError`` with the RFC 29 §5.4 ``code``; delivered in ``ConnectionFailed`` events.
All derive from :class:`~wallet.errors.WalletError`.
"""

from __future__ import annotations

from wallet.stream.config import BudgetGate, ConnectionConfig, ConnectionState, Outcome, Role
from wallet.stream.connection import Connection, OutgoingPrepare
from wallet.stream.credentials import (
    ServerCredentials,
    generate_credentials,
    lookup_credentials,
)
from wallet.stream.errors import (
    ConnectionFailedError,
    DecryptionError,
    ExchangeRateError,
    LocalProtocolError,
    ProtocolError,
    RemoteProtocolError,
    StreamError,
)
from wallet.stream.events import (
    Connected,
    ConnectionClosed,
    ConnectionFailed,
    DataReceived,
    Event,
    MoneyReceived,
    MoneySent,
    ReceiptReceived,
    StreamClosed,
    StreamOpened,
)
from wallet.stream.frames import ErrorCode, FrameType
from wallet.stream.packet import StreamPacket
from wallet.stream.receipts import (
    InvalidReceiptError,
    Receipt,
    create_receipt,
    decode_receipt,
    verify_receipt,
)
from wallet.stream.streams import Stream

__all__ = [
    "BudgetGate",
    "Connected",
    "Connection",
    "ConnectionClosed",
    "ConnectionConfig",
    "ConnectionFailed",
    "ConnectionFailedError",
    "ConnectionState",
    "DataReceived",
    "DecryptionError",
    "ErrorCode",
    "Event",
    "ExchangeRateError",
    "FrameType",
    "InvalidReceiptError",
    "LocalProtocolError",
    "MoneyReceived",
    "MoneySent",
    "Outcome",
    "OutgoingPrepare",
    "ProtocolError",
    "Receipt",
    "ReceiptReceived",
    "RemoteProtocolError",
    "Role",
    "ServerCredentials",
    "Stream",
    "StreamClosed",
    "StreamError",
    "StreamOpened",
    "StreamPacket",
    "create_receipt",
    "decode_receipt",
    "generate_credentials",
    "lookup_credentials",
    "verify_receipt",
]
