"""Trickle's core: Interledger protocols, storage, ledger, budgets and the provider.

Pure Python + asyncio. This package never imports PySide6 or anything from ``ui``.
"""

from __future__ import annotations

__version__ = "0.1.0"
