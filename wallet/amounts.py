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
    """Text that is not an amount of the asset (empty, negative, too many digits, ...).

    Attributes:
        suggestion: the amount the person probably meant, written in their locale, or ``None``.
    """

    def __init__(self, message: str, *, suggestion: str | None = None) -> None:
        super().__init__(message)
        self.suggestion = suggestion


@dataclass(frozen=True, slots=True)
class NumberStyle:
    """The user's locale for numbers: decimal point, digit-group separator and group sizes.

    ``grouping`` is (the rightmost group's size, the other groups' size): ``(3, 3)`` for
    1,234,567 and ``(3, 2)`` for the Indian 12,34,567.
    """

    decimal: str = "."
    group: str = ","
    grouping: tuple[int, int] = (3, 3)

    def __post_init__(self) -> None:
        if len(self.decimal) != 1 or self.decimal == self.group or self.decimal.isdigit():
            raise ValueError("the decimal point must be one character other than the group's")
        if len(self.group) > 1 or self.group.isdigit():
            raise ValueError("the group separator must be at most one character, not a digit")
        if not all(1 <= n <= 9 for n in self.grouping):
            raise ValueError("group sizes must be 1 to 9 digits")


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
    down: bool = False,
) -> str:
    """``amount`` as a number in ``style``: grouped whole part, trailing zeros trimmed.

    At least ``min_digits`` fraction digits are shown (never more than the scale has), at most
    ``max_digits`` (rounded half-even, or with ``down`` towards zero: what is left is never
    shown as more than it is; ``None``: all the scale needs). A non-zero amount that would
    round to zero keeps its significant digits, so "0.000042" never shows as "0.00".
    """
    shown = amount
    if max_digits is not None and max_digits < scale:
        if down:
            step = _pow10(scale - max_digits)
            shown = amount - amount % step if amount >= 0 else -(-amount - -amount % step)
        else:
            shown = round_to(amount, scale, max_digits)
        if shown == 0 and amount != 0:
            shown = amount
    sign, whole, frac = _split(shown, scale)
    keep = min(max(min_digits, 0), scale)
    frac = frac.rstrip("0")
    frac = frac.ljust(keep, "0")
    grouped = _group(str(whole), style)
    return f"{sign}{grouped}{style.decimal}{frac}" if frac else f"{sign}{grouped}"


def _group(digits: str, style: NumberStyle) -> str:
    """``digits`` with ``style``'s separators: "1234567" -> "1,234,567" (or "12,34,567")."""
    primary, secondary = style.grouping
    if not style.group or len(digits) <= primary:
        return digits
    head, groups = digits[:-primary], [digits[-primary:]]
    while len(head) > secondary:
        groups.insert(0, head[-secondary:])
        head = head[:-secondary]
    return style.group.join([head, *groups])


def format_amount(
    amount: int,
    asset: Asset,
    *,
    style: NumberStyle = NumberStyle(),
    min_digits: int = 2,
    max_digits: int | None = None,
    down: bool = False,
) -> str:
    """``amount`` of ``asset`` for people: number then code, e.g. ``"1,234.56 USD"``
    (``down``: rounded towards zero, see :func:`format_number`)."""
    number = format_number(
        amount, asset.scale, style=style, min_digits=min_digits, max_digits=max_digits, down=down
    )
    return f"{number} {asset.code}"


# The largest amount a field or the command line accepts: far above any sane budget, far
# below SQLite's 2**63 - 1, so sums of a few such values still fit the database.
MAX_AMOUNT = 10**18
# More digits than this is "too large" before anything is converted (int() of thousands of
# digits is slow and, past 4,300, an error of its own).
_MAX_DIGITS = 40
# What people type between digit groups besides the locale's own separator.
_SPACES = (" ", "\u00a0", "\u202f", "\u2009")


class _TooLarge(AmountError):
    """More digits than any amount has (said with the limit by :func:`parse_amount`)."""


class _TooPrecise(AmountError):
    """More fraction digits than the scale: clear as typed, so no other reading is offered."""


