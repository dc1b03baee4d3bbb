"""The WebSocket protocol (RFC 6455), client side, sans-IO: the opening handshake and frames.

Owns the wire format of the BTP uplink's WebSocket (:mod:`wallet.net.ws_client` owns the
socket): the upgrade request and the check of its answer, masked frames out, unmasked frames in,
in the manner of h11 — bytes in, messages out, no sockets and no clocks.

Invariants (RFC 6455 section numbers in brackets):

* every frame we send is masked with a fresh key from a strong source of entropy [5.3: "The
  masking key MUST be derived from a strong source of entropy"];
* a frame from the server that is masked, sets a reserved bit, uses a reserved opcode, or
  breaks the fragmentation rules fails the connection with code 1002 [5.1, 5.2, 5.4, 5.5];
* a message larger than the reader's limit fails it with 1009 before it is buffered [7.4.1];
* no extension or sub-protocol is offered, so the server may not select one [4.1: "If the
  response includes a |Sec-WebSocket-Extensions| header field and this header field indicates
  the use of an extension that was not present in the client's handshake ... the client MUST
  _Fail the WebSocket Connection_"].
"""

from __future__ import annotations

import base64
import hashlib
import os
import struct
from collections.abc import Mapping
from typing import Final

from wallet.net.http_codec import HttpProtocolError

# [5.2] Opcodes.
CONTINUATION: Final = 0x0
TEXT: Final = 0x1
BINARY: Final = 0x2
CLOSE: Final = 0x8
PING: Final = 0x9
PONG: Final = 0xA

# [7.4.1] Status codes.
NORMAL_CLOSURE: Final = 1000
PROTOCOL_ERROR: Final = 1002
MESSAGE_TOO_BIG: Final = 1009

# [1.3] "the server has to ... concatenate this with the Globally Unique Identifier"
_GUID: Final = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_DATA_OPCODES: Final = frozenset((TEXT, BINARY))
_CONTROL_OPCODES: Final = frozenset((CLOSE, PING, PONG))
_KEY_POOL_SIZE: Final = 4096


class WebSocketProtocolError(HttpProtocolError):
    """The server broke RFC 6455; ``code`` is the close status to fail the connection with."""

    def __init__(self, message: str, code: int = PROTOCOL_ERROR) -> None:
        super().__init__(message)
        self.code = code


class HandshakeRefusedError(HttpProtocolError):
    """The server answered the upgrade request with another status than 101."""

    def __init__(self, status: int) -> None:
        super().__init__(f"the server refused the WebSocket upgrade (HTTP {status})")
        self.status = status


# -- the opening handshake [4.1] ---------------------------------------------------------


def new_key() -> bytes:
    """[4.1] "a randomly selected 16-byte value that has been base64-encoded"."""
    return base64.b64encode(os.urandom(16))


def accept_for(key: bytes) -> bytes:
    """[4.2.2] The ``Sec-WebSocket-Accept`` a server must answer ``key`` with: the base64 of
    the SHA-1 of the key followed by the GUID."""
    return base64.b64encode(hashlib.sha1(key + _GUID, usedforsecurity=False).digest())


def handshake_request(authority: str, target: str, key: bytes) -> bytes:
    """[4.1] The client's opening handshake: a GET of ``target`` asking for an upgrade.

    Raises:
        ValueError: ``authority`` or ``target`` holds whitespace or a control character.
    """
    if not target.startswith("/") or any(c in target + authority for c in " \r\n\t\x00"):
        raise ValueError("the WebSocket URL has a forbidden character")
    return (
        f"GET {target} HTTP/1.1\r\n"
        f"Host: {authority}\r\n"
        "Upgrade: websocket\r\n"
        "Connection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key.decode('ascii')}\r\n"
        "Sec-WebSocket-Version: 13\r\n"
        "\r\n"
    ).encode("latin-1")


