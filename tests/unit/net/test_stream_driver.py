"""The asyncio STREAM driver, client and server, over an in-process link (real clocks, no mocks)."""

from __future__ import annotations

import asyncio

import pytest

from wallet.ilp import ErrorCode, Prepare, Reject
from wallet.net.memory_link import memory_link_pair
from wallet.net.router import Router
from wallet.net.stream_api import ConnectionClosedError, IlpConnection, IlpStream
from wallet.net.stream_client import connect
from wallet.net.stream_server import StreamServer
from wallet.stream import ConnectionConfig, StreamError


def _client_config(destination: str, secret: bytes) -> ConnectionConfig:
    return ConnectionConfig(
        shared_secret=secret,
        asset_code="USD",
        asset_scale=9,
        source_account="test.client",
        destination_account=destination,
    )


def test_money_and_data_both_ways() -> None:
    async def main() -> None:
        client_link, server_link = memory_link_pair("client", "server")
        accepted: list[IlpConnection] = []
        received_data: list[bytes] = []

        def on_connection(conn: IlpConnection) -> None:
            accepted.append(conn)

            def on_stream(stream: IlpStream) -> None:
                def echo(data: bytes) -> None:
                    received_data.append(data)
                    stream.send(data)

                stream.on("data", echo)

            conn.on("stream", on_stream)

        server = StreamServer(
            server_link,
            base_address="test.server",
            asset_code="USD",
            asset_scale=9,
            on_connection=on_connection,
        )
        issued = server.credentials()
        router = Router(client_link, own_address="test.client")
        conn = await connect(
            client_link,
            _client_config(issued.destination_account, issued.shared_secret),
            router=router,
        )
        assert conn.destination_asset_code == "USD"
        stream = conn.create_stream()
        echoed: list[bytes] = []
        sent: list[int] = []
        stream.on("data", echoed.append)
        stream.on("outgoing_money", sent.append)
        stream.send(b"hello stream")
        await stream.send_total(5_000_000)
        assert stream.total_sent == 5_000_000 == sum(sent) == conn.total_sent
        for _ in range(200):
            if b"".join(echoed) == b"hello stream":
                break
            await asyncio.sleep(0.01)
        assert b"".join(received_data) == b"hello stream"
        assert b"".join(echoed) == b"hello stream"
        assert accepted[0].total_received == 5_000_000
        conn.close()
        await asyncio.wait_for(conn.closed, 5)
        await asyncio.wait_for(accepted[0].closed, 5)
        assert len(router) == 0  # the client's route went away with the connection
        await server.aclose()

    asyncio.run(main())


def test_unknown_destination_is_f02_and_connect_fails() -> None:
    async def main() -> None:
        client_link, server_link = memory_link_pair()
        server = StreamServer(
            server_link, base_address="test.server", asset_code="USD", asset_scale=9
        )
        reply = await server.handle(
            Prepare(
                1,
                __import__("datetime").datetime.now(__import__("datetime").UTC)
                + __import__("datetime").timedelta(seconds=5),
                bytes(32),
                "test.server.nope",
            )
        )
        assert isinstance(reply, Reject) and reply.code == ErrorCode.F02_UNREACHABLE
        with pytest.raises((StreamError, ConnectionClosedError)):
            await asyncio.wait_for(
                connect(client_link, _client_config("test.server.bogus", bytes(32))), 10
            )

    asyncio.run(main())
