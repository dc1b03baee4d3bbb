"""The wallet loop's selector lingers before blocking only while a component is under load, and
the HTTP client reports its load to it (wallet.net.linger)."""

from __future__ import annotations

import asyncio
import selectors
import socket
from collections.abc import Iterator

import pytest

from tests.unit.net.raw_http import OK, Conn, Peer, raw_peer
from wallet.net.http_client import HttpClient
from wallet.net.linger import (
    LINGER_SECONDS,
    LingeringSelector,
    LoadMeter,
    new_event_loop,
)


@pytest.fixture
def pair() -> Iterator[tuple[socket.socket, socket.socket]]:
    a, b = socket.socketpair()
    yield a, b
    a.close()
    b.close()


def test_an_idle_selector_never_lingers(pair: tuple[socket.socket, socket.socket]) -> None:
    slept: list[float] = []
    selector = LingeringSelector(sleep=slept.append)
    selector.register(pair[0], selectors.EVENT_READ)
    assert selector.select(0.001) == []
    assert slept == []
    selector.close()


def test_under_load_it_lingers_once_and_takes_what_came_meanwhile(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    reader, writer = pair
    slept: list[float] = []

    def linger(seconds: float) -> None:
        slept.append(seconds)
        writer.send(b"answer")  # the peer answers while we linger: nobody had to wake us

    selector = LingeringSelector(sleep=linger)
    key = selector.register(reader, selectors.EVENT_READ)
    selector.hold()
    assert selector.busy == 1
    ready = selector.select(None)  # would block forever without the answer
    assert [k for k, _ in ready] == [key]
    assert slept == [LINGER_SECONDS]
    selector.release()
    assert selector.busy == 0
    selector.close()


def test_under_load_it_never_delays_what_is_ready_or_a_poll(
    pair: tuple[socket.socket, socket.socket],
) -> None:
    reader, writer = pair
    slept: list[float] = []
    selector = LingeringSelector(sleep=slept.append)
    key = selector.register(reader, selectors.EVENT_READ)
    selector.hold()
    assert selector.select(0) == []  # a poll stays a poll
    writer.send(b"x")
    assert [k for k, _ in selector.select(None)] == [key]  # ready: at once
    assert slept == []
    reader.recv(1)
    selector.select(LINGER_SECONDS / 4)  # a timer due sooner than the linger is not late
    assert slept == [LINGER_SECONDS / 4]
    selector.close()


def test_a_load_meter_holds_its_loop_from_the_threshold_on() -> None:
    loop = new_event_loop()
    selector = loop._selector  # type: ignore[attr-defined]
    assert isinstance(selector, LingeringSelector)
    meter = LoadMeter(loop, threshold=3)
    for expected in (0, 0, 1, 1):
        meter.started()
        assert selector.busy == expected
    for expected in (1, 0, 0, 0):
        meter.finished()
        assert selector.busy == expected
    assert meter.in_flight == 0
    loop.close()
    # Any other loop: the meter counts, and nothing else happens.
    plain = asyncio.new_event_loop()
    other = LoadMeter(plain, threshold=1)
    other.started()
    other.finished()
    plain.close()


def test_the_http_client_reports_its_load_and_always_gives_it_back() -> None:
    arrived = 0
    all_in = asyncio.Event()

    async def script(conn: Conn, peer: Peer) -> None:
        nonlocal arrived
        while await peer.next_request(conn):
            arrived += 1
            if arrived == 8:
                all_in.set()
            body = [b for i, _, b in peer.requests if i == conn.index][-1]
            await all_in.wait()
            if body != b"hold":
                conn.send(OK)

    async def main() -> None:
        selector = asyncio.get_running_loop()._selector  # type: ignore[attr-defined]
        async with raw_peer(script) as peer:
            client = HttpClient(peer.url)
            h = client.head({"Content-Type": "x/y"})
            posts = [asyncio.ensure_future(client.request(h, b"ok")) for _ in range(4)]
            held = [asyncio.ensure_future(client.request(h, b"hold")) for _ in range(4)]
            await all_in.wait()
            assert selector.busy == 1  # 8 in flight: the loop lingers
            await asyncio.gather(*posts)
            assert selector.busy == 1  # 4 still in flight: the threshold
            held[0].cancel()
            with pytest.raises(asyncio.CancelledError):
                await held[0]
            assert selector.busy == 0  # a cancelled request gives its share back too
            for future in held[1:]:
                future.cancel()
            await asyncio.gather(*held, return_exceptions=True)
            await client.close()

    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        runner.run(asyncio.wait_for(main(), 30))
