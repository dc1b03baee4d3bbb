"""The wallet UI (issue 8): toolbar indicator and site popover, the wallet window and its pages,
in-window notifications, and the adapter from wallet service events to Qt signals.

Everything here talks to the core through :class:`~wallet.service.WalletService` (and the
read-only :class:`~wallet.reports.HistoryReader`), bundled in a :class:`WalletContext` that the
composition root builds and passes in — no globals.
"""
