"""``trickle pay RECEIVER --amount N --uplink URL``: send money over STREAM and say what happened.

RECEIVER is a payment pointer (``$wallet.example/alice``), an Open Payments wallet address
(``https://wallet.example/bob``: an incoming payment, then STREAM; its ``receivedAmount`` is
printed afterwards — :mod:`wallet.commands.pay_target`), an SPSP URL, or ``-`` with
``--destination ADDR --shared-secret B64``. Every argument is checked before anything connects.
Whatever the ending, the outcome (:mod:`wallet.commands.pay_outcome`) shows what was sent and
delivered and the cause in words, on stdout — or as one JSON object with ``--json`` — and the
exit code says which kind of ending it was. Progress goes to stderr on a terminal.

How each ending is recognised (:func:`_classify`): the receiver's close code and reason (it
closed the stream or connection), its ``receiveMax`` reached (seen at once: the stream cannot
move and nothing is in flight), the connector gone (the uplink's own Rejects for
``--give-up-after`` seconds), the receiver not accepting the packets (the real Reject code
and who sent it, kept by :class:`~wallet.commands.path_watch.PathRecorder`), the exchange rate,
the timeout.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import contextlib
import logging
import os
import signal
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction

from wallet.commands.common import (
    add_output_arguments,
    add_uplink_arguments,
    describe,
    emit,
    fail,
    open_from_args,
    progress,
    setup_logging,
    uplink_settings,
)
from wallet.commands.path_watch import PathRecorder, RejectSeen, without_advice
from wallet.commands.pay_outcome import (
    EXIT_CODES_HELP,
    Asset,
    Exit,
    PayOutcome,
    close_code_name,
)
from wallet.commands.pay_target import WalletAddressPayment, is_wallet_address_candidate
from wallet.errors import WalletError
from wallet.ilp import is_valid_address
from wallet.ilp.oer import U64_MAX
from wallet.net import spsp
from wallet.net.config import Uplink, split_credentials
from wallet.net.errors import UplinkDisconnectedError, UplinkError, UplinkUnreachableError
from wallet.net.router import Router
from wallet.net.stream_api import (
    ConnectionClosedError,
    IlpConnection,
    IlpStream,
    StreamClosedError,
)
from wallet.net.stream_client import open_connection
from wallet.stream import ConnectionConfig, ExchangeRateError, StreamError
from wallet.stream.frames import ErrorCode

log = logging.getLogger(__name__)

# After our money and data are through, wait this long for the receiver's data to go quiet.
DEFAULT_DATA_WAIT = 2.0
# How long a path that fails every packet (T/R rejects) is retried before giving up.
DEFAULT_GIVE_UP = 5.0
# A graceful close (ours, then the receiver's answer) gets at most this long.
CLOSE_WAIT = 10.0
# After the receiver closed our stream, how long to wait for it to close the connection too.
PEER_CLOSE_GRACE = 1.0
_TICK = 0.05


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EXIT_CODES_HELP
    parser.add_argument(
        "receiver",
        nargs="?",
        default="-",
        help="payment pointer, Open Payments wallet address URL, or SPSP URL",
    )
    parser.add_argument(
        "--amount", required=True, help="in the uplink's units (an integer, 1 to 2^64-1)"
    )
    parser.add_argument("--destination", help="the receiver's ILP address (instead of SPSP)")
    parser.add_argument("--shared-secret", help="base64 STREAM shared secret (with --destination)")
    parser.add_argument("--data", help="also send this text on the stream; prints what comes back")
    parser.add_argument(
        "--data-wait",
        type=float,
        default=DEFAULT_DATA_WAIT,
        metavar="S",
        help="with --data: after sending, wait until the receiver's data is quiet this long "
        f"(default {DEFAULT_DATA_WAIT:g})",
    )
    parser.add_argument(
        "--receipts",
        action="store_true",
        help="ask the SPSP server for RFC 39 receipts; prints the nonce and secret used",
    )
    parser.add_argument("--receipt-nonce", metavar="B64", help="16 bytes (implies --receipts)")
    parser.add_argument("--receipt-secret", metavar="B64", help="32 bytes (implies --receipts)")
    parser.add_argument(
        "--min-rate", help="minimum exchange rate, destination units per source unit (e.g. 0.0008)"
    )
    parser.add_argument("--slippage", default="0.01", help="tolerated rate drop (default 0.01)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds (default 120)")
    parser.add_argument(
        "--give-up-after",
        type=float,
        default=DEFAULT_GIVE_UP,
        metavar="S",
        help="give up when the connector or the receiver has not answered (every packet failed "
        f"with a T or R error) for S seconds (default {DEFAULT_GIVE_UP:g})",
    )
    parser.add_argument("--json", action="store_true", help="print the outcome as one JSON object")
    add_uplink_arguments(parser)
    add_output_arguments(parser)


# ---------------------------------------------------------------------------- arguments


@dataclass(frozen=True, slots=True)
class Plan:
    """The checked arguments: nothing here needs the network."""

    amount: int
    receiver: str | None  # payment pointer or SPSP URL
    destination: str | None
    shared_secret: bytes | None
    receipt_nonce: bytes | None
    receipt_secret: bytes | None
    data: bytes | None
    min_rate: Fraction | None
    slippage: Fraction


def _b64(text: str, name: str, size: int) -> bytes:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as e:
        raise WalletError(f"{name} must be base64") from e
    if len(raw) != size:
        raise WalletError(f"{name} must be {size} bytes of base64")
    return raw


def _fraction(text: str, name: str) -> Fraction:
    try:
        value = Fraction(text)
    except (ValueError, ZeroDivisionError) as e:
        raise WalletError(f"{name} must be a number, e.g. 0.01") from e
    return value


def check_arguments(args: argparse.Namespace) -> Plan:
    """Every argument checked, before anything connects.

    Raises:
        WalletError: the first bad argument, in words.
    """
    text = str(args.amount).strip()
    if not text.isdigit() or not 0 < int(text) <= U64_MAX:
        raise WalletError(f"--amount must be an integer from 1 to {U64_MAX} (2^64-1), not {text!r}")
    slippage = _fraction(args.slippage, "--slippage")
    if not 0 <= slippage < 1:
        raise WalletError("--slippage must be at least 0 and below 1")
    min_rate = _fraction(args.min_rate, "--min-rate") if args.min_rate else None
    if min_rate is not None and min_rate < 0:
        raise WalletError("--min-rate must not be negative")
    for name in ("timeout", "data_wait", "give_up_after"):
        if not getattr(args, name) > 0:
            raise WalletError(f"--{name.replace('_', '-')} must be a positive number of seconds")
    receiver = destination = secret = None
    if args.destination:
        if not is_valid_address(args.destination):
            raise WalletError(f"--destination {args.destination!r} is not an ILP address")
        destination = args.destination
        secret = _b64(args.shared_secret or "", "--shared-secret", 32)
    elif args.receiver in ("", "-"):
        raise WalletError("give a RECEIVER, or --destination and --shared-secret")
    else:
        spsp.resolve_receiver(args.receiver)  # raises InvalidPaymentPointerError
        receiver = args.receiver
    nonce = _b64(args.receipt_nonce, "--receipt-nonce", 16) if args.receipt_nonce else None
    rsecret = _b64(args.receipt_secret, "--receipt-secret", 32) if args.receipt_secret else None
    if (nonce is None) != (rsecret is None):
        raise WalletError("--receipt-nonce and --receipt-secret go together")
    if args.receipts and nonce is None:
        nonce, rsecret = os.urandom(16), os.urandom(32)
    if nonce is not None and destination is not None:
        raise WalletError("receipts are asked for over SPSP: give a RECEIVER, not --destination")
    uplink_settings(args)  # a bad --uplink URL fails here, not after connecting
    return Plan(
        amount=int(text),
        receiver=receiver,
        destination=destination,
        shared_secret=secret,
        receipt_nonce=nonce,
        receipt_secret=rsecret,
        data=args.data.encode() if args.data is not None else None,
        min_rate=min_rate,
        slippage=slippage,
    )


# ---------------------------------------------------------------------------- paying


class _Stop(Exception):
    """The watcher ended the payment: ``exit`` and the words say why."""

    def __init__(self, exit_: Exit, cause: str) -> None:
        super().__init__(cause)
        self.exit = exit_
        self.cause = cause


@dataclass
class _Session:
    plan: Plan
    uplink_url: str
    recorder: PathRecorder
    conn: IlpConnection
    stream: IlpStream | None = None
    received: bytearray | None = None
    last_data_at: float = 0.0


def _blocked_by_receive_max(session: _Session) -> str | None:
    """Words when the receiver's receiveMax stops the stream: it cannot move and nothing is in
    flight, while money is still to send."""
    stream = session.stream
    conn = session.conn
    limit = stream.remote_receive_max if stream is not None else None
    if stream is None or limit is None or stream.in_flight or stream.total_sent >= stream.send_max:
        return None
    rate = conn.core.exchange_rate
    room = max(0, limit - stream.remote_total_received)
    if room and rate is not None and rate > 0 and room * rate.denominator >= rate.numerator:
        return None  # at least one source unit still fits
    code = conn.destination_asset_code or "its units"
    return (
        f"the receiver's receiveMax for stream {stream.id} is reached: it accepts at most "
        f"{limit} {code} and has received {stream.remote_total_received}"
    )


async def _watch(session: _Session, retry: float) -> None:
    """Raise :class:`_Stop` when waiting longer cannot help."""
    while True:
        await asyncio.sleep(_TICK)
        recorder = session.recorder
        if recorder.link_error is not None:
            error = without_advice(describe(recorder.link_error))
            raise _Stop(Exit.CONNECTOR, f"the uplink failed: {error}")
        failing = recorder.failing_for()
        seen = recorder.retryable
        if failing >= retry and seen is not None:
            for_how_long = f"every packet failed for {failing:.1f} s: {seen.describe()}"
            if recorder.is_local(seen):
                raise _Stop(
                    Exit.CONNECTOR,
                    f"the connector at {session.uplink_url} stopped answering ({for_how_long})",
                )
            raise _Stop(Exit.RECEIVER, f"the receiver stopped answering ({for_how_long})")
        blocked = _blocked_by_receive_max(session)
        if blocked is not None:
            raise _Stop(Exit.STOPPED_BY_RECEIVER, blocked)


async def _data_settled(session: _Session, quiet: float) -> None:
    """With ``--data``: until our data is through and the receiver's has been quiet for
    ``quiet`` seconds (or the receiver closed the stream)."""
    stream = session.stream
    assert stream is not None
    loop = asyncio.get_running_loop()
    while stream.sending_data and stream.is_open():
        await asyncio.sleep(_TICK)
    session.last_data_at = max(session.last_data_at, loop.time())
    while stream.close_cause is None and loop.time() - session.last_data_at < quiet:
        await asyncio.sleep(_TICK)


async def _pay_stream(session: _Session, data_wait: float) -> None:
    conn = session.conn
    await conn.connected
    stream = session.stream = conn.create_stream()
    plan = session.plan
    code = conn.source_asset_code
    stream.on(
        "outgoing_money",
        lambda _: progress(f"sent {stream.total_sent:,} of {plan.amount:,} {code}"),
    )
    if plan.data is not None:
        received = session.received = bytearray()
        loop = asyncio.get_running_loop()

        def on_data(chunk: bytes) -> None:
            received.extend(chunk)
            session.last_data_at = loop.time()

        stream.on("data", on_data)
        stream.send(plan.data)
    await stream.send_total(plan.amount)
    if plan.data is not None:
        await _data_settled(session, data_wait)


async def _close(session: _Session) -> None:
    """A graceful close, bounded; then the connection is destroyed if still open."""
    conn = session.conn
    cause = session.stream.close_cause if session.stream is not None else None
    if conn.is_open and cause is not None and cause.remote:
        # The receiver closed our stream. ilp-protocol-stream's end() and destroy() close the
        # streams before the connection: give it a moment to close the connection as well, so
        # the cause reported is what the receiver did, not our own close.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(conn.closed), PEER_CLOSE_GRACE)
    stream = session.stream
    if stream is not None and stream.is_open():
        # Stopped early (interrupted, timed out, ...): a graceful close finishes sending what
        # the stream still wants, so first want no more than what already left.
        stream.set_send_max(stream.total_sent + stream.in_flight)
    if conn.is_open:
        conn.close()
    try:
        await asyncio.wait_for(asyncio.shield(conn.closed), CLOSE_WAIT)
    except TimeoutError:
        conn.destroy()


async def _pay(args: argparse.Namespace, plan: Plan, deadline: float) -> PayOutcome:
    """The payment, ended by itself, by ``--timeout`` or by SIGINT/SIGTERM: in every case the
    connection is closed as gracefully as it can be and the outcome filled in."""
    started = time.monotonic()
    outcome = PayOutcome(Exit.INTERNAL, "", plan.amount)
    outcome.receipt_nonce, outcome.receipt_secret = plan.receipt_nonce, plan.receipt_secret
    outcome.data_sent = plan.data
    loop = asyncio.get_running_loop()
    work = asyncio.ensure_future(_pay_within(args, plan, outcome))
    interrupted: list[str] = []

    def interrupt(name: str) -> None:
        if not interrupted:
            interrupted.append(name)
            work.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, interrupt, sig.name)
    try:
        async with asyncio.timeout_at(loop.time() + max(0.0, deadline - time.monotonic())):
            await work
    except TimeoutError:
        outcome.exit = Exit.TIMEOUT
        outcome.cause = f"the payment did not finish within {args.timeout:g} s"
    except asyncio.CancelledError:
        if not interrupted:
            raise
        outcome.exit = Exit.INTERRUPTED
        outcome.cause = f"interrupted ({interrupted[0]}) before the whole amount was sent"
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(sig)
    outcome.seconds = time.monotonic() - started
    return outcome


async def _credentials(
    plan: Plan, outcome: PayOutcome, wallet: WalletAddressPayment | None
) -> tuple[str, bytes] | None:
    if plan.destination is not None:
        assert plan.shared_secret is not None
        return plan.destination, plan.shared_secret
    if wallet is not None:
        try:
            creds = await wallet.credentials()
        except WalletError as e:
            outcome.exit, outcome.cause = Exit.RECEIVER, f"the wallet address cannot be paid: {e}"
            return None
        outcome.incoming_payment = wallet.incoming_payment
        return creds
    assert plan.receiver is not None
    receipt = (
        spsp.ReceiptRequest(plan.receipt_nonce, plan.receipt_secret)
        if plan.receipt_nonce is not None and plan.receipt_secret is not None
        else None
    )
    try:
        answer = await spsp.query(plan.receiver, receipt=receipt)
    except WalletError as e:
        outcome.exit, outcome.cause = Exit.RECEIVER, f"the receiver's SPSP query failed: {e}"
        return None
    return answer.destination_account, answer.shared_secret


async def _pay_within(args: argparse.Namespace, plan: Plan, outcome: PayOutcome) -> None:
    # An https RECEIVER is asked for wallet JSON first (receipts are SPSP's: then SPSP only).
    wallet = (
        WalletAddressPayment.for_url(plan.receiver)
        if plan.receiver is not None
        and plan.receipt_nonce is None
        and is_wallet_address_candidate(plan.receiver)
        else None
    )
    try:
        await _pay_to(args, plan, outcome, wallet)
        if wallet is not None and outcome.incoming_payment is not None:
            received, error = await wallet.received()
            if received is not None:
                outcome.received_amount = received.value
                outcome.received_asset = Asset(received.asset_code, received.asset_scale)
            outcome.received_error = error
    finally:
        if wallet is not None:
            await wallet.close()


async def _pay_to(
    args: argparse.Namespace, plan: Plan, outcome: PayOutcome, wallet: WalletAddressPayment | None
) -> None:
    creds = await _credentials(plan, outcome, wallet)
    if creds is None:
        return
    outcome.destination, secret = creds
    try:
        uplink, account = await open_from_args(args, retry_for=args.give_up_after)
    except UplinkError as e:
        outcome.exit = Exit.CONNECTOR
        outcome.cause = without_advice(str(e))
        if isinstance(e, UplinkUnreachableError | UplinkDisconnectedError):
            outcome.cause += f"; gave up after {args.give_up_after:g} s"
        return
    outcome.source_asset = Asset(account.asset_code, account.asset_scale)
    try:
        await _run_connection(
            args, plan, outcome, uplink=uplink, own_address=account.client_address, secret=secret
        )
    finally:
        await uplink.close()


async def _run_connection(
    args: argparse.Namespace,
    plan: Plan,
    outcome: PayOutcome,
    *,
    uplink: Uplink,
    own_address: str,
    secret: bytes,
) -> None:
    loop = asyncio.get_running_loop()
    recorder = PathRecorder(uplink, own_address, loop.time)
    assert outcome.source_asset is not None and outcome.destination is not None
    config = ConnectionConfig(
        shared_secret=secret,
        asset_code=outcome.source_asset.code,
        asset_scale=outcome.source_asset.scale,
        source_account=own_address,
        destination_account=outcome.destination,
        slippage=plan.slippage,
        minimum_exchange_rate=plan.min_rate,
    )
    conn, driver = open_connection(recorder, config, router=Router(uplink, own_address=own_address))
    session = _Session(plan, split_credentials(args.uplink)[0], recorder, conn)
    paying = asyncio.ensure_future(_pay_stream(session, args.data_wait))
    watching = asyncio.ensure_future(_watch(session, args.give_up_after))
    error: BaseException | None = None
    try:
        await asyncio.wait({paying, watching}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        watching.cancel()
        if not paying.done():
            paying.cancel()
        for task in (paying, watching):
            try:
                await task
            except asyncio.CancelledError:
                pass
            except Exception as e:  # every ending is reported, bugs included
                if not isinstance(e, WalletError | _Stop):
                    log.exception("trickle pay failed")
                error = error or e
        try:
            if isinstance(error, _Stop) and error.exit is Exit.CONNECTOR:
                conn.destroy()
            else:
                await _close(session)
        finally:
            _fill(outcome, session)
            outcome.exit, outcome.cause = _classify(session, error)
            if not driver.done.done():
                conn.destroy()


def _fill(outcome: PayOutcome, session: _Session) -> None:
    conn = session.conn
    outcome.sent = conn.total_sent
    outcome.delivered = conn.total_delivered
    if conn.destination_asset_code is not None and conn.destination_asset_scale is not None:
        outcome.destination_asset = Asset(conn.destination_asset_code, conn.destination_asset_scale)
    outcome.packets = conn.core.packets_fulfilled
    outcome.packets_rejected = conn.core.packets_rejected
    rate = conn.core.exchange_rate
    outcome.exchange_rate = None if rate is None else f"{float(rate):.12g}"
    stream = session.stream
    if stream is not None:
        outcome.receipt = stream.receipt
        # RFC 29 §5.3.4 StreamMaxMoney carries the receiver's "Total amount, denominated in
        # the units of the endpoint sending this frame, that the endpoint has received thus
        # far": beyond what we saw fulfilled, it arrived without our knowing (a lost Fulfill).
        outcome.unconfirmed = max(0, stream.remote_total_received - conn.total_delivered)
    if session.received is not None:
        outcome.data_received = bytes(session.received)
    recorder = session.recorder
    for key, seen in (
        ("lastFinalReject", recorder.final_reject),
        ("lastRetryableReject", recorder.retryable),
    ):
        if seen is not None:
            outcome.details[key] = seen.describe()


def _classify(session: _Session, error: BaseException | None) -> tuple[Exit, str]:
    conn = session.conn
    stream = session.stream
    plan = session.plan
    if isinstance(error, StreamClosedError | ConnectionClosedError) and conn.error is not None:
        error = conn.error  # what failed the connection, not "stream 1 closed"
    if isinstance(error, _Stop):
        return error.exit, error.cause
    if error is None and stream is not None and stream.total_sent >= plan.amount:
        return Exit.PAID, f"sent {stream.total_sent} of {plan.amount}"
    closed_by_peer = _closed_by_receiver(conn, stream)
    if closed_by_peer is not None:
        return Exit.STOPPED_BY_RECEIVER, closed_by_peer
    seen = session.recorder.final_reject
    if seen is not None and (
        session.recorder.stream_answers == 0 or isinstance(error, StreamError)
    ):
        # The probe (or a packet) met a final Reject that is not the receiver's STREAM answer:
        # that, not "no packets meeting the minimum exchange precision", is what happened.
        return Exit.RECEIVER, _not_accepted(seen, session.recorder)
    if isinstance(error, ExchangeRateError):
        return Exit.EXCHANGE_RATE, str(error)
    if error is not None:
        return Exit.INTERNAL, describe(error)
    return Exit.INTERNAL, "the payment stopped before the whole amount was sent"


def _not_accepted(reject: RejectSeen, recorder: PathRecorder) -> str:
    if recorder.is_upstream(reject):
        return f"the connector did not forward the packets: {reject.describe()}"
    hint = {
        "F02": " (the receiver did not issue this address, or the shared secret is wrong)",
        "F06": " (the receiver cannot decrypt the packets: is the shared secret right?)",
    }.get(reject.code, "")
    return f"the receiver did not accept the packets: {reject.describe()}{hint}"


def _closed_by_receiver(conn: IlpConnection, stream: IlpStream | None) -> str | None:
    stream_cause = None if stream is None else stream.close_cause
    for what, cause in (("connection", conn.close_cause), ("stream", stream_cause)):
        if cause is None or not cause.remote:
            continue
        reason = f": {cause.message!r}" if cause.message else ""
        how = "ended" if cause.code == ErrorCode.NO_ERROR else "closed"
        return f"the receiver {how} the {what} ({close_code_name(cause.code)}{reason})"
    return None


# ---------------------------------------------------------------------------- entry point


def _print(outcome: PayOutcome, as_json: bool, out: Callable[[str], None]) -> None:
    if as_json:
        emit(outcome.doc())
    else:
        for line in outcome.lines():
            out(line)


def run(args: argparse.Namespace) -> int:
    setup_logging(args)
    try:
        plan = check_arguments(args)
    except WalletError as e:
        return fail(describe(e), Exit.USAGE)
    deadline = time.monotonic() + args.timeout
    try:
        outcome = asyncio.run(_pay(args, plan, deadline))
    except KeyboardInterrupt:  # before the handlers were in place
        return fail("interrupted", Exit.INTERRUPTED)
    progress("")
    _print(outcome, args.json, print)
    sys.stdout.flush()
    if not outcome.paid:
        print(f"trickle: {outcome.cause}", file=sys.stderr)
    return int(outcome.exit)
