"""The payment layer's façade: every way of paying a site goes through :class:`Payments`.

``ui`` tells it only what only ``ui`` knows — which document asks (:meth:`Payments.document`,
with the site from :func:`~wallet.payments.origins.document_origin`), whether the user attends
to it, and when it ends — and hands it the provider's link. Everything else is decided here:
admission (site policy, global budget, balance: the wallet service), reservation and outcomes
(:mod:`~wallet.payments.gate`, :mod:`~wallet.payments.outcomes`), pacing, waking waiting
senders (:mod:`~wallet.payments.activity`), and the assembly of a STREAM connection over the
user's ILP path (:mod:`~wallet.payments.draft4`).

Threads: :meth:`Payments.document` and the :class:`~wallet.payments.documents.DocumentHandle`
it returns may be used from any thread; :meth:`Payments.monetize` runs on the wallet loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Awaitable, Callable
from typing import Protocol

from wallet.budgets import PACE, Reason
from wallet.events import BudgetReached, EventBus
from wallet.net.link import Link
from wallet.payments.activity import ActivitySink, SiteActivity
from wallet.payments.documents import Document, DocumentHandle
from wallet.payments.draft4 import Draft4Connection, open_connection
from wallet.payments.errors import DocumentGoneError, PaymentStateError
from wallet.payments.gate import Budget, PacketGate
from wallet.payments.link_targets import LinkResolver
from wallet.payments.links import LinkListener, LinkSession, Rotation
from wallet.payments.op_sessions import OpLinkSession, PayingWallet
from wallet.stream import ConnectionConfig

__all__ = ["LinkFunding", "Payments", "WalletBudget"]


class WalletBudget(Budget, ActivitySink, Protocol):
    """What the layer needs of the wallet service (``WalletService`` fits as is)."""

    @property
    def events(self) -> EventBus: ...


class LinkFunding(Protocol):
    """Who pays link tags (``wallet.funding.Funding`` fits)."""

    def paying_wallet(self) -> PayingWallet | None:
        """The user's connected wallet when it is the funding source, else ``None``."""
        ...


class Payments:
    """Admission, reservations, pacing, outcomes and sessions, for every document."""

    def __init__(
        self,
        budget: WalletBudget,
        loop: asyncio.AbstractEventLoop,
        *,
        pace: float = PACE.total_seconds(),
        template: ConnectionConfig | None = None,
        resolver: LinkResolver | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        funding: LinkFunding | None = None,
    ) -> None:
        self._budget = budget
        self._funding = funding  # who pays link tags: the user's own wallet, if connected
        self._loop = loop
        self._pace = pace
        self._template = template
        self._resolver = resolver
        self._sleep = sleep  # how link sessions wait to renew incoming payments (tests: a clock)
        self._activity = SiteActivity(budget, loop)
        self._rotations: weakref.WeakKeyDictionary[Document, Rotation] = weakref.WeakKeyDictionary()
        self.draft4_sites: set[str] = set()
        """Sites whose pages opened draft-4 connections (paid only from an ILP account)."""

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def activity(self) -> SiteActivity:
        """Which sites are attended to (wallet loop)."""
        return self._activity

    def document(self, site: str, *, attending: bool) -> DocumentHandle:
        """A new document of ``site`` (any thread). End it with ``handle.end()``."""
        doc = Document(
            site,
            attending=attending,
            activity=self._activity,
            on_provider_failing=self._provider_failing,
        )
        return DocumentHandle(doc, self._loop)

    async def monetize(
        self,
        handle: DocumentHandle,
        destination_account: str,
        shared_secret: bytes,
        link: Link,
        *,
        provider: str,
        account_id: int | None = None,
    ) -> Draft4Connection:
        """A draft-4 STREAM connection for the document, paid through ``link`` (the provider's
        handler; the caller hands it over and it is closed with the connection).

        Raises:
            DocumentGoneError: the document ended before the connection was up.
            ConnectFailedError: IL-DCP or the STREAM handshake failed.
        """
        doc = handle.document
        if not doc.alive:
            await link.close()
            raise DocumentGoneError("the page navigated away")
        self.draft4_sites.add(doc.site)
        gate = PacketGate(
            self._budget,
            doc,
            loop=self._loop,
            provider=provider,
            account_id=account_id,
            pace=self._pace,
        )
        conn = await open_connection(
            destination_account,
            shared_secret,
            link,
            gate,
            template=self._template,
            on_closed=lambda: doc.remove_gate(gate),
        )
        if not _alive(doc):  # it may have ended while we connected
            await conn.close()
            raise DocumentGoneError("the page navigated away")
        doc.add_gate(gate)
        return conn

    def pays_links_itself(self) -> bool:
        """Whether link tags are paid from the user's connected Open Payments wallet (then
        :meth:`pay_link` needs no ILP link). Wallet loop."""
        return self._funding is not None and self._funding.paying_wallet() is not None

    def pay_link(
        self,
        handle: DocumentHandle,
        href: str,
        link: Link | None,
        listener: LinkListener,
        *,
        provider: str,
        account_id: int | None = None,
    ) -> LinkSession | OpLinkSession:
        """Start paying one ``<link rel="monetization" href>`` of the document through
        ``link`` (the user's ILP path; closed with the session) — or, when the user's own
        Open Payments wallet is the funding source, by outgoing payments from it
        (:mod:`wallet.payments.op_sessions`; ``link`` is then unused and closed). Wallet loop.
        The session tells ``listener`` what happens (:mod:`wallet.payments.links`); ``stop()``
        ends it, and so does the document's end.

        Raises:
            PaymentStateError: this layer was built without a link resolver, or no ILP link
                was given while the local account pays.
        """
        if self._resolver is None:
            raise PaymentStateError("paying link elements is not set up")
        doc = handle.document
        rotation = self._rotations.get(doc)
        if rotation is None:
            rotation = self._rotations[doc] = Rotation(self._loop, self._pace)
        wallet = self._funding.paying_wallet() if self._funding is not None else None
        if wallet is not None:
            return OpLinkSession(
                doc=doc,
                href=href,
                listener=listener,
                resolver=self._resolver,
                wallet=wallet,
                rotation=rotation,
                budget=self._budget,
                loop=self._loop,
                pace=self._pace,
                link=link,
                sleep=self._sleep,
            )
        if link is None:
            raise PaymentStateError("no payment path for this link")
        session = LinkSession(
            doc=doc,
            href=href,
            link=link,
            listener=listener,
            resolver=self._resolver,
            rotation=rotation,
            budget=self._budget,
            loop=self._loop,
            provider=provider,
            account_id=account_id,
            pace=self._pace,
            template=self._template,
            sleep=self._sleep,
        )
        return session

    def _provider_failing(self, site: str, provider: str) -> None:
        self._budget.events.emit(BudgetReached(site, Reason.PROVIDER_FAILING))


def _alive(doc: Document) -> bool:
    return doc.alive
