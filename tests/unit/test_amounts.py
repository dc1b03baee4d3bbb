"""Amount formatting and parsing: integers in, text out, and back (no floats, no Qt)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.amounts import (
    AmountError,
    NumberStyle,
    decimal_string,
    format_amount,
    format_number,
    parse_amount,
    rescale,
    round_to,
    to_decimal,
)
from wallet.budgets import Asset

USD9 = Asset("USD", 9)
EUR2 = Asset("EUR", 2)
JPY0 = Asset("JPY", 0)
GERMAN = NumberStyle(decimal=",", group=".")
FRENCH = NumberStyle(decimal=",", group="\u202f")


def test_decimal_string_is_exact_and_full_scale() -> None:
    assert decimal_string(1_234_560_000, 9) == "1.234560000"
    assert decimal_string(42, 9) == "0.000000042"
    assert decimal_string(0, 2) == "0.00"
    assert decimal_string(7, 0) == "7"
    assert decimal_string(-150, 2) == "-1.50"
    assert decimal_string(2**64 - 1, 9) == "18446744073.709551615"


def test_format_amount_in_locales() -> None:
    assert format_amount(1_234_560_000_000, USD9) == "1,234.56 USD"
    assert format_amount(1_234_560_000_000, USD9, style=GERMAN) == "1.234,56 USD"
    assert format_amount(1_234_560_000_000, USD9, style=FRENCH) == "1\u202f234,56 USD"
    assert format_amount(500, EUR2) == "5.00 EUR"
    assert format_amount(1_000_000, JPY0) == "1,000,000 JPY"


def test_small_amounts_keep_their_digits() -> None:
    assert format_amount(42_000, USD9) == "0.000042 USD"
    assert format_amount(42_000, USD9, max_digits=4) == "0.000042 USD"  # not "0.00"
    assert format_amount(123_456_789, USD9, max_digits=4) == "0.1235 USD"
    assert format_amount(0, USD9) == "0.00 USD"


def test_round_half_even_on_integers() -> None:
    assert round_to(125, 3, 2) == 120
    assert round_to(135, 3, 2) == 140
    assert round_to(-125, 3, 2) == -120
    assert round_to(126, 3, 2) == 130
    assert round_to(126, 3, 5) == 126


@pytest.mark.parametrize(
    ("text", "style", "scale", "expected"),
    [
        ("0.60", NumberStyle(), 9, 600_000_000),
        ("5", NumberStyle(), 9, 5_000_000_000),
        (" 1,234.5 ", NumberStyle(), 2, 123_450),
        ("1.234,5", GERMAN, 2, 123_450),
        (",5", GERMAN, 2, 50),
        ("1\u202f000,25", FRENCH, 2, 100_025),
        ("7", NumberStyle(), 0, 7),
    ],
)
def test_parse(text: str, style: NumberStyle, scale: int, expected: int) -> None:
    assert parse_amount(text, scale, style=style) == expected


@pytest.mark.parametrize("text", ["", " ", "-1", "1.001", "abc", "1e3", "1.2.3", ".", "0x10"])
def test_parse_refuses(text: str) -> None:
    with pytest.raises(AmountError):
        parse_amount(text, 2)


def test_parse_refuses_the_other_decimal_point() -> None:
    with pytest.raises(AmountError, match="decimal point"):
        parse_amount("1.5", 2, style=FRENCH)


@given(st.integers(min_value=0, max_value=2**64 - 1), st.integers(min_value=0, max_value=18))
def test_round_trip(amount: int, scale: int) -> None:
    for style in (NumberStyle(), GERMAN, FRENCH):
        text = format_number(amount, scale, style=style)
        assert parse_amount(text, scale, style=style) == amount
    assert parse_amount(decimal_string(amount, scale), scale) == amount
    assert to_decimal(amount, scale) == Decimal(decimal_string(amount, scale))


def test_rescale() -> None:
    assert rescale(5, 2, 9) == 5_000_000_000 // 100
    assert rescale(5_999_999, 9, 2) == 0
    assert rescale(123_456_789_000, 9, 2) == 12_345


def test_style_must_be_unambiguous() -> None:
    with pytest.raises(ValueError):
        NumberStyle(decimal=",", group=",")
