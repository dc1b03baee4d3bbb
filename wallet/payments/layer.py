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

from wallet.budgets import PACE, Asset, Reason
from wallet.events import BudgetReached, EventBus, PaymentsEnded
from wallet.net.link import Link
from wallet.payments.activity import ActivitySink, SiteActivity
from wallet.payments.backoff import Backoffs
from wallet.payments.documents import Document, DocumentHandle
from wallet.payments.draft4 import Draft4Connection, open_connection
from wallet.payments.errors import DocumentGoneError, PaymentStateError
from wallet.payments.gate import PacketGate
from wallet.payments.lifecycle import Holds, SessionLifecycle, SiteLimits
from wallet.payments.link_targets import LinkResolver
from wallet.payments.links import LinkListener, LinkSession, PayeeBook
from wallet.payments.minimums import Minimums
from wallet.payments.op_sessions import OpLinkSession, PayingWallet
from wallet.payments.rotation import Rotation
from wallet.payments.tips import TIP_TIMEOUT, TipBudget, TipResult, send_tip
from wallet.stream import ConnectionConfig

__all__ = ["LinkFunding", "Payments", "WalletBudget"]


class WalletBudget(TipBudget, ActivitySink, PayeeBook, SiteLimits, Protocol):
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
        self.minimums = Minimums()
        """Each receiver's learnt minimum (wallet loop)."""
        self.backoffs = Backoffs(loop.time)
        """When each unreachable receiver is tried again (wallet loop)."""
        self._sessions: weakref.WeakKeyDictionary[Document, list[LinkSession]] = (
            weakref.WeakKeyDictionary()
        )
        self._holds = Holds(budget, loop)
        """When link sessions held by a limit wake (wallet.payments.lifecycle)."""

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

    def set_funding(self, funding: LinkFunding) -> None:
        """Who pays link tags from now on (the composition root, once it is built)."""
        self._funding = funding

    def pays_links_itself(self) -> bool:
        """Whether link tags are paid from the user's connected Open Payments wallet (then
        :meth:`pay_link` needs no ILP link). Wallet loop."""
        return self._funding is not None and self._funding.paying_wallet() is not None

    def pay_link_tag(
        self,
        handle: DocumentHandle,
        href: str,
        link: Link | None,
        listener: LinkListener,
        *,
        provider: str,
        account_id: int | None = None,
    ) -> LinkSession | OpLinkSession:
        """Start paying one ``<link rel="monetization" href>`` of the document from the
        funding source: when the user's own Open Payments wallet is it, by outgoing payments
        from that wallet (:mod:`wallet.payments.op_sessions`; ``link``, if any, is unused and
        closed); else over ``link``, the user's ILP path (:meth:`pay_link`). Wallet loop.

        Raises:
            PaymentStateError: this layer was built without a link resolver, or no ILP link
                was given while the local account pays.
        """
        if self._resolver is None:
            raise PaymentStateError("paying link elements is not set up")
        wallet = self._funding.paying_wallet() if self._funding is not None else None
        if wallet is None:
            if link is None:
                raise PaymentStateError("no payment path for this link")
            return self.pay_link(
                handle, href, link, listener, provider=provider, account_id=account_id
            )
        doc = handle.document
        return OpLinkSession(
            doc=doc,
            href=href,
            listener=listener,
            resolver=self._resolver,
            wallet=wallet,
            rotation=self._rotation(doc),
            budget=self._budget,
            loop=self._loop,
            pace=self._pace,
            holds=self._holds,
            link=link,
            payees=self._budget,
            sleep=self._sleep,
        )

    def clock_changed(self) -> None:
        """The wall clock may have jumped (the machine woke from sleep; a test moved its
        clock): link sessions held by a day or month limit that has lifted resume. Any
        thread."""
        if not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._holds.clock_changed)

    def _rotation(self, doc: Document) -> Rotation:
        rotation = self._rotations.get(doc)
        if rotation is None:
            rotation = self._rotations[doc] = Rotation(self._loop, self._pace)
        return rotation

    def pay_link(
        self,
        handle: DocumentHandle,
        href: str,
        link: Link,
        listener: LinkListener,
        *,
        provider: str,
        account_id: int | None = None,
    ) -> LinkSession:
        """Start paying one ``<link rel="monetization" href>`` of the document through
        ``link`` (the user's ILP path; closed with the session). Wallet loop. The session
        tells ``listener`` what happens (:mod:`wallet.payments.links`); ``stop()`` ends it,
        and so does the document's end.

        Raises:
            PaymentStateError: this layer was built without a link resolver.
        """
        if self._resolver is None:
            raise PaymentStateError("paying link elements is not set up")
        doc = handle.document
        rotation = self._rotation(doc)
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
            holds=self._holds,
            minimum=self.minimums.of(href),
            backoffs=self.backoffs,
            payees=self._budget,
            sleep=self._sleep,
        )
        self._sessions.setdefault(doc, []).append(session)
        # (a session refers to its document: an entry left behind would keep both alive)
        session.task.add_done_callback(lambda _: self._session_ended(doc, session))
        return session

    def _session_ended(self, doc: Document, session: LinkSession) -> None:
        self._tell_if_ended(doc, session)
        sessions = self._sessions.get(doc)
        if sessions is not None and session in sessions:
            sessions.remove(session)
            if not sessions:
                del self._sessions[doc]

    def _tell_if_ended(self, doc: Document, session: SessionLifecycle) -> None:
        """A session of a page still open ended for good: the UI says "stopped" (a reload
        pays it again). (A session paid from the user's wallet that ends says why through
        the wallet's own status: reconnecting it, not a reload, is the fix.)"""
        if session.ended_by is not None and doc.alive:
            self._budget.events.emit(PaymentsEnded(doc.site, str(session.ended_by)))

    def link_sessions(self, site: str, *, attended_only: bool = True) -> list[LinkSession]:
        """The live link sessions of ``site``'s attended documents (wallet loop): the page the
        user is looking at; with ``attended_only=False``, of all its live documents."""
        return [
            session
            for doc, sessions in list(self._sessions.items())
            if doc.site == site and doc.alive and (doc.attending or not attended_only)
            for session in sessions
            if not session.task.done()
        ]

    async def tip(
        self, site: str, amount: int, asset: Asset, *, timeout: float = TIP_TIMEOUT
    ) -> TipResult:
        """Send a one-time ``amount`` of ``asset`` to the monetization links of the page of
        ``site`` the user is looking at, split evenly (:mod:`wallet.payments.tips`). Wallet
        loop.

        Raises:
            TipError: no one to tip, the tip does not fit the budgets, or another asset.
        """
        # The page the user looks at; while the tip dialog has the focus the browser window may
        # not, so any live page of the site then. One share per receiver, however many tabs.
        sessions = self.link_sessions(site) or self.link_sessions(site, attended_only=False)
        by_href = {s.href: s for s in reversed(sessions) if s.target is not None}
        sessions = [s for s in sessions if by_href.get(s.href) is s]
        return await send_tip(self._budget, sessions, amount, asset, site=site, timeout=timeout)

    def _provider_failing(self, site: str, provider: str) -> None:
        self._budget.events.emit(BudgetReached(site, Reason.PROVIDER_FAILING))


def _alive(doc: Document) -> bool:
    return doc.alive
