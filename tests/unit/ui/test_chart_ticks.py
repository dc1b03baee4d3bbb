"""Chart ticks: round steps, covering the largest bar, distinct labels (issue 20, item 7)."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from ui.wallet.chart_ticks import nice_ticks
from wallet.amounts import to_decimal


def test_small_amounts_get_distinct_labels() -> None:
    """Was "0.01, 0.01, 0.00, 0.00, 0.00" for a top bar of about 0.0123 USD."""
    assert nice_ticks(Decimal("0.0123")).labels() == ["0.000", "0.005", "0.010", "0.015"]
    assert nice_ticks(Decimal("0.86")).labels() == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]
    assert nice_ticks(Decimal("7.3")).labels() == ["0", "2", "4", "6", "8"]
    assert nice_ticks(Decimal(0)).labels() == ["0", "1"]


@given(st.integers(min_value=1, max_value=10**15), st.integers(min_value=0, max_value=9))
def test_ticks_cover_the_top_with_round_distinct_steps(units: int, scale: int) -> None:
    top = to_decimal(units, scale)
    ticks = nice_ticks(top)
    assert ticks.top >= top
    assert 1 <= ticks.steps <= 5
    assert ticks.top < top * 3  # not absurdly high either
    mantissa = ticks.step.scaleb(-ticks.step.adjusted())
    assert mantissa in (1, 2, 5)
    labels = ticks.labels()
    assert len(set(labels)) == len(labels)
    assert [Decimal(label) for label in labels] == [ticks.step * i for i in range(ticks.steps + 1)]
