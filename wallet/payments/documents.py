"""One document that pays: its site, whether the user attends to it, its life, its sessions.

A :class:`Document` is what ``ui`` reports and nothing more: which document asks (its site, by
:mod:`wallet.payments.origins`), whether it is attended (tab visible, window in front, user not
idle) and when it ends (navigated, closed). Payment sessions (:class:`~wallet.payments.gate.
PacketGate`) belong to it and end with it, so a reload, a history navigation or a closed tab
never pays twice for the same time and nothing is attributed to the next page.

Owns: the document's attention, its live gates, and the providers marked failing for it (a
provider that sent a fulfillment that does not verify pays nothing more for this document,
whatever connections the page opens next).

State is the wallet loop's; :class:`DocumentHandle` is the thread-safe face ``ui`` holds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from wallet.payments.activity import SiteActivity
from wallet.payments.gate import PacketGate

__all__ = ["Document", "DocumentHandle"]


class Document:
    """A document's payment state (wallet loop). Implements ``wallet.payments.gate.Payer``."""

    def __init__(
        self,
        site: str,
        *,
        attending: bool,
        activity: SiteActivity | None,
        on_provider_failing: Callable[[str, str], None] | None = None,
    ) -> None:
        self._site = site
        self._attending = attending
        self._alive = True
        self._activity = activity
        self._on_provider_failing = on_provider_failing
        self._failing: set[str] = set()
        self._gates: set[PacketGate] = set()
        self._ending: list[Callable[[], None]] = []
        self._counted = False

    @property
    def site(self) -> str:
        return self._site

    @property
    def alive(self) -> bool:
        return self._alive

    @property
    def attending(self) -> bool:
        return self._attending

    @property
    def gates(self) -> frozenset[PacketGate]:
        return frozenset(self._gates)

    # -- Payer --

    def may_pay(self, provider: str) -> bool:
        return self._alive and self._attending and provider not in self._failing

    def provider_failing(self, provider: str) -> bool:
        return provider in self._failing

    def mark_provider_failing(self, provider: str) -> None:
        if provider in self._failing:
            return
        self._failing.add(provider)
        for gate in list(self._gates):
            if gate.provider == provider:
                gate.wake()  # its next reserve stops it for good
        if self._on_provider_failing is not None:
            self._on_provider_failing(self._site, provider)

    def wait_for_change(self, wake: Callable[[], None]) -> None:
        if self._activity is not None:
            self._activity.wait(self._site, wake)

    def stop_waiting(self, wake: Callable[[], None]) -> None:
        if self._activity is not None:
            self._activity.stop_waiting(self._site, wake)

    # -- what ui reports --

    def set_attending(self, attending: bool) -> None:
        if attending == self._attending:
            return
        self._attending = attending
        self._recount()
        if attending:
            for gate in list(self._gates):
                gate.wake()

    def end(self) -> None:
        """The document is gone: its gates reserve nothing more, for good."""
        if not self._alive:
            return
        self._alive = False
        gates, self._gates = self._gates, set()
        for gate in gates:
            gate.close()
        self._recount()
        ending, self._ending = self._ending, []
        for fn in ending:
            fn()

    def when_ended(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` once when the document ends (at once if it has): for a session that
        holds no gate (held by a limit) and must end with it all the same."""
        if not self._alive:
            fn()
        elif fn not in self._ending:
            self._ending.append(fn)

    def forget_ended(self, fn: Callable[[], None]) -> None:
        if fn in self._ending:
            self._ending.remove(fn)

    # -- sessions --

    def add_gate(self, gate: PacketGate) -> None:
        if not self._alive:
            gate.close()
            return
        self._gates.add(gate)
        self._recount()

    def remove_gate(self, gate: PacketGate) -> None:
        gate.close()
        self._gates.discard(gate)
        self._recount()

    def _recount(self) -> None:
        counted = self._alive and self._attending and bool(self._gates)
        if counted != self._counted:
            self._counted = counted
            if self._activity is not None:
                self._activity.change(self._site, +1 if counted else -1)


class DocumentHandle:
    """What ``ui`` holds for a document: every method may be called from any thread and takes
    effect on the wallet loop, in call order."""

    def __init__(self, document: Document, loop: asyncio.AbstractEventLoop) -> None:
        self.document = document  # touched on the wallet loop only
        self._loop = loop

    @property
    def site(self) -> str:
        return self.document.site

    def set_attending(self, attending: bool) -> None:
        self._post(self.document.set_attending, attending)

    def end(self) -> None:
        self._post(self.document.end)

    def _post(self, fn: Callable[..., None], *args: object) -> None:
        if self._loop.is_closed():
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            fn(*args)
        else:
            self._loop.call_soon_threadsafe(fn, *args)
