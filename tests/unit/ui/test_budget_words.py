"""The grant's budget in words, as a person reads money: cents, the user's locale, and what is
left rounded down (never more than there is)."""

from __future__ import annotations

import datetime as dt

import pytest

from ui.wallet.funding import budget_words
from wallet.amounts import NumberStyle
from wallet.budgets import Asset
from wallet.funding import FundingSource, FundingStatus, GrantBudget

USD9 = Asset("USD", 9)
GERMAN = NumberStyle(decimal=",", group=".")


def _status(left: int, limit: int = 5 * 10**9) -> FundingStatus:
    budget = GrantBudget(
        limit=limit,
        left=left,
        asset=USD9,
        period_end=dt.datetime(2027, 1, 6, tzinfo=dt.UTC),
        wallet_spent=None,
        trickle_spent=limit - left,
    )
    return FundingStatus(FundingSource.OPEN_PAYMENTS, None, budget, None, False, None)


@pytest.mark.parametrize(
    ("left", "style", "shown"),
    [
        (4_999_993_577, NumberStyle(), "4.99 USD of 5.00 USD left"),  # not "5.00": rounded down
        (4_999_993_577, GERMAN, "4,99 USD of 5,00 USD left"),
        (5 * 10**9, NumberStyle(), "5.00 USD of 5.00 USD left"),
        (1_234_567_890_123, NumberStyle(), "1,234.56 USD of 5.00 USD left"),
        (4, NumberStyle(), "0.000000004 USD of 5.00 USD left"),  # under a cent: as it is
        (0, NumberStyle(), "0.00 USD of 5.00 USD left"),
    ],
)
def test_amounts_read_as_money(left: int, style: NumberStyle, shown: str) -> None:
    words = budget_words(_status(left), style)
    assert words.startswith(shown + " of your wallet's budget for Trickle"), words
    assert "renews on 06 January 2027" in words
