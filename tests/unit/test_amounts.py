"""Amount formatting and parsing: integers in, text out, and back (no floats, no Qt)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.amounts import (
    MAX_AMOUNT,
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
# The separators of four locales as CLDR (and Qt's QLocale, see tests/qt/wallet/test_fields.py)
# writes them; Debian images often install no system locales, so the table is the source here.
US = NumberStyle(decimal=".", group=",")
GERMAN = NumberStyle(decimal=",", group=".")
FRENCH = NumberStyle(decimal=",", group="\u202f")
INDIAN = NumberStyle(decimal=".", group=",", grouping=(3, 2))
LOCALES = {"en_US": US, "de_DE": GERMAN, "fr_FR": FRENCH, "en_IN": INDIAN}
locales = st.sampled_from(sorted(LOCALES)).map(LOCALES.__getitem__)


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
    with pytest.raises(AmountError, match="did you mean 1,5") as e:
        parse_amount("1.5", 2, style=FRENCH)
    assert e.value.suggestion == "1,5"


@pytest.mark.parametrize(
    ("text", "style", "suggestion"),
    [
        ("1,5", US, "1.5"),  # was saved as 15.00 USD/hour
        ("1,50", US, "1.50"),
        ("0,60", INDIAN, "0.60"),
        ("1.234,5", US, "1,234.5"),
        ("1.5", GERMAN, "1,5"),
        ("1.5", FRENCH, "1,5"),
        ("1,234.5", GERMAN, "1.234,5"),
        ("0,600", US, "0.600"),  # a leading zero group is a decimal comma, never 600
        ("1,2,3", US, None),
        ("12,34,567", US, None),  # Indian grouping in a western locale: refused
    ],
)
def test_ambiguous_text_is_refused_with_a_suggestion(
    text: str, style: NumberStyle, suggestion: str | None
) -> None:
    with pytest.raises(AmountError) as e:
        parse_amount(text, 9, style=style)
    assert e.value.suggestion == suggestion
    if suggestion is not None:
        assert f"did you mean {suggestion}?" in str(e.value)


def test_too_large_and_too_precise_are_named() -> None:
    with pytest.raises(AmountError, match=r"too large: at most 1,000,000,000$"):
        parse_amount("9" * 20, 9)  # was an OverflowError from SQLite
    with pytest.raises(AmountError, match="too large"):
        parse_amount("9" * 5000, 9)  # int() of 5,000 digits would itself fail
    with pytest.raises(AmountError, match="too large: at most 5"):
        parse_amount("6", 2, maximum=500)
    with pytest.raises(AmountError, match="at most 2 digits after the decimal point"):
        parse_amount("0.001", 2)
    with pytest.raises(AmountError, match="whole units only"):
        parse_amount("1.5", 0)
    assert parse_amount("1,000,000,000", 9) == MAX_AMOUNT


def test_spaces_group_only_where_the_locale_groups_with_spaces() -> None:
    assert parse_amount("1 234,5", 2, style=FRENCH) == 123_450
    assert parse_amount("1\u00a0234,5", 2, style=FRENCH) == 123_450
    with pytest.raises(AmountError):
        parse_amount("1 234.5", 2, style=US)
    with pytest.raises(AmountError):
        parse_amount("12 34,5", 2, style=FRENCH)


def test_indian_grouping() -> None:
    assert format_number(1_234_567_00, 2, style=INDIAN) == "12,34,567.00"
    assert parse_amount("12,34,567.5", 2, style=INDIAN) == 123_456_750
    assert parse_amount("1,234,567.5", 2, style=INDIAN) == 123_456_750  # western is clear too


@given(st.integers(min_value=0, max_value=MAX_AMOUNT), st.integers(0, 18), locales)
def test_round_trip(amount: int, scale: int, style: NumberStyle) -> None:
    text = format_number(amount, scale, style=style)
    assert parse_amount(text, scale, style=style) == amount
    ungrouped = text.replace(style.group, "") if style.group else text
    assert parse_amount(ungrouped, scale, style=style) == amount
    assert parse_amount(decimal_string(amount, scale), scale) == amount
    assert to_decimal(amount, scale) == Decimal(decimal_string(amount, scale))


@given(st.text(max_size=60), st.integers(0, 12), locales)
def test_any_text_is_an_amount_or_a_named_error(text: str, scale: int, style: NumberStyle) -> None:
    try:
        value = parse_amount(text, scale, style=style)
    except AmountError as e:
        if e.suggestion is not None:  # a suggestion is itself an amount in the user's locale
            parse_amount(e.suggestion, scale, style=style)
        return
    assert isinstance(value, int)
    assert 0 <= value <= MAX_AMOUNT


@given(st.integers(1, 999), st.integers(1, 2), locales)
def test_a_decimal_typed_in_the_other_convention_is_never_read_as_something_else(
    whole: int, frac_digits: int, style: NumberStyle
) -> None:
    """ "1,5" in en_US (or "1.5" in de_DE) is refused and the suggestion is the decimal meant."""
    frac = "5" * frac_digits
    other = "," if style.decimal == "." else "."
    with pytest.raises(AmountError) as e:
        parse_amount(f"{whole}{other}{frac}", 9, style=style)
    assert e.value.suggestion is not None
    assert parse_amount(e.value.suggestion, 9, style=style) == parse_amount(
        f"{whole}{style.decimal}{frac}", 9, style=style
    )


def test_rescale() -> None:
    assert rescale(5, 2, 9) == 5_000_000_000 // 100
    assert rescale(5_999_999, 9, 2) == 0
    assert rescale(123_456_789_000, 9, 2) == 12_345


def test_style_must_be_unambiguous() -> None:
    with pytest.raises(ValueError):
        NumberStyle(decimal=",", group=",")
