"""The ``<link rel="monetization">`` sessions of a page's current document (GUI thread).

The isolated-world bridge (``resources/js/bridge.js``) finds the document's monetization links
and calls ``linkStart`` / ``linkStop`` on the page bridge with a link id of its own (``l<n>``)
and the link's resolved https: href. :class:`PageLinks` starts a payment session per link in
the payment layer (:meth:`wallet.payments.Payments.pay_link_tag`, through the active handler's ILP
link, for the document's :class:`~wallet.payments.DocumentHandle`) and pushes what happens back
to that document as ``{t: "link", link, kind, ...}``: ``load`` / ``error`` (fired at the link),
``monetization`` (a ``MonetizationEvent`` at the link, ``fields`` as the WICG spec names them),
``stop``. ``reasons`` keeps, per link, the words a user reads when a link is not being paid.

Invariants: a session belongs to the document that started it; a navigation or a closed tab
stops them all (``stop_all``); at most :data:`MAX_LINKS` per document; hrefs are re-checked
here (https only, bounded length).
"""

from __future__ import annotations

import concurrent.futures
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit

from ui.asyncbridge import AsyncBridge, Outcome
from ui.webmonetization.protocols import DocumentSession, HandlerRegistry, LinkProvider
from wallet.payments import LinkError, PaymentError

if TYPE_CHECKING:  # the payment layer is imported when the wallet starts
    from wallet.payments import LinkPayment, LinkTarget

__all__ = ["MAX_LINKS", "PageLinks", "valid_href", "valid_link_id", "valid_pointer"]

MAX_LINKS = 8
MAX_HREF = 2048
_POINTER = re.compile(r"\$[^\s/?#$@]+(/[^\s?#]*)?")
_LINK_ID = re.compile(r"[lm][0-9]{1,9}")  # l: a link element, m: the Coil-era <meta>


def valid_href(href: object) -> str | None:
    """``href`` if it is an https: URL with a host and no credentials, short enough."""
    if not isinstance(href, str) or len(href) > MAX_HREF:
        return None
    try:
        parts = urlsplit(href)
    except ValueError:
        return None
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        return None
    return href


def valid_pointer(pointer: object) -> str | None:
    """The https: URL a Coil-era payment pointer ``$host[/path]`` stands for (``$host`` is
    ``https://host/.well-known/pay``), or ``None`` if ``pointer`` is not one."""
    if not isinstance(pointer, str) or not _POINTER.fullmatch(pointer) or len(pointer) > MAX_HREF:
        return None
    url = valid_href("https://" + pointer[1:])
    if url is None:
        return None
    return url + ".well-known/pay" if urlsplit(url).path == "/" else url


def valid_link_id(link: object) -> str | None:
    return link if isinstance(link, str) and _LINK_ID.fullmatch(link) else None


class LinkSink(Protocol):
    """What the sessions need of the page bridge."""

    def post_to_gui(self, fn: Callable[[], None]) -> None: ...

    def push(self, doc: str, payload: dict[str, Any]) -> None: ...


class _Stoppable(Protocol):
    def stop(self) -> None: ...


class _LinkEvents:
    """A ``wallet.payments.LinkListener`` (wallet loop) → pushes to the document (GUI)."""

    def __init__(self, owner: PageLinks, doc: str, link: str) -> None:
        self._owner = owner
        self._doc = doc
        self._link = link
        # (GUI thread) its session was stopped or replaced: its load/error/stop and reasons are
        # about a session that is over; its payments (packets that were in flight) still count
        self.muted = False

    def _push(self, kind: str, **fields: Any) -> None:
        owner, doc, payload = self._owner, self._doc, {"t": "link", "link": self._link}
        payload.update(kind=kind, **fields)

        def push() -> None:
            if not self.muted or kind == "monetization":
                owner.sink.push(doc, payload)

        owner.sink.post_to_gui(push)

    def _reason(self, words: str | None) -> None:
        owner, link = self._owner, self._link

        def set_reason() -> None:
            if not self.muted:
                owner.set_reason(link, words)

        owner.sink.post_to_gui(set_reason)

    def on_load(self, target: LinkTarget) -> None:
        self._reason(None)
        self._push("load")

    def on_error(self, error: LinkError) -> None:
        self._reason(str(error))
        self._push("error")

    def on_payment(self, payment: LinkPayment) -> None:
        # ``units``: what the Coil-era monetizationprogress event reports (an integer string in
        # the receiver's asset, with its code and scale)
        units = {
            "amount": str(payment.amount),
            "assetCode": payment.asset.code,
            "assetScale": payment.asset.scale,
        }
        self._push("monetization", fields=payment.event_fields(), units=units)

    def on_stop(self, reason: PaymentError | None) -> None:
        self._reason(None if reason is None else str(reason))
        self._push("stop")

    def on_waiting(self, words: str | None) -> None:
        self._reason(words)  # the receiver is backed off: why, and when it is tried again


