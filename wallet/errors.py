"""The root of Trickle's error tree.

Every error the core raises on purpose derives from :class:`WalletError`. Each area adds its own
base (codec, protocol, uplink, budget, consent, storage, secret store) so callers can catch what
they can handle and ``ui`` can turn the rest into words in one place. Messages never carry
secrets.
"""

from __future__ import annotations


class WalletError(Exception):
    """Base of every error Trickle's core raises on purpose."""
