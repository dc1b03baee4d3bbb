"""A paying handler that keeps one WebSocket to its provider, the framing both ends speak, and
the provider's end (benchmarks/browser_path_bench.py, test_ws_payment.py).

``WS_HANDLER`` is a Web Monetization handler page, as a provider that cares about speed would
write it: instead of a ``fetch`` per packet (paying_handler.HANDLER) it opens ONE WebSocket to
its own origin's ``/ws`` when it loads and sends each ``{id, request}`` Prepare over it as one
binary message, matching replies by a request id. IL-DCP (``peer.config``) is just another
Prepare on it: the provider answers it, as ``/ilp`` does for the fetch handler.

Framing, both directions, one packet per binary message: a 4-byte big-endian request id, then
the raw OER bytes of the ILP packet (a Prepare out; its Fulfill or Reject back, same id).

Handler protocol, as the fetch handler keeps it: requests count only from ``parent`` with
origin ``"null"`` (the host page is opaque), and ``origin`` is read before ``data`` (Chromium
slows a data-first read of a cross-origin message; see handler_host.py). Replies go to
``parent`` as ``{id, response}`` (base64 Fulfill/Reject) or ``{id, error, errorName}`` when the
socket fails; Prepares that arrive before the socket is open wait for it. A dropped socket fails
what is pending and the next request opens a new one. ``window.handlerMs`` keeps, per Fulfill,
the time from the request's arrival to the reply's ``postMessage`` (for the benchmark).

``ws_endpoint(answer)`` is the provider's end: an aiohttp handler for ``/ws`` that answers each
framed Prepare with ``answer(prepare)`` under its id.
"""

from __future__ import annotations

import asyncio
import struct
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import WSMsgType, web

from tests.qt.webmonetization.conftest import page_html
from wallet.ilp import CodecError, Fulfill, Prepare, Reject, parse_prepare

WS_PATH = "/ws"
_ID = struct.Struct(">I")
ID_BYTES = _ID.size


def frame(request_id: int, packet: bytes) -> bytes:
    """One message: ``request_id`` (UInt32, big-endian), then the packet."""
    return _ID.pack(request_id) + packet


def unframe(message: bytes) -> tuple[int, bytes]:
    """``(request_id, packet)`` of one message.

    Raises:
        ValueError: too short to hold an id and a packet.
    """
    if len(message) <= ID_BYTES:
        raise ValueError("a framed packet is at least 5 bytes")
    return _ID.unpack_from(message)[0], message[ID_BYTES:]


async def framed_messages(
    ws: web.WebSocketResponse | aiohttp.ClientWebSocketResponse,
) -> AsyncIterator[tuple[int, bytes]]:
    """``(request_id, packet)`` of each framed binary message on ``ws``; anything else is
    skipped."""
    async for message in ws:
        if message.type != WSMsgType.BINARY:
            continue
        try:
            yield unframe(message.data)
        except ValueError:
            continue


Answer = Callable[[Prepare], Awaitable[Fulfill | Reject]]


def ws_endpoint(answer: Answer) -> Callable[[web.Request], Awaitable[web.WebSocketResponse]]:
    """The provider's ``/ws``: one socket per handler; each binary message a framed Prepare,
    answered under its id, concurrently (replies may overtake each other). Anything else is
    ignored, unanswered (as BTP does with unreadable frames). No permessage-deflate: ILP packets
    are mostly ciphertext, compressing them only costs time."""

    async def endpoint(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(compress=False, max_msg_size=1 << 16)
        await ws.prepare(request)
        tasks: set[asyncio.Task[None]] = set()

        async def reply(request_id: int, packet: bytes) -> None:
            try:
                prepare = parse_prepare(packet)
            except CodecError:
                return
            response = (await answer(prepare)).to_bytes()
            if not ws.closed:
                await ws.send_bytes(frame(request_id, response))

        async for request_id, packet in framed_messages(ws):
            task = asyncio.create_task(reply(request_id, packet))
            tasks.add(task)
            task.add_done_callback(tasks.discard)
        return ws

    return endpoint


_SCRIPT = """
window.handlerMs = [];  // per Fulfill: request received to reply posted (for the benchmark)
const pending = new Map();  // request id (UInt32) -> {id, started}
let nextId = 1;
let socket = null;
let waiting = [];  // framed Prepares sent before the socket opened

function fail(message) {
  for (const {id} of pending.values()) {
    parent.postMessage({id, error: message, errorName: "NetworkError"}, "*");
  }
  pending.clear();
  waiting = [];
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss://" : "ws://";
  const ws = new WebSocket(scheme + location.host + "__WS_PATH__");
  ws.binaryType = "arraybuffer";
  ws.onopen = () => {
    for (const f of waiting) ws.send(f);
    waiting = [];
  };
  ws.onmessage = (m) => {
    if (!(m.data instanceof ArrayBuffer) || m.data.byteLength < 5) return;
    const requestId = new DataView(m.data).getUint32(0);
    const entry = pending.get(requestId);
    if (entry === undefined) return;
    pending.delete(requestId);
    const reply = new Uint8Array(m.data, 4);
    let text = "";
    for (const b of reply) text += String.fromCharCode(b);
    parent.postMessage({id: entry.id, response: btoa(text)}, "*");
    if (reply[0] === 13) window.handlerMs.push(performance.now() - entry.started);  // Fulfill
  };
  ws.onclose = () => {
    if (socket === ws) socket = null;
    fail("the connection to the provider closed");
  };
  return ws;
}
socket = connect();

window.addEventListener("message", (e) => {
  if (e.source !== parent || e.origin !== "null") return;
  if (!e.data || typeof e.data.id !== "string" || typeof e.data.request !== "string") return;
  const started = performance.now();
  let packet;
  try {
    packet = atob(e.data.request);
  } catch (err) {
    const error = "the request is not base64";
    parent.postMessage({id: e.data.id, error, errorName: err.name}, "*");
    return;
  }
  const message = new Uint8Array(4 + packet.length);
  const requestId = nextId;
  nextId = nextId === 0xffffffff ? 1 : nextId + 1;
  new DataView(message.buffer).setUint32(0, requestId);
  for (let i = 0; i < packet.length; i++) message[4 + i] = packet.charCodeAt(i);
  pending.set(requestId, {id: e.data.id, started});
  if (socket === null) socket = connect();
  if (socket.readyState === WebSocket.OPEN) socket.send(message);
  else waiting.push(message);
});
"""
WS_HANDLER = page_html(script=_SCRIPT.replace("__WS_PATH__", WS_PATH))
