"""Open Payments set-up time: from a wallet address URL to STREAM credentials, on loopback.

    .venv/bin/python benchmarks/op_target_bench.py [--runs 20]

Trickle: ``open_payment_target`` against the sandbox's Open Payments server over TLS — GET the
wallet address, a directed-identity grant (fresh Ed25519 key, signed), create the incoming
payment (signed), cancel the grant (signed); median of ``--runs``. The yardstick, measured in
the same run against the same server: a bare script making the same four requests on one
aiohttp session, signing with ``cryptography`` directly and building headers by hand (no
parsing beyond ``json.loads``). The ratio is Trickle's client overhead over that floor.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from wallet.openpayments.client import OpenPaymentsClient
from wallet.openpayments.receiver import open_payment_target
from wallet.openpayments.transport import HttpTransport, tls_context
from wallet.sandbox.network import SandboxNetwork
from wallet.sandbox.op_server import serve_open_payments
from wallet.sandbox.tls import sandbox_certificate


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _bare_headers(
    key: Ed25519PrivateKey, kid: str, method: str, url: str, body: bytes | None, token: str | None
) -> dict[str, str]:
    headers = {"accept": "application/json", "content-type": "application/json"}
    names = ["@method", "@target-uri"]
    if token:
        headers["authorization"] = "GNAP " + token
        names.append("authorization")
    if body is not None:
        headers["content-length"] = str(len(body))
        headers["content-digest"] = f"sha-512=:{_b64(hashlib.sha512(body).digest())}:"
        names += ["content-digest", "content-length", "content-type"]
    params = "(" + " ".join(f'"{n}"' for n in names) + f');keyid="{kid}";created={int(time.time())}'
    values = {"@method": method, "@target-uri": url, **headers}
    base = "\n".join(f'"{n}": {values[n]}' for n in names) + f'\n"@signature-params": {params}'
    headers["signature-input"] = "sig1=" + params
    headers["signature"] = f"sig1=:{_b64(key.sign(base.encode()))}:"
    return headers


async def _bare(http: aiohttp.ClientSession, wallet_url: str) -> None:
    async with http.get(wallet_url, headers={"accept": "application/json"}) as r:
        wallet = json.loads(await r.read())
    key = Ed25519PrivateKey.generate()
    kid = "bare"
    x = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": base64.urlsafe_b64encode(x).decode().rstrip("=")}
    access = [
        {"type": "incoming-payment", "actions": ["create", "read"], "identifier": wallet["id"]}
    ]
    body = json.dumps(
        {
            "access_token": {"access": access},
            "client": {"jwk": {**jwk, "kid": kid, "alg": "EdDSA"}},
        },
        separators=(",", ":"),
    ).encode()
    url = wallet["authServer"]
    async with http.post(
        url, data=body, headers=_bare_headers(key, kid, "POST", url, body, None)
    ) as r:
        grant = json.loads(await r.read())
    token = grant["access_token"]["value"]
    url = wallet["resourceServer"] + "/incoming-payments"
    body = json.dumps({"walletAddress": wallet["id"]}, separators=(",", ":")).encode()
    async with http.post(
        url, data=body, headers=_bare_headers(key, kid, "POST", url, body, token)
    ) as r:
        payment = json.loads(await r.read())
    assert payment["methods"][0]["sharedSecret"]
    url = grant["continue"]["uri"]
    cont = grant["continue"]["access_token"]["value"]
    async with http.delete(url, headers=_bare_headers(key, kid, "DELETE", url, None, cont)) as r:
        assert r.status == 204


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as directory:
        server_tls, ca_file = sandbox_certificate(Path(directory))
        site = await serve_open_payments(SandboxNetwork(), ssl_context=server_tls)
        site.add_wallet("alice", "Alice")
        wallet_url = site.wallet_url("alice")
        transport = HttpTransport(extra_ca_file=ca_file)
        client = OpenPaymentsClient(transport)
        connector = aiohttp.TCPConnector(ssl=tls_context(ca_file))
        trickle: list[float] = []
        bare: list[float] = []
        async with aiohttp.ClientSession(connector=connector) as http:
            await open_payment_target(client, wallet_url, transport=transport)  # warm up
            await _bare(http, wallet_url)
            for _ in range(runs):  # interleaved, so both see the same machine load
                start = time.perf_counter()
                await open_payment_target(client, wallet_url, transport=transport)
                trickle.append(time.perf_counter() - start)
                start = time.perf_counter()
                await _bare(http, wallet_url)
                bare.append(time.perf_counter() - start)
        await transport.close()
        await site.close()
    t, b = statistics.median(trickle) * 1000, statistics.median(bare) * 1000
    print(f"wallet address -> STREAM credentials (4 requests, TLS, loopback), median of {runs}:")
    print(f"  Trickle open_payment_target: {t:7.2f} ms")
    print(f"  bare aiohttp script:         {b:7.2f} ms   (yardstick)")
    print(f"  ratio: {t / b:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    asyncio.run(main(parser.parse_args().runs))
