"""``trickle pay``'s pieces that need no network: arguments, outcomes, the path recorder."""

from __future__ import annotations

import argparse
import asyncio
import base64
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ui.cli import main
from wallet.amounts import AmountError
from wallet.commands import pay
from wallet.commands.path_watch import PathRecorder, RejectSeen, without_advice
from wallet.commands.pay_outcome import Asset, Exit, PayOutcome, close_code_name
from wallet.errors import WalletError
from wallet.ilp import Fulfill, Prepare, Reject
from wallet.ilp.oer import U64_MAX
from wallet.net.btp_uplink import BtpUplink
from wallet.net.errors import UplinkClosedError, UplinkUnreachableError
from wallet.net.memory_link import memory_link_pair
from wallet.secrets import Secret

SECRET = base64.b64encode(bytes(32)).decode()


@pytest.fixture(autouse=True)
def _token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRICKLE_UPLINK_TOKEN", "t")


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    pay.add_arguments(parser)
    return parser.parse_args([*argv, "--uplink", "btp+ws://127.0.0.1:1/"])


def test_help_lists_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["pay", "--help"])
    assert stop.value.code == 0
    text = " ".join(capsys.readouterr().out.split())
    for code in range(8):
        assert f"{code} " in text
    assert "exit codes: 0 paid in full; 1 internal error; 2 bad arguments" in text
    assert "7 --timeout passed; 130 interrupted" in text


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["$w.example/a", "--amount", str(U64_MAX + 1)], "--amount: too large: at most 18,446,"),
        (["$w.example/a", "--amount", "-3"], "--amount: an amount cannot be negative"),
        (["$w.example/a", "--amount", "1.5"], "--amount: whole units only"),
        (["$w.example/a", "--amount", "0"], "--amount: must be at least 1"),
        (["$w.example/a", "--amount", "5,00,000"], "--amount: '5,00,000' is not an amount"),
        (["$w.example/a", "--amount", "12abc"], "--amount: '12abc' is not an amount"),
        (["$w.example/a", "--amount", ""], "--amount: enter an amount"),
        (["$w.example/a", "--amount", "9", "--slippage", "1"], "--slippage must be at least 0"),
        (["$w.example/a", "--amount", "9", "--min-rate", "-1"], "--min-rate must not be negative"),
        (["$w.example/a", "--amount", "9", "--timeout", "0"], "--timeout must be a positive"),
        (["-", "--amount", "9"], "give a RECEIVER, or --destination and --shared-secret"),
        (["-", "--amount", "9", "--destination", "x y"], "--destination 'x y' is not an ILP"),
        (["-", "--amount", "9", "--destination", "g.a", "--shared-secret", "AA=="], "32 bytes"),
        (["$w.example/a", "--amount", "9", "--receipt-secret", SECRET], "go together"),
        (["not a pointer", "--amount", "9"], "is neither a payment pointer"),
        (
            ["-", "--amount", "9", "--destination", "g.a", "--shared-secret", SECRET, "--receipts"],
            "receipts are asked for over SPSP",
        ),
    ],
)
def test_bad_arguments_are_named(argv: list[str], words: str) -> None:
    with pytest.raises(WalletError) as error:
        pay.check_arguments(parse(*argv))
    assert words in str(error.value)


def test_good_arguments() -> None:
    plan = pay.check_arguments(parse("$w.example/a", "--amount", str(U64_MAX), "--receipts"))
    assert plan.amount == U64_MAX
    assert plan.receipt_nonce is not None and len(plan.receipt_nonce) == 16
    assert plan.receipt_secret is not None and len(plan.receipt_secret) == 32
    given = base64.b64encode(b"\x05" * 16).decode()
    plan = pay.check_arguments(
        parse("$w.example/a", "--amount", "7", "--receipt-nonce", given, "--receipt-secret", SECRET)
    )
    assert plan.receipt_nonce == b"\x05" * 16 and plan.receipt_secret == bytes(32)


@pytest.mark.parametrize(
    ("text", "units"), [("5000000", 5_000_000), ("5,000,000", 5_000_000), (" 42 ", 42)]
)
def test_amounts_go_through_the_wallets_parser(text: str, units: int) -> None:
    assert pay.check_arguments(parse("$w.example/a", "--amount", text)).amount == units
    assert pay.cli_amount(text) == units


def test_a_decimal_comma_amount_is_refused_with_its_reading() -> None:
    # In whole units "1,5" has no reading: it is neither 15 nor 1.5 (named, never guessed).
    with pytest.raises(AmountError) as error:
        pay.cli_amount("1,5")
    assert "'1,5' is not an amount" in str(error.value)
    assert "1 to 2^64-1" in str(error.value)


