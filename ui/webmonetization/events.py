"""Driver events → pushes to the page: the ``ConnectionListener``/``StreamListener`` side.

Listener methods run on the wallet loop, where the driver's state lives, so field snapshots are
taken there; the push itself is posted to the GUI thread (``EventSink.post_to_gui``) and goes to
the document that opened the connection (``EventSink.push`` drops it if that document is gone).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any, Protocol

from ui.webmonetization.errors import page_error
from ui.webmonetization.protocols import ConnectionProxy, Fields, StreamProxy


class EventSink(Protocol):
    """What the listeners need from the page bridge (GUI-thread methods but ``post_to_gui``
    and ``new_handle``)."""

    def post_to_gui(self, fn: Callable[[], None]) -> None: ...

    def push(self, doc: str, payload: dict[str, Any]) -> None: ...

    def new_handle(self, prefix: str) -> str: ...

    def add_remote_stream(self, conn_handle: str, handle: str, stream: StreamProxy) -> bool: ...

    def forget_connection(self, handle: str) -> None: ...


class ConnectionEvents:
    """A ``ConnectionListener``: driver events (on the loop) → pushes (on the GUI thread).

    Field snapshots are taken on the loop, where the driver's state lives.
    """

    def __init__(self, bridge: EventSink, doc: str, handle: str, proxy: ConnectionProxy) -> None:
        self._bridge = bridge
        self._doc = doc
        self._handle = handle
        self._proxy = proxy
        self._post = bridge.post_to_gui

    def _push(self, payload: dict[str, Any]) -> None:
        payload = {"t": "event", "conn": self._handle, **payload}
        bridge, doc = self._bridge, self._doc
        self._post(lambda: bridge.push(doc, payload))

    def on_stream(self, stream: StreamProxy) -> None:
        handle = self._bridge.new_handle("p")
        events = StreamEvents(self._bridge, self._doc, self._handle, handle, self._proxy)
        events.stream = stream
        stream.set_listener(events)
        payload = {
            "t": "event",
            "conn": self._handle,
            "stream": handle,
            "type": "stream",
            "fields": snapshot(stream.fields()),
            "connFields": snapshot(self._proxy.fields()),
        }
        bridge, doc, conn = self._bridge, self._doc, self._handle

        def deliver() -> None:
            if bridge.add_remote_stream(conn, handle, stream):
                bridge.push(doc, payload)

        self._post(deliver)

    def on_close(self) -> None:
        fields = {**snapshot(self._proxy.fields()), "closed": True}
        self._push({"type": "close", "connFields": fields})
        bridge, handle = self._bridge, self._handle
        self._post(lambda: bridge.forget_connection(handle))

    def on_error(self, error: BaseException) -> None:
        self._push({"type": "error", "error": page_error(error).to_json()})

    def on_fields_changed(self) -> None:
        self._push({"type": "fields", "connFields": snapshot(self._proxy.fields())})


class StreamEvents:
    """A ``StreamListener`` for one stream of one connection (snapshots taken on the loop)."""

    def __init__(
        self, bridge: EventSink, doc: str, conn: str, handle: str, proxy: ConnectionProxy
    ) -> None:
        self._bridge = bridge
        self._doc = doc
        self._conn = conn
        self._handle = handle
        self._proxy = proxy
        self.stream: StreamProxy | None = None
        self._post = bridge.post_to_gui

    def _push(self, payload: dict[str, Any]) -> None:
        full = {"t": "event", "conn": self._conn, "stream": self._handle, **payload}
        if self.stream is not None:
            full["fields"] = snapshot(self.stream.fields())
        full["connFields"] = snapshot(self._proxy.fields())
        bridge, doc = self._bridge, self._doc
        self._post(lambda: bridge.push(doc, full))

    def on_data(self, data: bytes) -> None:
        self._push({"type": "data", "data": base64.b64encode(data).decode("ascii")})

    def on_money(self, amount: int) -> None:
        self._push({"type": "money", "amount": str(amount)})

    def on_outgoing_money(self, amount: int) -> None:
        self._push({"type": "outgoing_money", "amount": str(amount)})

    def on_close(self) -> None:
        self._push({"type": "close"})

    def on_error(self, error: BaseException) -> None:
        self._push({"type": "error", "error": page_error(error).to_json()})


def snapshot(fields: Fields) -> Fields:
    """A JSON-safe copy of a field snapshot (ints of amounts become decimal strings)."""
    out: Fields = {}
    for key, value in fields.items():
        if isinstance(value, bool) or value is None or isinstance(value, str | float):
            out[key] = value
        elif isinstance(value, int):
            keep_number = key in (
                "sourceAssetScale",
                "lastPacketExchangeRate",
                "minimumAcceptableExchangeRate",
            )
            out[key] = value if keep_number else str(value)
        else:
            out[key] = str(value)
    return out
