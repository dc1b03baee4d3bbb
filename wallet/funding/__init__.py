"""Funding sources: the local ILP account, or the user's own Open Payments wallet.

:class:`Funding` owns which source pays ``<link rel="monetization">`` sites and the connected
wallet (connecting, token rotation, its grant's budget, disconnecting);
:class:`ConnectedWallet` pays outgoing payments for :mod:`wallet.payments.op_sessions`.
Secrets (the client key, the grant's tokens) live only in the secret store
(:mod:`wallet.funding.store`).
"""

from __future__ import annotations

from wallet.funding.connected import ConnectedWallet, GrantBudget
from wallet.funding.finish import FinishListener
from wallet.funding.manager import ConnectError, Connecting, Funding, FundingStatus
from wallet.funding.store import FundingSource, FundingStore, GrantSecrets, StoredKey, WalletInfo

__all__ = [
    "ConnectError",
    "ConnectedWallet",
    "Connecting",
    "FinishListener",
    "Funding",
    "FundingSource",
    "FundingStatus",
    "FundingStore",
    "GrantBudget",
    "GrantSecrets",
    "StoredKey",
    "WalletInfo",
]