def check_handshake(status: int, headers: Mapping[bytes, bytes], key: bytes) -> None:
    """[4.1] The checks a client makes of the server's answer to its handshake.

    Raises:
        HandshakeRefusedError: the status is not 101 (a 401 is the server refusing us).
        WebSocketProtocolError: a 101 that does not establish the connection we asked for.
    """
    if status != 101:
        raise HandshakeRefusedError(status)
    # "If the response lacks an |Upgrade| header field or the |Upgrade| header field contains
    # a value that is not an ASCII case-insensitive match for the value "websocket", the client
    # MUST _Fail the WebSocket Connection_." Likewise |Connection| and "Upgrade".
    if headers.get(b"upgrade", b"").strip().lower() != b"websocket":
        raise WebSocketProtocolError("the server did not upgrade to WebSocket")
    tokens = {t.strip().lower() for t in headers.get(b"connection", b"").split(b",")}
    if b"upgrade" not in tokens:
        raise WebSocketProtocolError("the server did not upgrade the connection")
    if headers.get(b"sec-websocket-accept", b"").strip() != accept_for(key):
        raise WebSocketProtocolError("the server's Sec-WebSocket-Accept does not match")
    if headers.get(b"sec-websocket-extensions") or headers.get(b"sec-websocket-protocol"):
        raise WebSocketProtocolError("the server selected an extension we did not offer")


# -- frames [5] --------------------------------------------------------------------------


class _MaskingKeys:
    """Masking keys from ``os.urandom``, drawn 4 KiB at a time (one system call per 1,024
    frames, as the ``ws`` package does with its random pool)."""

    def __init__(self) -> None:
        self._pool = b""
        self._next = 0

    def take(self) -> bytes:
        at = self._next
        if at + 4 > len(self._pool):
            self._pool = os.urandom(_KEY_POOL_SIZE)
            at = 0
        self._next = at + 4
        return self._pool[at : at + 4]


_keys = _MaskingKeys()


def mask(payload: bytes, key: bytes) -> bytes:
    """[5.3] "Octet i of the transformed data ... is the XOR of octet i of the original data
    with octet at index i modulo 4 of the masking key" (its own inverse)."""
    n = len(payload)
    if n == 0:
        return b""
    stream = (key * ((n + 3) // 4))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(
        n, "little"
    )


def client_frame(opcode: int, payload: bytes, key: bytes | None = None) -> bytes:
    """[5.2] One final, masked frame (the client never fragments what it sends).

    ``key`` is for tests; by default each frame gets a fresh one [5.3].
    """
    if key is None:
        key = _keys.take()
    n = len(payload)
    first = 0x80 | opcode
    if n < 126:
        head = struct.pack("!BB", first, 0x80 | n)
    elif n < 1 << 16:
        head = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, n)
    return head + key + mask(payload, key)


def close_payload(code: int, reason: str = "") -> bytes:
    """[5.5.1] A Close frame's body: the status code, then a UTF-8 reason."""
    return struct.pack("!H", code) + reason.encode("utf-8")[:123]


