"""``trickle receive --uplink URL --spsp-port P``: a STREAM receiver with an SPSP endpoint.

Serves SPSP on ``http://127.0.0.1:P/`` (and ``/.well-known/pay``); prints one JSON line per
connection event — ``ready``, ``connection``, ``money``, ``data``, ``close`` — with running
totals. Runs until interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import signal

from aiohttp import web

from wallet.commands.common import add_uplink_arguments, describe, emit, fail, open_from_args
from wallet.errors import WalletError
from wallet.net.spsp import spsp_app
from wallet.net.stream_api import IlpConnection, IlpStream
from wallet.net.stream_server import StreamServer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--spsp-port", type=int, required=True, help="127.0.0.1 port for SPSP")
    parser.add_argument("--echo", action="store_true", help="send received data back")
    add_uplink_arguments(parser)


async def _receive(args: argparse.Namespace, stop: asyncio.Event) -> None:
    uplink, account = await open_from_args(args)
    totals = {"total": 0}

    def on_connection(conn: IlpConnection) -> None:
        tag = conn.source_account or "?"
        emit({"event": "connection", "connection": tag})

        def on_stream(stream: IlpStream) -> None:
            def on_money(amount: int) -> None:
                totals["total"] += amount
                emit(
                    {
                        "event": "money",
                        "connection": tag,
                        "stream": stream.id,
                        "amount": str(amount),
                        "streamTotal": str(stream.total_received),
                        "connectionTotal": str(conn.total_received),
                        "total": str(totals["total"]),
                    }
                )

            def on_data(data: bytes) -> None:
                emit(
                    {
                        "event": "data",
                        "connection": tag,
                        "stream": stream.id,
                        "data": base64.b64encode(data).decode(),
                    }
                )
                if args.echo:
                    stream.send(data)

            stream.on("money", on_money)
            stream.on("data", on_data)

        conn.on("stream", on_stream)
        conn.on(
            "close",
            lambda: emit(
                {"event": "close", "connection": tag, "totalReceived": str(conn.total_received)}
            ),
        )

    server = StreamServer(
        uplink,
        base_address=account.client_address,
        asset_code=account.asset_code,
        asset_scale=account.asset_scale,
        on_connection=on_connection,
    )
    runner = web.AppRunner(spsp_app(server.spsp_credentials))
    await runner.setup()
    try:
        await web.TCPSite(runner, "127.0.0.1", args.spsp_port).start()
        emit(
            {
                "event": "ready",
                "address": account.client_address,
                "assetCode": account.asset_code,
                "assetScale": account.asset_scale,
                "spsp": f"http://127.0.0.1:{runner.addresses[0][1]}/",
            }
        )
        await stop.wait()
    finally:
        await server.aclose()
        await runner.cleanup()
        await uplink.close()


def run(args: argparse.Namespace) -> int:
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
