"""Amounts for people: integer amounts at an asset's scale, formatted and parsed. No Qt.

Owns the one way Trickle writes and reads money in text: ``1_234_560_000`` at scale 9 is
"1.23456" (plain, for CSV and scripts) or "1,234.56 USD"-style in the user's locale (the
separators come in as a :class:`NumberStyle`; ``ui`` builds one from ``QLocale``).

Invariants: arithmetic is on ``int`` only; :class:`~decimal.Decimal` appears only as a display
value (:func:`to_decimal`) and never feeds back into amounts; floats never appear. Parsing
refuses more fraction digits than the scale allows rather than rounding money away.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from wallet.budgets import Asset
from wallet.errors import WalletError


class AmountError(WalletError):
    """Text that is not an amount of the asset (empty, negative, too many digits, ...)."""


@dataclass(frozen=True, slots=True)
class NumberStyle:
    """The user's locale for numbers: decimal point and digit-group separator."""

    decimal: str = "."
    group: str = ","

    def __post_init__(self) -> None:
        if not self.decimal or self.decimal == self.group:
            raise ValueError("the decimal point must be set and differ from the group separator")


def _pow10(n: int) -> int:
    """``10 ** n`` for ``n >= 0``, typed as ``int`` (``int ** int`` is ``Any`` to mypy)."""
    result: int = 10**n
    return result


def to_decimal(amount: int, scale: int) -> Decimal:
    """``amount`` units at ``scale`` as an exact Decimal — for display only."""
    return Decimal(amount).scaleb(-scale)


def _split(amount: int, scale: int) -> tuple[str, int, str]:
    """Sign, whole units and the fraction digits (``scale`` of them) of ``amount``."""
    sign = "-" if amount < 0 else ""
    whole, frac = divmod(abs(amount), _pow10(scale))
    return sign, whole, str(frac).rjust(scale, "0") if scale else ""


def decimal_string(amount: int, scale: int) -> str:
    """Plain, exact, full-scale decimal text: ``(1_500, 3) -> "1.500"`` (CSV, scripts)."""
    sign, whole, frac = _split(amount, scale)
    return f"{sign}{whole}.{frac}" if scale else f"{sign}{whole}"


def round_to(amount: int, scale: int, digits: int) -> int:
    """``amount`` rounded half-even to ``digits`` fraction digits (still at ``scale``)."""
    if digits >= scale:
        return amount
    step = _pow10(scale - digits)
    q, r = divmod(amount, step)  # floor division: q rounds toward -inf, 0 <= r < step
    if 2 * r > step or (2 * r == step and q % 2):
        q += 1
    return q * step


def format_number(
    amount: int,
    scale: int,
    *,
    style: NumberStyle = NumberStyle(),
    min_digits: int = 2,
    max_digits: int | None = None,
) -> str:
    """``amount`` as a number in ``style``: grouped whole part, trailing zeros trimmed.

    At least ``min_digits`` fraction digits are shown (never more than the scale has), at most
    ``max_digits`` (rounded half-even; ``None``: all the scale needs). A non-zero amount that
    would round to zero keeps its significant digits, so "0.000042" never shows as "0.00".
    """
    shown = amount
    if max_digits is not None and max_digits < scale:
        shown = round_to(amount, scale, max_digits)
        if shown == 0 and amount != 0:
            shown = amount
    sign, whole, frac = _split(shown, scale)
    keep = min(max(min_digits, 0), scale)
    frac = frac.rstrip("0")
    frac = frac.ljust(keep, "0")
    grouped = f"{whole:,}".replace(",", style.group)
    return f"{sign}{grouped}{style.decimal}{frac}" if frac else f"{sign}{grouped}"


def format_amount(
    amount: int,
    asset: Asset,
    *,
    style: NumberStyle = NumberStyle(),
    min_digits: int = 2,
    max_digits: int | None = None,
) -> str:
    """``amount`` of ``asset`` for people: number then code, e.g. ``"1,234.56 USD"``."""
    number = format_number(
        amount, asset.scale, style=style, min_digits=min_digits, max_digits=max_digits
    )
    return f"{number} {asset.code}"


_NUMBER = re.compile(r"(\d*)(?:\.(\d*))?")


def parse_amount(text: str, scale: int, *, style: NumberStyle = NumberStyle()) -> int:
    """Read what a person typed (in ``style``) as units at ``scale``: ``"0.60" -> 600_000_000``.

    Group separators and surrounding spaces are ignored; a trailing asset code is not accepted
    (the caller shows it next to the field).

    Raises:
        AmountError: empty, negative, not a number, or more fraction digits than ``scale``.
    """
    t = text.strip().replace("\u00a0", "").replace("\u202f", "")
    if style.group:
        t = t.replace(style.group, "")
    if style.decimal != ".":
        if "." in t:
            raise AmountError(f"use {style.decimal!r} as the decimal point")
        t = t.replace(style.decimal, ".")
    if t.startswith("-"):
        raise AmountError("an amount cannot be negative")
    m = _NUMBER.fullmatch(t)
    if not t or m is None or not (m.group(1) or m.group(2)):
        raise AmountError(f"{text.strip()!r} is not an amount")
    whole, frac = m.group(1) or "0", m.group(2) or ""
    if len(frac) > scale:
        raise AmountError(f"at most {scale} digits after the decimal point")
    return int(whole) * _pow10(scale) + int(frac.ljust(scale, "0") or "0")


def rescale(amount: int, from_scale: int, to_scale: int) -> int:
    """Convert between scales of one asset, exactly when growing, rounding down when shrinking."""
    if to_scale >= from_scale:
        return amount * _pow10(to_scale - from_scale)
    return amount // _pow10(from_scale - to_scale)


__all__ = [
    "AmountError",
    "NumberStyle",
    "decimal_string",
    "format_amount",
    "format_number",
    "parse_amount",
    "rescale",
    "round_to",
    "to_decimal",
]