class PageLinks:
    """The link sessions of one page's current document."""

    def __init__(
        self,
        sink: LinkSink,
        asyncs: AsyncBridge,
        registry: HandlerRegistry,
        links: Callable[[], LinkProvider | None],
        payments: Callable[[], Any],
    ) -> None:
        self.sink = sink
        self._asyncs = asyncs
        self._registry = registry
        self._links = links
        self._payments = payments
        self._sessions: dict[str, concurrent.futures.Future[_Stoppable | None]] = {}
        # what each session was started with (restart_all) and its events (muted on stop)
        self._started: dict[str, tuple[str, str, DocumentSession, _LinkEvents]] = {}
        self.reasons: dict[str, str] = {}
        """Why a link is not being paid, in words (by link id)."""

    def __len__(self) -> int:
        return len(self._sessions)

    def set_reason(self, link: str, words: str | None) -> None:
        if words is None:
            self.reasons.pop(link, None)
        else:
            self.reasons[link] = words

    def start(self, doc: str, link: str, href: str, payer: DocumentSession) -> None:
        """Pay ``href`` for link ``link`` of document ``doc`` (already validated)."""
        self.stop(link)
        events = _LinkEvents(self, doc, link)
        if len(self._sessions) >= MAX_LINKS:
            events.on_error(LinkError(f"at most {MAX_LINKS} monetization links per page"))
            return
        payments, provider = self._payments(), self._links()
        registry = self._registry

        async def start() -> _Stoppable | None:
            handler = await registry.active_handler()  # (waits for the wallet to start)
            # The user's connected Open Payments wallet pays without an ILP link.
            own = payments is not None and bool(getattr(payments, "pays_links_itself", bool)())
            if payments is None or (not own and (handler is None or provider is None)):
                events.on_error(LinkError("This site is not being paid: no wallet is set up."))
                return None
            ilp = (
                None
                if own or handler is None or provider is None
                else (await provider.link_for(handler.uri))
            )
            session: _Stoppable = payments.pay_link_tag(
                payer,
                href,
                ilp,
                events,
                provider=handler.uri if handler is not None else "",
                # The built-in provider's link names the local account whose balance pays.
                account_id=getattr(ilp, "account_id", None),
            )
            return session

        def started(outcome: Outcome[_Stoppable | None]) -> None:
            if outcome.error is not None:
                events.on_error(LinkError(f"This site is not being paid: {outcome.error}"))

        self._sessions[link] = self._asyncs.submit(start(), started)
        self._started[link] = (doc, href, payer, events)

    def stop(self, link: str) -> None:
        future = self._sessions.pop(link, None)
        started = self._started.pop(link, None)
        if started is not None:
            started[3].muted = True  # what it still says is about a session that is over
        self.reasons.pop(link, None)
        if future is None:
            return

        def stop_when_started(done: concurrent.futures.Future[_Stoppable | None]) -> None:
            if not done.cancelled() and done.exception() is None:
                session = done.result()
                if session is not None:
                    session.stop()

        future.add_done_callback(stop_when_started)

    def stop_all(self) -> None:
        for link in list(self._sessions):
            self.stop(link)

    def attention(self, attending: bool) -> None:
        """The user attends to the document again (or no more): the Coil-era ``<meta>`` session
        says so to the page (``monetizationstop`` not finalized, then ``monetizationpending``),
        as Coil's extension did when a tab was hidden and shown."""
        for link, (doc, _href, _payer, _events) in self._started.items():
            if link.startswith("m"):
                kind = "resumed" if attending else "paused"
                self.sink.push(doc, {"t": "link", "link": link, "kind": kind})

    def restart_all(self) -> None:
        """A new session for every link, as it was started (after the machine slept): the
        page sees its links paid on, from new connections and incoming payments."""
        for link, (doc, href, payer, _events) in list(self._started.items()):
            self.start(doc, link, href, payer)