def test_usage_error_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["pay", "$w.example/a", "--amount", "0", "--uplink", "btp+ws://127.0.0.1:1/"])
    assert code == 2
    assert Exit.USAGE.value == 2
    assert capsys.readouterr().err.startswith("trickle: --amount: must be at least 1")


def test_close_code_names() -> None:
    assert close_code_name(1) == "NoError"
    assert close_code_name(9) == "ApplicationError"
    assert close_code_name(200) == "error code 200"


def test_outcome_words_and_json() -> None:
    outcome = PayOutcome(
        Exit.STOPPED_BY_RECEIVER,
        "the receiver closed the stream (ApplicationError: 'enough')",
        100,
        source_asset=Asset("USD", 9),
        destination_asset=Asset("EUR", 6),
        sent=40,
        delivered=30,
        unconfirmed=3,
        receipt_nonce=b"\x01" * 16,
        receipt_secret=b"\x02" * 32,
        data_sent=b"hi",
        data_received=b"hi back",
    )
    doc = outcome.doc()
    assert (doc["status"], doc["exitCode"], doc["amountUnconfirmed"]) == ("failed", 5, "3")
    assert doc["receiptSecret"] == base64.b64encode(b"\x02" * 32).decode()
    assert doc["dataReceived"] == "hi back"
    lines = outcome.lines()
    assert lines[0] == (
        "payment failed (exit code 5): the receiver closed the stream (ApplicationError: 'enough')"
    )
    assert "  sent                   40 of 100 USD (scale 9)" in lines
    unconfirmed = "3 EUR (scale 6) (the receiver reports more than Trickle saw fulfilled)"
    assert f"  delivered, unconfirmed {unconfirmed}" in lines
    assert "  data back              'hi back'" in lines


def _prepare(amount: int) -> Prepare:
    expires = datetime.now(UTC) + timedelta(seconds=30)
    return Prepare(amount, expires, bytes(32), "test.peer.receiver", b"")


def test_path_recorder_tells_who_answered() -> None:
    now = [0.0]

    async def main_() -> PathRecorder:
        ours, theirs = memory_link_pair()
        replies: Iterator[Fulfill | Reject] = iter(
            [
                Reject("F02", "test.peer", "no route found", b""),
                Reject("T01", "test.peer.me", "Cannot reach the connector", b""),
                Reject("T04", "test.peer", "", b""),
                Reject("F99", "test.peer.receiver", "", b"\x01"),
                Fulfill(bytes(32), b""),
            ]
        )

        async def answer(_: Prepare) -> Fulfill | Reject:
            return next(replies)

        theirs.set_incoming_handler(answer)
        recorder = PathRecorder(ours, "test.peer.me", lambda: now[0])
        assert isinstance(await recorder.send(_prepare(1)), Reject)
        assert recorder.final_reject == RejectSeen("F02", "test.peer", "no route found")
        assert recorder.is_upstream(recorder.final_reject)
        assert recorder.stream_answers == 0
        await recorder.send(_prepare(1))
        now[0] = 3.0
        await recorder.send(_prepare(1))
        assert recorder.failing_for() == 3.0
        assert recorder.retryable == RejectSeen("T04", "test.peer", "")
        assert not recorder.is_local(recorder.retryable)
        await recorder.send(_prepare(1))
        assert recorder.failing_for() == 0.0
        assert recorder.stream_answers == 1
        await recorder.send(_prepare(1))
        assert recorder.stream_answers == 2
        return recorder

    recorder = asyncio.run(main_())
    assert recorder.is_local(RejectSeen("T01", "test.peer.me", ""))
    assert recorder.final_reject is not None
    assert recorder.final_reject.describe() == "F02 Unreachable from test.peer: no route found"


def test_uplink_advice_is_left_out() -> None:
    error = UplinkUnreachableError("ws://127.0.0.1:9/", "ConnectionRefusedError")
    assert str(error).endswith("Trickle keeps trying.")
    assert without_advice(str(error)) == (
        "Cannot reach the connector at ws://127.0.0.1:9/ (ConnectionRefusedError)"
    )
    assert without_advice("no route found") == "no route found"


def test_path_recorder_keeps_what_the_uplink_raised() -> None:
    async def main_() -> PathRecorder:
        uplink = BtpUplink("btp+ws://127.0.0.1:1/", Secret("t"))
        await uplink.close()
        recorder = PathRecorder(uplink, "test.peer.me", lambda: 0.0)
        with pytest.raises(UplinkClosedError):
            await recorder.send(_prepare(1))
        return recorder

    recorder = asyncio.run(main_())
    assert isinstance(recorder.link_error, UplinkClosedError)
