"""Per-stream state: in-order reassembly, exact retransmission frames, limits, config."""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.stream import ConnectionConfig, LocalProtocolError, Stream
from wallet.stream.frames import StreamDataFrame


@given(st.binary(min_size=1, max_size=3000), st.integers(0, 2**32), st.integers(1, 400))
def test_reassembly_any_order_with_duplicates(payload: bytes, seed: int, chunk: int) -> None:
    rng = random.Random(seed)
    cuts = sorted(
        {0, len(payload), *(rng.randrange(len(payload)) for _ in range(len(payload) // chunk))}
    )
    pieces = [(a, payload[a:b]) for a, b in itertools.pairwise(cuts) if b > a]
    deliveries = pieces + rng.sample(pieces, k=len(pieces) // 3)  # resends of exact frames
    rng.shuffle(deliveries)
    stream = Stream(1, 0, 1 << 30)
    out = b"".join(b"".join(stream.receive_data(offset, data)) for offset, data in deliveries)
    assert out == payload
    assert stream.recv_offset == len(payload)
    assert stream.recv_chunks == {}


def test_take_data_respects_limits_and_resends_exact_frames() -> None:
    stream = Stream(3, 0, 16384)
    stream.send(b"a" * 100)
    stream.remote_max_data = 60
    first = stream.take_data(40)
    second = stream.take_data(40)
    assert first == StreamDataFrame(3, 0, b"a" * 40)
    assert second == StreamDataFrame(3, 40, b"a" * 20)  # peer's limit: 60
    assert stream.take_data(40) is None
    assert stream.data_blocked_at() == 100
    assert stream.data_blocked_at() is None  # once per value
    stream.requeue_data(second)
    stream.requeue_data(first)
    assert stream.take_data(10) is None  # an exact frame never gets split
    assert stream.take_data(40) == first
    assert stream.take_data(40) == second
    stream.remote_max_data = 1000
    assert stream.take_data(1000) == StreamDataFrame(3, 60, b"a" * 40)


def test_stream_money_limits() -> None:
    stream = Stream(1, 0, 16384)
    stream.set_send_max(100)
    stream.in_flight = 30
    stream.total_sent = 50
    assert stream.money_pending == 20
    with pytest.raises(LocalProtocolError):
        stream.set_send_max(79)
    stream.set_receive_max(10)
    stream.set_receive_max(5)  # never lowered (§4.4.4)
    assert stream.receive_max == 10
    stream.close()
    with pytest.raises(LocalProtocolError):
        stream.send(b"x")


def test_config_exact_rates_and_validation() -> None:
    config = ConnectionConfig(
        shared_secret=b"s",
        asset_code="USD",
        asset_scale=9,
        slippage=0.01,  # type: ignore[arg-type]
        minimum_exchange_rate="0.000792",  # type: ignore[arg-type]
    )
    assert config.slippage == Fraction(1, 100)
    assert config.minimum_exchange_rate == Fraction(792, 1_000_000)
    assert "s'" not in repr(config)
    with pytest.raises(ValueError, match="slippage"):
        ConnectionConfig(shared_secret=b"s", asset_code="USD", asset_scale=9, slippage=Fraction(1))
    with pytest.raises(ValueError, match="scale"):
        ConnectionConfig(shared_secret=b"s", asset_code="USD", asset_scale=256)