def _parse_strict(text: str, scale: int, style: NumberStyle) -> tuple[int, int]:
    """``text`` (stripped, non-empty) read exactly in ``style``: (units, fraction digits typed).

    Raises:
        AmountError: anything but digits grouped as the locale groups them, at most one
            decimal point, and at most ``scale`` fraction digits.
    """
    t = text
    group_is_space = style.group in _SPACES or not style.group
    for space in _SPACES:
        if space in t:
            if not group_is_space:
                raise AmountError("spaces are not allowed inside an amount")
            t = t.replace(space, "\x00")
    if style.group and not group_is_space:
        t = t.replace(style.group, "\x00")
    whole, sep, frac = t.partition(style.decimal)
    if style.decimal in frac:
        raise AmountError("more than one decimal point")
    if not _DIGITS.fullmatch(frac) or (sep and not frac and not whole):
        raise AmountError("not a number")
    if whole or not sep:
        _check_groups(whole, style)
    digits = whole.replace("\x00", "")
    if len(digits) > _MAX_DIGITS:
        raise _TooLarge("too large")
    if len(frac) > _MAX_DIGITS:
        raise AmountError("too many digits after the decimal point")
    if len(frac) > scale:
        raise _TooPrecise(
            f"at most {scale} digits after the decimal point"
            if scale
            else "whole units only: no digits after the decimal point"
        )
    return int(digits or "0") * _pow10(scale) + int(frac.ljust(scale, "0") or "0"), len(frac)


_DIGITS = re.compile(r"[0-9]*", re.ASCII)


def _check_groups(whole: str, style: NumberStyle) -> None:
    """Digits, optionally grouped as ``style`` groups them (``\\x00`` marks a separator).

    A separator is accepted only where the locale puts one, so "1,5" (a decimal comma typed in
    a locale that groups with commas) is refused, not read as 15.
    """
    groups = whole.split("\x00")
    if not all(g and _DIGITS.fullmatch(g) for g in groups):
        raise AmountError("not a number")
    if len(groups) == 1:
        return
    if groups[0].startswith("0"):  # "0,600" is no grouped number; it is a decimal comma
        raise AmountError("digit groups are not where this locale puts them")
    primary, secondary = style.grouping
    ok = len(groups[-1]) == primary and all(len(g) == secondary for g in groups[1:-1])
    ok = ok and 1 <= len(groups[0]) <= (secondary if len(groups) > 2 else primary)
    western = all(len(g) == 3 for g in groups[1:]) and 1 <= len(groups[0]) <= 3
    if not (ok or western):
        raise AmountError("digit groups are not where this locale puts them")


def _other_convention(style: NumberStyle) -> NumberStyle:
    """The convention people mix up with ``style``: decimal comma for point and back."""
    if style.decimal == ",":
        return NumberStyle(decimal=".", group=",")
    return NumberStyle(decimal=",", group=".")


def parse_amount(
    text: str, scale: int, *, style: NumberStyle = NumberStyle(), maximum: int = MAX_AMOUNT
) -> int:
    """Read what a person typed (in ``style``) as units at ``scale``: ``"0.60" -> 600_000_000``.

    Exact: digits become an ``int``, never a float. Group separators are accepted only where the
    locale puts them (spaces too, when the locale groups with a space); a trailing asset code is
    not accepted (the caller shows it next to the field). What could mean something else is
    refused with a suggestion: "1,5" in a locale writing 1.5 is "did you mean 1.5?".

    Raises:
        AmountError: empty, negative, not a number in this locale, more fraction digits than
            ``scale``, or more than ``maximum`` units. ``suggestion`` holds what the text
            would be in the user's own convention, when there is one.
    """
    stripped = text.strip()
    if not stripped:
        raise AmountError("enter an amount")
    if stripped[0] in "-\u2212":
        raise AmountError("an amount cannot be negative")
    limit = format_number(maximum, scale, style=style, min_digits=0)
    try:
        value, _ = _parse_strict(stripped, scale, style)
    except _TooLarge:
        raise AmountError(f"too large: at most {limit}") from None
    except _TooPrecise as e:
        raise AmountError(str(e)) from None
    except AmountError as e:
        shown = stripped if len(stripped) <= 24 else stripped[:24] + "…"
        suggestion = _suggest(stripped, scale, style)
        if suggestion is None:
            raise AmountError(f"{shown!r} is not an amount: {e}") from None
        raise AmountError(
            f"{shown!r} is not an amount here (the decimal point is {style.decimal!r}); "
            f"did you mean {suggestion}?",
            suggestion=suggestion,
        ) from None
    if value > maximum:
        raise AmountError(f"too large: at most {limit}")
    return value


def _suggest(text: str, scale: int, style: NumberStyle) -> str | None:
    """``text`` read in the other decimal convention, written in ``style`` (or ``None``)."""
    try:
        value, typed = _parse_strict(text, scale, _other_convention(style))
    except AmountError:
        return None
    if value > MAX_AMOUNT:
        return None
    return format_number(value, scale, style=style, min_digits=typed)


def rescale(amount: int, from_scale: int, to_scale: int) -> int:
    """Convert between scales of one asset, exactly when growing, rounding down when shrinking."""
    if to_scale >= from_scale:
        return amount * _pow10(to_scale - from_scale)
    return amount // _pow10(from_scale - to_scale)


__all__ = [
    "MAX_AMOUNT",
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
