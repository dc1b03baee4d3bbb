"""The minimum-send learner and the back-off table, alone (no network, an injected clock)."""

from __future__ import annotations

from wallet.payments.backoff import LONGEST_WAIT, MAX_ATTEMPTS, Backoffs, in_words, unreachable
from wallet.payments.errors import (
    GrantDeniedError,
    ReceiverUnreachableError,
    WalletTimeoutError,
    WalletUnreachableError,
)
from wallet.payments.minimums import (
    MAX_DUST_RAISES,
    Minimums,
    MinimumSend,
)


def test_the_minimum_starts_at_one_unit_and_is_never_guessed() -> None:
    learnt = MinimumSend()
    assert learnt.minimum == 1
    assert learnt.packet(7) == 7


def test_dust_raises_the_minimum_and_packets_are_whole_multiples_of_it() -> None:
    learnt = MinimumSend()
    learnt.fulfilled(1, delivered=0)  # Rafiki held the one unit back (rafiki#3480)
    assert learnt.minimum == 2
    assert [learnt.packet(a) for a in (1, 2, 3, 5, 8)] == [0, 2, 2, 4, 8]
    learnt.fulfilled(2, delivered=1)
    assert learnt.known_good == 2
    learnt.fulfilled(1, delivered=0)  # an old packet in flight: nothing new learnt
    assert learnt.minimum == 2


def test_a_receiver_that_never_says_what_arrived_is_not_learnt_from_forever() -> None:
    learnt = MinimumSend()
    for _ in range(MAX_DUST_RAISES):
        learnt.fulfilled(learnt.minimum, delivered=0)
    assert learnt.minimum == 2**MAX_DUST_RAISES
    learnt.fulfilled(learnt.minimum, delivered=0)  # still nothing: it does not say
    assert learnt.minimum == 1
    learnt.fulfilled(1, delivered=0)
    assert learnt.minimum == 1  # and 0 teaches nothing more


def test_two_rejects_in_a_row_mean_too_small_but_a_fulfil_between_resets() -> None:
    learnt = MinimumSend()
    learnt.rejected(3)
    assert learnt.minimum == 1
    learnt.fulfilled(10, delivered=9)
    learnt.rejected(3)
    assert learnt.minimum == 1
    learnt.rejected(3)
    assert learnt.minimum == 6
    learnt.rejected(6)
    learnt.rejected(6)
    assert learnt.minimum == 10  # never above the smallest amount that delivered


def test_a_quotes_min_send_amount_is_taken_as_is() -> None:
    learnt = MinimumSend()
    learnt.fulfilled(3, delivered=3)
    learnt.quoted(5)
    assert learnt.minimum == 5 and learnt.known_good is None
    learnt.quoted(2)  # never lowered by a quote
    assert learnt.minimum == 5


def test_minimums_are_kept_per_receiver_and_bounded() -> None:
    table = Minimums(capacity=2)
    table.of("a").fulfilled(1, delivered=0)
    assert table.of("a").minimum == 2
    assert table.of("b").minimum == 1
    table.of("c")
    table.of("d")
    assert table.of("a").minimum == 1  # forgotten, least recently used


def test_backoff_doubles_is_bounded_and_gives_up_in_words() -> None:
    now = [1000.0]
    backoffs = Backoffs(lambda: now[0])
    href = "https://wallet.example/alice"
    waits = []
    while (wait := backoffs.failed(href)) is not None:
        waits.append(wait)
        assert backoffs.wait_left(href) == wait
    assert waits == [30.0, 60.0, 120.0, 240.0, 480.0]
    assert len(waits) == MAX_ATTEMPTS - 1 and backoffs.given_up(href)
    assert backoffs.wait_left(href) == LONGEST_WAIT
    assert backoffs.words(href, None) == (
        "The wallet at wallet.example/alice cannot be reached; Trickle stopped trying after "
        "6 attempts (reload the page to try again later)."
    )
    backoffs.succeeded(href, "Alice's blog")
    assert backoffs.wait_left(href) == 0.0 and not backoffs.given_up(href)
    assert backoffs.words(href, 120.0) == (
        "Alice's blog's wallet (wallet.example/alice) cannot be reached; trying again in 2 minutes."
    )


def test_durations_in_words() -> None:
    assert [in_words(s) for s in (0.2, 1, 30, 60, 90, 3600, 7200)] == [
        "1 second",
        "1 second",
        "30 seconds",
        "1 minute",
        "2 minutes",
        "1 hour",
        "2 hours",
    ]


def test_only_unreachable_receivers_are_retried() -> None:
    assert unreachable(WalletUnreachableError("x"))
    assert unreachable(WalletTimeoutError("x"))
    assert unreachable(ReceiverUnreachableError("x"))
    assert not unreachable(GrantDeniedError("x"))
