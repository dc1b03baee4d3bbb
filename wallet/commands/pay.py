"""``trickle pay RECEIVER --amount N --uplink URL``: send money over STREAM, report in JSON.

RECEIVER is a payment pointer (``$wallet.example/alice``), an SPSP URL, or ``-`` with
``--destination ADDR --shared-secret B64``. Prints progress on a terminal and one JSON object
at the end: amounts sent and delivered, packets, the exchange rate, the latest receipt.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import os
import time
from fractions import Fraction

from wallet.commands.common import (
    add_uplink_arguments,
    describe,
    emit,
    fail,
    open_from_args,
    progress,
)
from wallet.errors import WalletError
from wallet.net import spsp
from wallet.net.router import Router
from wallet.net.stream_client import connect
from wallet.stream import ConnectionConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("receiver", nargs="?", default="-", help="payment pointer or SPSP URL")
    parser.add_argument("--amount", type=int, required=True, help="in the uplink's units")
    parser.add_argument("--destination", help="the receiver's ILP address (instead of SPSP)")
    parser.add_argument("--shared-secret", help="base64 STREAM shared secret (with --destination)")
    parser.add_argument("--data", help="also send this text on the stream")
    parser.add_argument("--receipts", action="store_true", help="ask the SPSP server for receipts")
    parser.add_argument(
        "--min-rate", help="minimum exchange rate, destination units per source unit (e.g. 0.0008)"
    )
    parser.add_argument("--slippage", default="0.01", help="tolerated rate drop (default 0.01)")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds (default 120)")
    add_uplink_arguments(parser)


async def _credentials(args: argparse.Namespace) -> tuple[str, bytes, bytes | None]:
    if args.destination:
        try:
            secret = base64.b64decode(args.shared_secret or "", validate=True)
        except (binascii.Error, ValueError) as e:
            raise WalletError("--shared-secret must be base64") from e
        if len(secret) != 32:
            raise WalletError("--shared-secret must be 32 bytes of base64")
        return args.destination, secret, None
    if args.receiver in ("", "-"):
        raise WalletError("give a RECEIVER, or --destination and --shared-secret")
    receipt = spsp.ReceiptRequest(os.urandom(16), os.urandom(32)) if args.receipts else None
    answer = await spsp.query(args.receiver, receipt=receipt)
    return answer.destination_account, answer.shared_secret, receipt.secret if receipt else None


async def _pay(args: argparse.Namespace) -> dict[str, object]:
    destination, secret, receipt_secret = await _credentials(args)
    uplink, account = await open_from_args(args)
    started = time.monotonic()
    try:
        router = Router(uplink, own_address=account.client_address)
        config = ConnectionConfig(
            shared_secret=secret,
            asset_code=account.asset_code,
            asset_scale=account.asset_scale,
            source_account=account.client_address,
            destination_account=destination,
            slippage=Fraction(args.slippage),
            minimum_exchange_rate=Fraction(args.min_rate) if args.min_rate else None,
        )
        conn = await connect(uplink, config, router=router)
        stream = conn.create_stream()
        stream.on(
            "outgoing_money",
            lambda _: progress(
                f"sent {stream.total_sent:,} of {args.amount:,} {account.asset_code}"
            ),
        )
        if args.data:
            stream.send(args.data.encode())
        await stream.send_total(args.amount)
        conn.close()
        await asyncio.wait_for(conn.closed, 10)
        rate = conn.core.exchange_rate
        return {
            "event": "done",
            "destination": destination,
            "amountSent": str(conn.total_sent),
            "amountDelivered": str(conn.total_delivered),
            "sourceAsset": {"code": account.asset_code, "scale": account.asset_scale},
            "destinationAsset": {
                "code": conn.destination_asset_code,
                "scale": conn.destination_asset_scale,
            },
            "packets": conn.core.packets_fulfilled,
            "packetsRejected": conn.core.packets_rejected,
            "exchangeRate": None if rate is None else f"{float(rate):.12g}",
            "receipt": base64.b64encode(stream.receipt).decode() if stream.receipt else None,
            "receiptsRequested": receipt_secret is not None,
            "seconds": round(time.monotonic() - started, 3),
        }
    finally:
        await uplink.close()


def run(args: argparse.Namespace) -> int:
    if args.amount <= 0:
        return fail("--amount must be a positive integer")
    try:
        result = asyncio.run(asyncio.wait_for(_pay(args), args.timeout))
    except TimeoutError:
        return fail(f"the payment did not finish within {args.timeout:g} s")
    except (WalletError, ValueError, ZeroDivisionError) as e:
        return fail(describe(e))
    progress("")
    emit(result)
    return 0
