"""The network the wallet pays through, and its status in words.

The provider part (sandbox or uplink) feeds :class:`NetworkStatus`; the Account page, the
Overview and the "uplink down" notification read it. Nothing here does I/O.

Signals:
    changed(): mode, state or detail changed.
"""

from __future__ import annotations

import enum

from PySide6.QtCore import QObject, Signal

from wallet.accounts import SANDBOX_NETWORK


class NetworkMode(enum.StrEnum):
    SANDBOX = "sandbox"
    UPLINK = "uplink"


class LinkState(enum.StrEnum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DOWN = "down"
    NOT_CONFIGURED = "not_configured"


_WORDS = {
    LinkState.CONNECTING: "Connecting…",
    LinkState.CONNECTED: "Connected",
    LinkState.DOWN: "Down",
    LinkState.NOT_CONFIGURED: "Not configured",
}


class NetworkStatus(QObject):
    """Which network, and whether the link to it works.

    ``account``: the name of the account row that pays on it
    (:func:`wallet.accounts.account_network`), as the provider started it; the sandbox's by
    default. Every view looks the active account up by it (``WalletContext.account``)."""

    changed = Signal()

    def __init__(
        self,
        mode: NetworkMode = NetworkMode.SANDBOX,
        state: LinkState = LinkState.CONNECTED,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._mode = mode
        self._state = state
        self._detail = ""
        self._endpoint = ""
        self._account = SANDBOX_NETWORK if mode is NetworkMode.SANDBOX else ""

    @property
    def mode(self) -> NetworkMode:
        return self._mode

    @property
    def state(self) -> LinkState:
        return self._state

    @property
    def detail(self) -> str:
        return self._detail

    @property
    def endpoint(self) -> str:
        return self._endpoint

    @property
    def account(self) -> str:
        return self._account

    def update(
        self,
        *,
        mode: NetworkMode | None = None,
        state: LinkState | None = None,
        detail: str = "",
        endpoint: str | None = None,
        account: str | None = None,
    ) -> None:
        """Set what changed; emits ``changed`` if anything did."""
        new = (
            mode or self._mode,
            state or self._state,
            detail,
            self._endpoint if endpoint is None else endpoint,
            self._account if account is None else account,
        )
        if new == (self._mode, self._state, self._detail, self._endpoint, self._account):
            return
        self._mode, self._state, self._detail, self._endpoint, self._account = new
        self.changed.emit()

    def words(self) -> str:
        """The status for people: "Sandbox (play money) — connected", "Uplink — down: ..."."""
        where = "Sandbox (play money)" if self._mode is NetworkMode.SANDBOX else "Uplink"
        if self._endpoint and self._mode is NetworkMode.UPLINK:
            where = f"Uplink {self._endpoint}"
        text = f"{where} — {_WORDS[self._state].lower()}"
        return f"{text}: {self._detail}" if self._detail else text
