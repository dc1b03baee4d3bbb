"""``trickle receive --uplink URL --spsp-port P``: a STREAM receiver with an SPSP endpoint.

Serves SPSP on ``http://127.0.0.1:P/`` (and ``/.well-known/pay``) and runs until interrupted.
For people it prints a line when it is ready, when a connection opens, and when a stream or
connection closes: the totals received and the close cause (who closed it, the RFC 29 code and
reason). With ``--json`` it prints one JSON line per event instead — ``ready``, ``connection``,
``money`` (running totals), ``data``, ``stream_close`` and ``close`` (totals and cause).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import signal
from collections.abc import Callable
from typing import Any

from aiohttp import web

from wallet.commands.common import (
    add_output_arguments,
    add_uplink_arguments,
    describe,
    emit,
    fail,
    open_from_args,
    setup_logging,
)
from wallet.commands.pay_outcome import close_code_name
from wallet.errors import WalletError
from wallet.net.spsp import spsp_app
from wallet.net.stream_api import CloseCause, IlpConnection, IlpStream
from wallet.net.stream_server import StreamServer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spsp-port", type=int, required=True, help="127.0.0.1 port for SPSP")
    parser.add_argument("--echo", action="store_true", help="send received data back")
    parser.add_argument("--json", action="store_true", help="one JSON line per event")
    add_uplink_arguments(parser)
    add_output_arguments(parser)


def cause_doc(cause: CloseCause | None, peer: str) -> dict[str, Any]:
    """A close cause as JSON fields: who closed (``peer`` or ``"receiver"``), code, reason."""
    if cause is None:
        return {"closedBy": None, "closeCode": None, "closeName": None, "closeMessage": ""}
    return {
        "closedBy": peer if cause.remote else "receiver",
        "closeCode": cause.code,
        "closeName": close_code_name(cause.code),
        "closeMessage": cause.message,
    }


def cause_words(cause: CloseCause | None) -> str:
    if cause is None:
        return "closed"
    who = "by the sender" if cause.remote else "by this receiver"
    reason = f": {cause.message!r}" if cause.message else ""
    return f"closed {who} ({close_code_name(cause.code)}{reason})"


class _Printer:
    """Prints each event as a JSON line or as words for people."""

    def __init__(self, as_json: bool, asset: str) -> None:
        self.as_json = as_json
        self.asset = asset
        self.total = 0
        self.count = 0

    def say(self, doc: dict[str, Any], words: Callable[[], str] | None) -> None:
        if self.as_json:
            emit(doc)
        elif words is not None:
            print(words(), flush=True)

    def watch(self, conn: IlpConnection, echo: bool) -> None:
        self.count += 1
        number = self.count
        tag = conn.source_account or "?"
        self.say(
            {"event": "connection", "connection": tag, "number": number},
            lambda: f"connection {number} opened ({tag})",
        )

        def on_stream(stream: IlpStream) -> None:
            def on_money(amount: int) -> None:
                self.total += amount
                doc = {
                    "event": "money",
                    "connection": tag,
                    "stream": stream.id,
                    "amount": str(amount),
                    "streamTotal": str(stream.total_received),
                    "connectionTotal": str(conn.total_received),
                    "total": str(self.total),
                }
                self.say(doc, None)

            def on_data(data: bytes) -> None:
                doc = {
                    "event": "data",
                    "connection": tag,
                    "stream": stream.id,
                    "data": base64.b64encode(data).decode(),
                }
                self.say(doc, lambda: f"connection {number} stream {stream.id} data: {data!r}")
                if echo:
                    stream.send(data)

            def on_close() -> None:
                doc = {
                    "event": "stream_close",
                    "connection": tag,
                    "stream": stream.id,
                    "totalReceived": str(stream.total_received),
                    **cause_doc(stream.close_cause, "sender"),
                }
                self.say(
                    doc,
                    lambda: (
                        f"connection {number} stream {stream.id} "
                        f"{cause_words(stream.close_cause)}: received {stream.total_received} "
                        f"{self.asset}"
                    ),
                )

            stream.on("money", on_money)
            stream.on("data", on_data)
            stream.on("close", on_close)

        def on_close() -> None:
            doc = {
                "event": "close",
                "connection": tag,
                "totalReceived": str(conn.total_received),
                "packets": conn.core.packets_received,
                "total": str(self.total),
                **cause_doc(conn.close_cause, "sender"),
            }
            self.say(
                doc,
                lambda: (
                    f"connection {number} {cause_words(conn.close_cause)}: received "
                    f"{conn.total_received} {self.asset} in {conn.core.packets_received} packets "
                    f"(all connections: {self.total})"
                ),
            )

        conn.on("stream", on_stream)
        conn.on("close", on_close)


async def _receive(args: argparse.Namespace, stop: asyncio.Event) -> None:
    uplink, account = await open_from_args(args)
    printer = _Printer(args.json, f"{account.asset_code} (scale {account.asset_scale})")
    server = StreamServer(
        uplink,
        base_address=account.client_address,
        asset_code=account.asset_code,
        asset_scale=account.asset_scale,
        on_connection=lambda conn: printer.watch(conn, args.echo),
    )
    runner = web.AppRunner(spsp_app(server.spsp_credentials))
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", args.spsp_port).start()
        url = f"http://127.0.0.1:{runner.addresses[0][1]}/"
        printer.say(
            {
                "event": "ready",
                "address": account.client_address,
                "assetCode": account.asset_code,
                "assetScale": account.asset_scale,
                "spsp": url,
            },
            lambda: f"receiving at {account.client_address} in {printer.asset}; SPSP at {url}",
        )
        await stop.wait()
    finally:
        await server.aclose()
        await runner.cleanup()
        await uplink.close()


def run(args: argparse.Namespace) -> int:
    setup_logging(args)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        await _receive(args, stop)

    try:
        asyncio.run(main())
    except (WalletError, OSError) as e:
        return fail(describe(e))
    return 0
