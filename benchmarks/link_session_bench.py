"""A link tag's time to first money, and the CPU of link-tag tabs streaming beside draft-4 tabs.

    .venv/bin/python benchmarks/link_session_bench.py [first] [--runs 20]
    .venv/bin/python benchmarks/link_session_bench.py cpu [--seconds 60] [--rounds 3] [--tabs 10]

Trickle: a ``<link rel="monetization">`` session of the payment layer against the sandbox's
Open Payments server on loopback (TLS) — wallet address, directed-identity grant, incoming
payment, IL-DCP, STREAM handshake over a sandbox account, then the first packet through the
document's budget gate (a real wallet service and SQLite file), until the session tells its
listener (the page's first ``monetization`` event); median of ``--runs`` sessions. The grant is
cancelled after that first packet (flows.md: nothing after the cancel depends on its answer);
each session's cancel and history write end before anything else is timed.

The yardstick, in the same run against the same server: the same four requests (the grant
cancel before paying, as a script does) and STREAM set-up done by a bare script
(:class:`BareOpenPayments`: the requests written out by hand with the same headers, a fresh
Ed25519 key, SHA-512 ``Content-Digest`` and RFC 9421 signature, over kept-alive connections of
Trickle's HTTP/1.1 pool, which is faster here than aiohttp's; no client library, no models),
then Trickle's STREAM client ``connect`` with no gate, then one packet (there is no other
STREAM implementation in Python to take). Trickle's Open Payments client is not part of the
yardstick, so its own cost shows in the ratio. The two sides take turns going first. The
quartiles show how much the host's load moved the figures: on a shared machine a preemption
(a few ms) is as long as a session, so a median can land on either side of it; the paired
ratio (each session against the floor run beside it, the median of those) moves less.
Targets (issue 18): ratio ≤ 1.3 and ≤ 300 ms. Those sessions are all on one site, whose
budget lease (:mod:`wallet.ledger`) the first one takes; the last line is a session on a site
paid for the first time (or not in the lease's 30 s), whose first packet waits for that lease's
``BEGIN IMMEDIATE`` transaction on the wallet loop.

``cpu``: ``--tabs`` documents of ``--tabs`` sites, all attended, streaming at the default rate
and pace (each site its own budget), for ``--seconds`` in total per kind; CPU time of this
process (the payment layer, the wallet service and SQLite, the sandbox's connector and STREAM
receivers — the same for both kinds) per second of wall time, as % of one core. Trickle: each
document pays one ``<link rel="monetization">`` session (wallet address → incoming payment →
STREAM, the link rotation, payee records, the learnt minimum). The yardstick, in the same run
and against the same receiver: each document pays one draft-4 connection (``Payments.monetize``
to a fresh incoming payment's credentials, a stream with an unbounded ``sendMax``), as a
draft-4 page does. The two kinds alternate in ``--rounds`` slices so host load drifts hit both.
Target (issue 18): link tags ≤ 1.5× draft 4.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import datetime as dt
import hashlib
import json
import secrets
import statistics
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from wallet.budgets import Asset, Defaults, GlobalPolicy
from wallet.net.http import JSON, HttpSession, tls_context
from wallet.net.ildcp import fetch_account_config
from wallet.net.router import Router
from wallet.net.stream_client import connect
from wallet.openpayments.client import OpenPaymentsClient
from wallet.openpayments.receiver import open_payment_target
from wallet.openpayments.transport import HttpTransport
from wallet.payments import (
    PAGE_CONNECTION_TEMPLATE,
    DocumentHandle,
    Draft4Connection,
    OpenPaymentsResolver,
    Payments,
)
from wallet.payments.errors import LinkError, PaymentError
from wallet.payments.link_targets import LinkTarget
from wallet.payments.links import LinkPayment
from wallet.sandbox.network import SandboxNetwork
from wallet.sandbox.op_server import serve_open_payments
from wallet.sandbox.tls import sandbox_certificate
from wallet.service import WalletService
from wallet.stream import ConnectionConfig

SITE = "https://bench.example"


class FirstPayment:
    def __init__(self) -> None:
        self.paid = asyncio.get_running_loop().create_future()

    def on_load(self, target: LinkTarget) -> None:
        pass

    def on_error(self, error: LinkError) -> None:
        if not self.paid.done():
            self.paid.set_exception(error)

    def on_payment(self, payment: LinkPayment) -> None:
        if not self.paid.done():
            self.paid.set_result(None)

    def on_stop(self, reason: PaymentError | None) -> None:
        pass

    def on_waiting(self, words: str | None) -> None:
        pass


class BareOpenPayments:
    """The yardstick's Open Payments requests: what any script must do, and nothing more.

    The same four requests as Trickle's client, with the same headers, the same crypto (a fresh
    Ed25519 key per grant, SHA-512 ``Content-Digest``, an RFC 9421 signature over the same
    components) and the same kept-alive connections (Trickle's HTTP/1.1 pool, which is faster
    than aiohttp's here), but with no client around them: the signature base written out by
    hand, answers read with ``json.loads`` and indexing, no models, no validation beyond what
    the next request needs. The sandbox server verifies every signature and digest of it as it
    does Trickle's, so it cannot cut corners.
    """

    def __init__(self, ca_file: Path) -> None:
        self._http = HttpSession(ssl_context=tls_context(ca_file))

    async def close(self) -> None:
        await self._http.close()

    async def target(self, url: str) -> tuple[str, bytes]:
        """``(ilpAddress, sharedSecret)`` of a fresh incoming payment on the wallet ``url``."""
        wallet = json.loads((await self._http.request("GET", url, {"accept": JSON}, b"")).body)
        key = Ed25519PrivateKey.generate()
        kid = "bare-" + secrets.token_urlsafe(12)
        x = _b64url(key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw))
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": kid, "alg": "EdDSA"}
        access = {"type": "incoming-payment", "actions": ["create", "read"], "identifier": url}
        grant = await self._signed(
            key,
            kid,
            "POST",
            wallet["authServer"],
            {"access_token": {"access": [access]}, "client": {"jwk": jwk}},
        )
        token = grant["access_token"]["value"]
        expires = dt.datetime.now(dt.UTC) + dt.timedelta(minutes=10)
        payment = await self._signed(
            key,
            kid,
            "POST",
            wallet["resourceServer"].rstrip("/") + "/incoming-payments",
            {
                "walletAddress": wallet["id"],
                "expiresAt": expires.strftime("%Y-%m-%dT%H:%M:%S.")
                + f"{expires.microsecond // 1000:03d}Z",
                "metadata": {"source": "Web Monetization"},
            },
            token,
        )
        await self._signed(
            key,
            kid,
            "DELETE",
            grant["continue"]["uri"],
            None,
            grant["continue"]["access_token"]["value"],
        )
        method = payment["methods"][0]
        secret = method["sharedSecret"]
        return method["ilpAddress"], base64.urlsafe_b64decode(secret + "=" * (-len(secret) % 4))

    async def _signed(
        self,
        key: Ed25519PrivateKey,
        kid: str,
        method: str,
        url: str,
        doc: object,
        token: str | None = None,
    ) -> Any:
        headers = {"accept": JSON, "content-type": JSON}
        lines = [f'"@method": {method}', f'"@target-uri": {url}']
        if token is not None:
            headers["authorization"] = f"GNAP {token}"
            lines.append(f'"authorization": GNAP {token}')
        body = b""
        if doc is not None:
            body = json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()
            headers["content-digest"] = f"sha-512=:{_b64(hashlib.sha512(body).digest())}:"
            headers["content-length"] = str(len(body))
            lines += [
                f'"content-digest": {headers["content-digest"]}',
                f'"content-length": {len(body)}',
                f'"content-type": {JSON}',
            ]
        components = " ".join(line.split(":", 1)[0] for line in lines)
        params = f'({components});keyid="{kid}";created={int(time.time())}'
        lines.append(f'"@signature-params": {params}')
        signature = key.sign("\n".join(lines).encode())
        headers["signature-input"] = f"sig1={params}"
        headers["signature"] = f"sig1=:{_b64(signature)}:"
        response = await self._http.request(method, url, headers, body)
        if not 200 <= response.status < 300:
            raise SystemExit(f"the bare script's {method} {url} got HTTP {response.status}")
        return json.loads(response.body) if response.body else None


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@dataclass
class Bench:
    """The sandbox (connector, Open Payments server on TLS), a wallet and its payment layer."""

    network: SandboxNetwork
    url: str
    service: WalletService
    payments: Payments
    transport: HttpTransport
    client: OpenPaymentsClient
    bare: BareOpenPayments


@asynccontextmanager
async def bench_world() -> AsyncIterator[Bench]:
    with tempfile.TemporaryDirectory() as tmp:
        tls, ca_file = sandbox_certificate(Path(tmp))
        network = SandboxNetwork()
        server = await serve_open_payments(network, ssl_context=tls)
        url = server.add_wallet("bench", "Bench").id
        service = WalletService.open(Path(tmp) / "wallet", tz=ZoneInfo("UTC"))
        service.set_global_policy(
            GlobalPolicy(
                Asset("USD", 9), defaults=Defaults(rate_per_hour=3_600 * 10**9, cap_month=None)
            )
        )
        resolver = OpenPaymentsResolver(extra_ca_file=ca_file)
        payments = Payments(
            service,
            asyncio.get_running_loop(),
            template=PAGE_CONNECTION_TEMPLATE,
            resolver=resolver,
        )
        transport = HttpTransport(extra_ca_file=ca_file)
        bare = BareOpenPayments(ca_file)
        client = OpenPaymentsClient(transport)
        try:
            yield Bench(network, url, service, payments, transport, client, bare)
        finally:
            await bare.close()
            await transport.close()
            await resolver.close()
            service.close()
            await server.close()


async def trickle_once(b: Bench, i: int, site: str = SITE) -> float:
    """Seconds from ``pay_link`` (the link seen) to the session's first fulfilled packet."""
    handle = b.payments.document(site, attending=True)
    seen = FirstPayment()
    started = time.perf_counter()
    session = b.payments.pay_link(handle, b.url, b.network.account(f"t{i}"), seen, provider="bench")
    await asyncio.wait_for(seen.paid, 10)
    took = time.perf_counter() - started
    handle.end()
    await session.task  # its grant cancel and history write, before anything else is timed
    return took


async def floor_once(b: Bench, i: int) -> float:
    """Seconds the bare script takes from the wallet address to a fulfilled packet."""
    started = time.perf_counter()
    destination, shared_secret = await b.bare.target(b.url)
    link = b.network.account(f"b{i}")
    account = await fetch_account_config(link)
    conn = await connect(
        link,
        ConnectionConfig(
            shared_secret,
            account.asset_code,
            account.asset_scale,
            source_account=account.client_address,
            destination_account=destination,
        ),
        router=Router(link, own_address=account.client_address),
    )
    await conn.create_stream().send_total(1000)
    took = time.perf_counter() - started
    conn.close()
    await conn.closed
    return took


async def main(runs: int) -> None:
    async with bench_world() as b:
        trickle: list[float] = []
        floor: list[float] = []
        new_site: list[float] = []
        for i in range(runs):
            # In turns, so that neither always runs right after the other's teardown.
            if i % 2 == 0:
                trickle.append(await trickle_once(b, i))
                floor.append(await floor_once(b, i))
            else:
                floor.append(await floor_once(b, i))
                trickle.append(await trickle_once(b, i))
            new_site.append(await trickle_once(b, runs + i, f"https://new{i}.bench.example"))
    ours, bare = statistics.median(trickle) * 1000, statistics.median(floor) * 1000
    print(f"link seen -> first fulfilled packet, median of {runs}:")
    print(f"  Trickle link session : {ours:7.1f} ms   (target <= 300 ms)  {_spread(trickle)}")
    print(f"  bare script (floor)  : {bare:7.1f} ms                      {_spread(floor)}")
    print(f"  ratio                : {ours / bare:7.2f}   (target <= 1.3)")
    paired = statistics.median(t / f for t, f in zip(trickle, floor, strict=True))
    print(
        f"  paired ratio         : {paired:7.2f}   (median of each session / the floor beside it)"
    )
    first = statistics.median(new_site) * 1000
    print(f"  a site's first link  : {first:7.1f} ms   {first / bare:5.2f}x  {_spread(new_site)}")


def _spread(seconds: list[float]) -> str:
    """The quartiles, in ms: how much the host's load moved the figures."""
    q1, _, q3 = statistics.quantiles([s * 1000 for s in seconds], n=4)
    return f"(quartiles {q1:.1f}–{q3:.1f})"


class Quiet(FirstPayment):
    """A page that is told nothing worth keeping."""


async def _tabs(kind: str, n: int, seconds: float, slice_no: int, b: Bench) -> tuple[float, float]:
    """``n`` attended tabs of ``kind`` streaming ``seconds``: (CPU seconds, wall seconds)."""
    payments, network, url = b.payments, b.network, b.url
    handles: list[DocumentHandle] = []
    conns: list[Draft4Connection] = []
    sessions = []
    for i in range(n):
        handle = payments.document(f"https://tab{i}.example", attending=True)
        handles.append(handle)
        link = network.account(f"{kind}{slice_no}x{i}")
        if kind == "link":
            sessions.append(payments.pay_link(handle, url, link, Quiet(), provider="bench"))
        else:
            target = await open_payment_target(b.client, url, transport=b.transport)
            conn = await payments.monetize(
                handle, target.destination_account, target.shared_secret, link, provider="bench"
            )
            await conn.create_stream().set_send_max(2**63 - 1)
            conns.append(conn)
    await asyncio.sleep(3)  # settle: every tab connected and paying
    c0, t0 = time.process_time(), time.perf_counter()
    await asyncio.sleep(seconds)
    used, wall = time.process_time() - c0, time.perf_counter() - t0
    for handle in handles:
        handle.end()
    await asyncio.gather(*(conn.close() for conn in conns), *(s.task for s in sessions))
    return used, wall


async def cpu(seconds: float, rounds: int, tabs: int) -> None:
    spent = {"link": [0.0, 0.0], "draft4": [0.0, 0.0]}
    paid = {"link": 0, "draft4": 0}
    async with bench_world() as b:
        for r in range(rounds):
            for kind in ("draft4", "link") if r % 2 == 0 else ("link", "draft4"):
                b.service.flush()
                before = sum(t.sent + t.unresolved for t in b.service.site_totals())
                used, wall = await _tabs(kind, tabs, seconds / rounds, r, b)
                b.service.flush()
                after = sum(t.sent + t.unresolved for t in b.service.site_totals())
                spent[kind][0] += used
                spent[kind][1] += wall
                paid[kind] += after - before
    share = {kind: used / wall * 100 for kind, (used, wall) in spent.items()}
    print(f"CPU of {tabs} tabs streaming, {seconds:.0f} s each kind ({rounds} slices):")
    print(f"  link-tag tabs : {share['link']:6.2f} % of one core; paid {paid['link']} units")
    print(f"  draft-4 tabs  : {share['draft4']:6.2f} % of one core; paid {paid['draft4']} units")
    print(f"  ratio         : {share['link'] / max(share['draft4'], 1e-9):6.2f}   (target <= 1.5)")
    if not paid["link"] or not paid["draft4"]:
        raise SystemExit("a kind paid nothing: the measurement is not valid")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("what", nargs="?", choices=["first", "cpu"], default="first")
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--tabs", type=int, default=10)
    args = parser.parse_args()
    if args.what == "cpu":
        asyncio.run(cpu(args.seconds, args.rounds, args.tabs))
    else:
        asyncio.run(main(args.runs))
