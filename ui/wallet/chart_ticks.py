"""Value-axis ticks a person can read: 0, a round step (1, 2 or 5 × 10^k), distinct labels.

Pure (no Qt), exact (Decimal, from integer amounts): the step is chosen so the largest bar fits
under ``max_ticks`` steps, and the labels carry just enough decimals for the step, so an axis
never reads "0.01, 0.01, 0.00, 0.00".
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_CEILING, Decimal


@dataclass(frozen=True, slots=True)
class Ticks:
    """``steps`` intervals of ``step`` from 0; labels need ``decimals`` fraction digits."""

    step: Decimal
    steps: int
    decimals: int

    @property
    def top(self) -> Decimal:
        return self.step * self.steps

    def labels(self) -> list[str]:
        return [f"{self.step * i:.{self.decimals}f}" for i in range(self.steps + 1)]


def nice_ticks(top: Decimal, max_ticks: int = 5) -> Ticks:
    """Ticks from 0 covering ``top`` (> 0) in at most ``max_ticks`` round steps."""
    if top <= 0:
        return Ticks(Decimal(1), 1, 0)
    rough = top / max_ticks
    exponent = rough.adjusted()  # rough = d.ddd × 10^exponent
    base = Decimal(1).scaleb(exponent)
    for m in (1, 2, 5, 10):
        step = base * m
        if step * max_ticks >= top:
            break
    steps = int((top / step).to_integral_value(rounding=ROUND_CEILING))
    decimals = max(0, -step.normalize().as_tuple().exponent)  # type: ignore[operator]
    return Ticks(step.normalize(), max(steps, 1), decimals)


__all__ = ["Ticks", "nice_ticks"]