class FrameReader:
    """Reads the server's frames; feed it bytes, it returns whole messages.

    Each message is ``(opcode, payload)``: TEXT or BINARY with the fragments of a message
    joined [5.4], or a control frame (CLOSE, PING, PONG) as it comes, also between the
    fragments of a message [5.4: "Control frames MAY be injected in the middle of a fragmented
    message"].

    When the frames break RFC 6455, or a message exceeds ``max_message`` bytes, reading stops
    and :attr:`error` says why (its ``code`` is the close status to fail the connection with);
    the messages before the bad frame are still returned, so none that arrived whole is lost.
    """

    __slots__ = ("_buffer", "_fragments", "_fragments_size", "_max_message", "_opcode", "error")

    def __init__(self, max_message: int) -> None:
        self._max_message = max_message
        # The bytes of an incomplete frame. A bytearray, so that a large frame coming in many
        # small reads is appended to, not copied whole at each one.
        self._buffer = bytearray()
        self._opcode: int | None = None  # of the fragmented message being read
        self._fragments: list[bytes] = []
        self._fragments_size = 0
        self.error: WebSocketProtocolError | None = None

    def feed(self, data: bytes) -> list[tuple[int, bytes]]:
        """The messages ``data`` completes (none once :attr:`error` is set)."""
        if self.error is not None:
            return []
        messages: list[tuple[int, bytes]] = []
        try:
            self._read(data, messages)
        except WebSocketProtocolError as e:
            self.error = e
            self._buffer = bytearray()
        return messages

    def _read(self, data: bytes, messages: list[tuple[int, bytes]]) -> None:
        buffered = bool(self._buffer)
        if buffered:
            self._buffer += data
            data = self._buffer  # type: ignore[assignment]  # read alike; sliced to bytes below
        at = 0
        end = len(data)
        while end - at >= 2:
            first, second = data[at], data[at + 1]
            if second & 0x80:
                # [5.1] "A client MUST close a connection if it detects a masked frame."
                raise WebSocketProtocolError("the server masked a frame")
            length = second & 0x7F
            start = at + 2
            if length == 126:
                if end - start < 2:
                    break
                (length,) = struct.unpack_from("!H", data, start)
                start += 2
            elif length == 127:
                if end - start < 8:
                    break
                (length,) = struct.unpack_from("!Q", data, start)
                start += 8
            opcode = first & 0x0F
            self._check(first, opcode, length)
            if end - start < length:
                break
            at = start + length
            payload = bytes(data[start:at]) if buffered else data[start:at]
            if first & 0x80 and opcode != CONTINUATION:
                # A whole message, or a control frame (never fragmented: see _check).
                messages.append((opcode, payload))
            else:
                if opcode != CONTINUATION:
                    self._opcode = opcode
                self._fragments.append(payload)
                self._fragments_size += length
                if first & 0x80:
                    assert self._opcode is not None
                    messages.append((self._opcode, b"".join(self._fragments)))
                    self._opcode = None
                    self._fragments = []
                    self._fragments_size = 0
        if buffered:
            del self._buffer[:at]
        elif at < end:
            self._buffer = bytearray(data[at:])

    def _check(self, first: int, opcode: int, length: int) -> None:
        """Refuse a frame from its header alone, before its payload is buffered."""
        if first & 0x70:
            # [5.2] "MUST be 0 unless an extension is negotiated that defines meanings for
            # non-zero values" (we negotiate none).
            raise WebSocketProtocolError("the server set a reserved bit")
        if opcode in _CONTROL_OPCODES:
            # [5.5] "All control frames MUST have a payload length of 125 bytes or less and
            # MUST NOT be fragmented."
            if length > 125 or not first & 0x80:
                raise WebSocketProtocolError("the server sent an invalid control frame")
            return
        if opcode == CONTINUATION:
            if self._opcode is None:
                raise WebSocketProtocolError("a continuation frame without a message")
        elif opcode in _DATA_OPCODES:
            if self._opcode is not None:
                # [5.4] fragments of one message are not interleaved with another's.
                raise WebSocketProtocolError("a new message inside a fragmented one")
        else:
            raise WebSocketProtocolError(f"the server used reserved opcode {opcode:#x}")
        if self._fragments_size + length > self._max_message:
            raise WebSocketProtocolError("the server's message is too large", MESSAGE_TOO_BIG)


def parse_close(payload: bytes) -> tuple[int | None, str]:
    """[5.5.1] A Close frame's status code (``None`` if it has none) and reason.

    Raises:
        WebSocketProtocolError: a one-byte body, or a reason that is not UTF-8.
    """
    if not payload:
        return None, ""
    if len(payload) < 2:
        raise WebSocketProtocolError("a Close frame with a one-byte body")
    try:
        reason = payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise WebSocketProtocolError("a Close frame whose reason is not UTF-8") from None
    return struct.unpack_from("!H", payload)[0], reason
