"""When a link session's incoming-payment grant is cancelled: after the session's first packet
(off the way to the first payment, as flows.md allows: nothing after the cancel depends on its
answer), when the session stops without paying, or by the resolver when nobody releases it —
never left open. Against the sandbox's Open Payments server (every exchange checked against
the OpenAPI files), which records each grant and whether it was cancelled."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.op_support import OpSandbox, op_sandbox
from tests.unit.payments.test_links import SITE, Seen, run, world
from wallet.openpayments.receiver import cancel_target_grant, open_payment_target
from wallet.payments.link_targets import OpenPaymentsResolver
from wallet.payments.links import LinkPayment
from wallet.sandbox.op_ledger import SandboxGrant

WAIT = 20.0


def grants(sandbox: OpSandbox) -> list[SandboxGrant]:
    return list(sandbox.server.ledger.grants.values())


class SeenAtFirstPayment(Seen):
    """Also notes, at the first payment, which grants the server holds as cancelled."""

    def __init__(self, sandbox: OpSandbox) -> None:
        super().__init__()
        self.sandbox = sandbox
        self.revoked_at_first: list[bool] | None = None

    def on_payment(self, payment: LinkPayment) -> None:
        if self.revoked_at_first is None:
            self.revoked_at_first = [g.revoked for g in grants(self.sandbox)]
        super().on_payment(payment)


async def until_revoked(sandbox: OpSandbox) -> None:
    async def wait() -> None:
        while not all(g.revoked for g in grants(sandbox)):
            await asyncio.sleep(0.01)

    await asyncio.wait_for(wait(), WAIT)


def test_the_grant_is_cancelled_after_the_first_packet_not_before_it(tmp_path: Path) -> None:
    async def main() -> None:
        async with world(tmp_path) as w:
            seen = SeenAtFirstPayment(w.sandbox)
            paying = w.pay(SITE, w.sandbox.wallet("alice"), seen)
            await seen.until(lambda: len(seen.payments) >= 3)
            assert seen.revoked_at_first == [False]  # one grant, still open when money moved
            await until_revoked(w.sandbox)  # ... and cancelled while the session goes on
            assert not paying.session.task.done()
            paying.session.stop()
            await paying.stopped()
            assert [g.revoked for g in grants(w.sandbox)] == [True]

    run(main)


def test_a_session_that_stops_before_paying_cancels_its_grant(tmp_path: Path) -> None:
    async def main() -> None:
        async with world(tmp_path) as w:
            paying = w.pay(SITE, w.sandbox.wallet("alice"), Seen(), attending=False)
            doc = paying.session._doc
            await paying.seen.until(lambda: bool(doc.gates))  # connected, nothing paid
            paying.session.stop()
            await paying.stopped()  # the session's end waits for the cancel
            assert paying.seen.payments == []
            assert [g.revoked for g in grants(w.sandbox)] == [True]

    run(main)


def test_a_grant_nobody_releases_is_cancelled_by_the_deadline(tmp_path: Path) -> None:
    async def main() -> None:
        async with op_sandbox(tmp_path) as sandbox:
            resolver = OpenPaymentsResolver(extra_ca_file=sandbox.ca_file, grant_cancel_deadline=0)
            try:
                target = await resolver.resolve(sandbox.wallet("alice"), cancel_grant_later=True)
                assert target.incoming_payment is not None
                await until_revoked(sandbox)
                await resolver.release(target)  # too late: nothing more is sent
                assert len(grants(sandbox)) == 1
            finally:
                await resolver.close()

    run(main)


def test_closing_the_resolver_cancels_the_grants_left_open(tmp_path: Path) -> None:
    async def main() -> None:
        async with op_sandbox(tmp_path) as sandbox:
            resolver = OpenPaymentsResolver(extra_ca_file=sandbox.ca_file)
            for name in ("alice", "bob"):
                await resolver.resolve(sandbox.wallet(name), cancel_grant_later=True)
            await resolver.resolve(sandbox.wallet("alice"))  # cancelled before it returns
            assert sorted(g.revoked for g in grants(sandbox)) == [False, False, True]
            await resolver.close()
            assert [g.revoked for g in grants(sandbox)] == [True, True, True]

    run(main)


def test_the_receiver_leaves_the_grant_to_the_caller_only_when_asked(tmp_path: Path) -> None:
    async def main() -> None:
        async with op_sandbox(tmp_path) as sandbox, sandbox.client() as (client, transport):
            url = sandbox.wallet("alice")
            at_once = await open_payment_target(client, url, transport=transport)
            assert at_once.grant is None
            assert [g.revoked for g in grants(sandbox)] == [True]
            later = await open_payment_target(client, url, transport=transport, cancel_grant=False)
            assert later.grant is not None
            assert [g.revoked for g in grants(sandbox)] == [True, False]
            await cancel_target_grant(client, later)
            assert [g.revoked for g in grants(sandbox)] == [True, True]

    run(main)
