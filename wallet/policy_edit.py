"""Policy edits from the user, applied at once — including to leases already granted.

``WalletService.set_site_policy`` settles a site's open leases when it is paused or blocked;
a *lowered* cap or rate would otherwise let the leases already granted (up to a minute of pay)
run on. The user's edit should hold exactly, so these helpers save through the service and
then settle the affected leases (their unused part goes back to the counters), so the next
reservation is checked against the new limits.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from wallet.budgets import GlobalPolicy, SitePolicy


class _Ledger(Protocol):
    def settle(self, now: datetime, *, site: str | None = None) -> None: ...


class _Service(Protocol):
    @property
    def ledger(self) -> _Ledger: ...

    def set_site_policy(self, policy: SitePolicy) -> None: ...

    def reset_site_policy(self, site: str) -> None: ...

    def set_global_policy(self, policy: GlobalPolicy) -> None: ...


def save_site_policy(service: _Service, policy: SitePolicy, now: datetime) -> None:
    """Save ``policy``; the site's next reservation is checked against it.

    Raises:
        StorageError: the database failed (``StorageBusy`` after its deadline).
    """
    service.set_site_policy(policy)
    service.ledger.settle(now, site=policy.site)


def reset_site_policy(service: _Service, site: str, now: datetime) -> None:
    """Back to the defaults, applied at once."""
    service.reset_site_policy(site)
    service.ledger.settle(now, site=site)


def save_global_policy(service: _Service, policy: GlobalPolicy, now: datetime) -> None:
    """Save the global policy; every site's next reservation is checked against it."""
    service.set_global_policy(policy)
    service.ledger.settle(now)
