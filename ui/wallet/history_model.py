"""The History table's model: a window onto the history table, never the whole of it.

``rowCount`` is a ``COUNT(*)``; ``data`` reads the page of rows it falls in (``PAGE`` rows, one
query) and keeps the last ``CACHE_PAGES`` pages. Sorting and filtering are done by SQLite
(``HistoryReader.page``), which reads pages in the second half backwards, so opening the view
and jumping to the last row each cost one small query, however long the history.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from ui.plain_text import ADDRESS_CHARS, page_text, tooltip_text
from ui.wallet.context import WalletContext
from wallet.reports import HistoryFilter, HistoryRow, PayeeKind, PayeeRecord, SortKey

PAGE = 256
CACHE_PAGES = 32

COLUMNS: tuple[tuple[str, SortKey], ...] = (
    ("Time", SortKey.TIME),
    ("Site", SortKey.SITE),
    ("Provider", SortKey.PROVIDER),
    ("Sent", SortKey.SENT),
    ("Delivered", SortKey.DELIVERED),
    ("Packets", SortKey.PACKETS),
    ("Paid, unconfirmed", SortKey.UNRESOLVED),
    ("Paid to", SortKey.PAYEE),
)
PAYEE_COLUMN = 7
# Money whose fate Trickle could not learn (no answer, a late or garbled one, a path that failed
# after the packet left, a reject the receiver did not sign): counted as spent, never refunded.
UNCONFIRMED_TIP = (
    "Sent, but no proof came back that the site received it (no answer in time, a garbled "
    "answer, or a connection that failed). Trickle counts it as spent and never sends it twice."
)
_NUMERIC = {3, 4, 5, 6}
_Index = QModelIndex | QPersistentModelIndex


class HistoryTableModel(QAbstractTableModel):
    """History rows, sorted and filtered in the database, read a page at a time."""

    def __init__(self, ctx: WalletContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ctx = ctx
        self._filter = HistoryFilter()
        self._key = SortKey.TIME
        self._descending = True
        self._pages: OrderedDict[int, list[HistoryRow]] = OrderedDict()
        self._count = 0  # until the first refresh()/set_filter(): the view opens empty, at once
        self._provider_names: dict[str, str] | None = None  # origin -> name, read when needed
        self.queries = 0  # pages read (for tests and the benchmark)

    # --- what to show --------------------------------------------------------------------------

    @property
    def filter(self) -> HistoryFilter:
        return self._filter

    def set_filter(self, flt: HistoryFilter) -> None:
        self.beginResetModel()
        self._filter = flt
        self._reload()
        self.endResetModel()

    def refresh(self) -> None:
        """Re-read (new payments arrived)."""
        self.beginResetModel()
        self._reload()
        self.endResetModel()

    def _reload(self) -> None:
        self._pages.clear()
        self._provider_names = None
        self._count = self._ctx.history.count(self._filter)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        if not 0 <= column < len(COLUMNS):
            return
        self.layoutAboutToBeChanged.emit()
        self._key = COLUMNS[column][1]
        self._descending = order == Qt.SortOrder.DescendingOrder
        self._pages.clear()
        self.layoutChanged.emit()

    # --- rows ----------------------------------------------------------------------------------

    def row(self, i: int) -> HistoryRow | None:
        if not 0 <= i < self._count:
            return None
        page_no, pos = divmod(i, PAGE)
        page = self._pages.get(page_no)
        if page is None:
            page = self._ctx.history.page(
                page_no * PAGE,
                PAGE,
                flt=self._filter,
                key=self._key,
                descending=self._descending,
                total=self._count,
            )
            self.queries += 1
            self._pages[page_no] = page
            while len(self._pages) > CACHE_PAGES:
                self._pages.popitem(last=False)
        else:
            self._pages.move_to_end(page_no)
        return page[pos] if pos < len(page) else None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section][0]
            if role == Qt.ItemDataRole.ToolTipRole and COLUMNS[section][1] is SortKey.UNRESOLVED:
                return UNCONFIRMED_TIP
            if role == Qt.ItemDataRole.TextAlignmentRole and section in _NUMERIC:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        col = index.column()
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col in _NUMERIC:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        r = self.row(index.row())
        if r is None:
            return None
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(r, col)
        return self._text(r, col)

    def _text(self, r: HistoryRow, col: int, full: bool = False) -> str:
        """A cell: page-supplied text cleaned; amounts readable (``full``: every digit)."""
        digits = None if full else 6
        money = self._ctx.money
        if col == 0:
            return r.start.astimezone(self._ctx.tz).strftime("%Y-%m-%d %H:00")
        if col == 1:
            return page_text(r.site, ADDRESS_CHARS)
        if col == 2:
            return self._provider_label(r.provider)
        if col == 3:
            return money(r.sent, r.asset, max_digits=digits)
        if col == 4:
            return money(r.delivered, r.dest_asset, max_digits=digits) if r.dest_asset else "—"
        if col == 5:
            return f"{r.packets:,}".replace(",", self._ctx.style.group)
        if col == PAYEE_COLUMN:
            return payee_text(r.payee)
        return money(r.unresolved, r.asset, max_digits=digits) if r.unresolved else ""

    def _tooltip(self, r: HistoryRow, col: int) -> str:
        if col == PAYEE_COLUMN:
            return payee_tooltip(r.payee)
        if col in (1, 2):
            return tooltip_text(r.site if col == 1 else r.provider)
        return self._text(r, col, full=True)  # full precision (and the CSV has it too)

    def _provider_label(self, origin: str) -> str:
        """A provider by name and origin ("Trickle wallet (trickle://wallet)")."""
        if self._provider_names is None:
            self._provider_names = {h.origin: h.name for h in self._ctx.service.list_handlers()}
        name = self._provider_names.get(origin)
        shown = page_text(origin, ADDRESS_CHARS)
        return f"{page_text(name)} ({shown})" if name else shown


def payee_text(payee: PayeeRecord | None) -> str:
    """Who a row's connection paid: "Alice's blog (wallet.example/alice) · USD", "· tip"."""
    if payee is None:
        return ""
    text = page_text(payee.describe(), ADDRESS_CHARS)
    if payee.asset is not None:
        text += f" · {page_text(payee.asset.code)}"
    if payee.kind is PayeeKind.TIP:
        text += " · tip"
    return text


def payee_tooltip(payee: PayeeRecord | None) -> str:
    """The wallet address, its asset and the incoming payment, in full."""
    if payee is None:
        return ""
    lines = [f"Wallet address: {payee.wallet_address or payee.href}"]
    if payee.asset is not None:
        lines.append(f"Its currency: {payee.asset.code} (scale {payee.asset.scale})")
    lines.append(f"Incoming payment: {payee.incoming_payment or 'none (paid over SPSP)'}")
    if payee.kind is PayeeKind.TIP:
        lines.append("A tip you sent.")
    return tooltip_text("; ".join(lines))
