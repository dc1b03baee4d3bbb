"""``trickle pay https://…/bob --amount N``: a wallet address is paid through an Open Payments
incoming payment, then STREAM, and the incoming payment's ``receivedAmount`` is printed.

Against the sandbox's Open Payments server behind a TLS front with its own CA (trusted through
``$TRICKLE_EXTRA_CA_FILE``, as the product is told to; no ``http:`` special case), every
exchange checked against the official OpenAPI files; the command's uplink is ILP-over-HTTP into
a sandbox account. The command runs as its own process (``python -m ui.cli pay ...``).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.op_support import op_sandbox
from wallet.net.http_server import IlpHttpServer
from wallet.secrets import Secret

AMOUNT = 5_000_000
REPO = Path(__file__).resolve().parents[3]


async def _pay(tmp: Path, *extra: str, wallet: str = "bob") -> tuple[int, str, int, str]:
    # (/nobody is no Open Payments endpoint the OpenAPI check could look up)
    async with op_sandbox(tmp, check_openapi=wallet != "nobody") as sandbox:
        link = sandbox.network.account("cli")
        server = IlpHttpServer(Secret("cli-token"), link.send)
        await server.start()
        env = {
            **os.environ,
            "TRICKLE_EXTRA_CA_FILE": str(sandbox.ca_file),
            "TRICKLE_UPLINK_TOKEN": "cli-token",
        }
        argv = ["pay", sandbox.wallet(wallet), "--amount", str(AMOUNT), "--uplink", server.url]
        try:
            proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "ui.cli",
                *argv,
                *extra,
                env=env,
                cwd=REPO,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            out, err = await asyncio.wait_for(proc.communicate(), 60)
        finally:
            await server.close()
        assert b"Traceback" not in err, err.decode()
        payments = list(sandbox.server.ledger.payments.values())
        received = sum(p.received for p in payments)
        return proc.returncode or 0, out.decode(), received, payments[0].id if payments else ""


def test_trickle_pay_pays_a_wallet_address_and_prints_received_amount(tmp_path: Path) -> None:
    code, out, received, incoming = asyncio.run(_pay(tmp_path, "--json"))
    assert code == 0
    doc = json.loads(out)
    assert doc["status"] == "paid"
    assert doc["amountSent"] == doc["amountDelivered"] == str(AMOUNT)
    assert doc["incomingPayment"] == incoming
    assert doc["receivedAmount"] == {"value": str(AMOUNT), "assetCode": "USD", "assetScale": 9}
    assert received == AMOUNT  # the sandbox's own count agrees


def test_trickle_pay_prints_the_incoming_payment_for_people(tmp_path: Path) -> None:
    code, out, _, incoming = asyncio.run(_pay(tmp_path))
    assert code == 0
    assert f"  incoming payment       {incoming}\n" in out
    assert f"  received (its receivedAmount) {AMOUNT} USD (scale 9)\n" in out


def test_a_wallet_address_that_does_not_exist_is_named_and_nothing_is_sent(
    tmp_path: Path,
) -> None:
    code, out, received, incoming = asyncio.run(_pay(tmp_path, "--json", wallet="nobody"))
    assert code == 4  # the receiver could not be found
    doc = json.loads(out)
    assert doc["status"] == "failed" and doc["amountSent"] == "0"
    assert doc["cause"].startswith("the wallet address cannot be paid: ")
    assert "404" in doc["cause"]
    assert received == 0 and incoming == ""
