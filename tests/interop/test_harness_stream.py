"""The STREAM harness scripts work through the connector (what STREAM interop tests build on):
an ilp-protocol-stream sender pays an ilp-protocol-stream receiver, USD/9 -> EUR/6."""

from __future__ import annotations

import base64

import pytest

from tests.interop.harness import FX_PROFILE_RATES, Connector, free_port, node_script

pytestmark = pytest.mark.interop


def test_js_sender_pays_js_receiver_cross_currency() -> None:
    receiver_port = free_port()
    config = {
        "address": "test.harness",
        "rates": FX_PROFILE_RATES,
        "accounts": {
            "sender": {"transport": "btp", "token": "s", "maxPacketAmount": 10_000_000},
            "receiver": {
                "transport": "http",
                "token": "r",
                "assetCode": "EUR",
                "assetScale": 6,
                "outgoingUrl": f"http://127.0.0.1:{receiver_port}/",
            },
        },
    }
    with Connector.start(config) as connector:
        receiver_args = ["--uplink", connector.url("receiver"), "--token", "r"]
        receiver_args += ["--incoming-port", str(receiver_port), "--echo", "--receipts", "--quiet"]
        with node_script("stream_receiver.js", *receiver_args) as receiver:
            creds = receiver.ready
            assert (creds["assetCode"], creds["assetScale"]) == ("EUR", 6)
            assert creds["destinationAccount"].startswith("test.harness.receiver.")
            sender_args = [
                "--uplink",
                f"btp+ws://:s@127.0.0.1:{connector.account('sender')['port']}",
            ]
            sender_args += ["--destination", creds["destinationAccount"]]
            sender_args += ["--shared-secret", creds["sharedSecret"], "--amount", "1000000000"]
            sender_args += ["--data", "hello", "--expect-data", "5"]
            with node_script("stream_sender.js", *sender_args, ready="connected") as sender:
                assert sender.ready["destinationAssetCode"] == "EUR"
                echoed = sender.wait_for("data")
                done = sender.wait_for("done")
            assert base64.b64decode(echoed["data"]) == b"hello"
            assert done["totalSent"] == "1000000000"
            assert done["totalDelivered"] == "792000"
            assert done["receipt"]
            receiver.command("totals")
            totals = receiver.wait_for("totals")
            assert totals["total"] == "792000"
