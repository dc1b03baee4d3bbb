"""Providers: registered handlers, which one is active; switch, remove, add the built-in one."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.plain_text import ADDRESS_CHARS, NAME_CHARS, page_text, tooltip_text
from ui.wallet.context import (
    BUILTIN_HANDLER_URI,
    BUILTIN_PROVIDER_NAME,
    BUILTIN_PROVIDER_ORIGIN,
    WalletContext,
)
from ui.wallet.pages.base import Page, cell, heading, table, text_at

HEADERS = ["Active", "Name", "Registered by", "Handler", "Since"]


class ProvidersPage(Page):
    title = "Providers"

    def __init__(self, ctx: WalletContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.table = table("Payment providers", HEADERS, self)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.activate = QPushButton("Make &active", self)
        self.activate.setAccessibleName("Make the selected provider active")
        self.activate.clicked.connect(self.activate_selected)
        self.remove = QPushButton("&Remove", self)
        self.remove.setAccessibleName("Remove the selected provider")
        self.remove.clicked.connect(self.remove_selected)
        self.add_builtin = QPushButton("Add the &built-in provider", self)
        self.add_builtin.setAccessibleName("Add the built-in provider")
        self.add_builtin.clicked.connect(self.add_builtin_provider)
        self.note = QLabel(self)
        self.note.setWordWrap(True)
        self.note.setTextFormat(Qt.TextFormat.PlainText)
        self.note.setAccessibleName("Providers note")
        buttons = QHBoxLayout()
        buttons.addWidget(self.activate)
        buttons.addWidget(self.remove)
        buttons.addStretch(1)
        buttons.addWidget(self.add_builtin)
        layout = QVBoxLayout(self)
        layout.addWidget(heading("Payment providers", self))
        layout.addWidget(self.note)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        ctx.events.handlers_changed.connect(lambda _ev: self.refresh())

    def refresh(self) -> None:
        handlers = self.ctx.service.list_handlers()
        selected = self.selected_id()
        self.table.setRowCount(0)
        for h in handlers:
            r = self.table.rowCount()
            self.table.insertRow(r)
            since = h.registered_at.astimezone(self.ctx.tz).strftime("%Y-%m-%d")
            shown = (
                "● active" if h.active else "",
                page_text(h.name, NAME_CHARS),
                page_text(h.origin, ADDRESS_CHARS),
                page_text(h.handler_uri, ADDRESS_CHARS),
                since,
            )
            for c, text in enumerate(shown):
                item = cell(text, key=h.id)
                if c in (1, 2, 3):
                    item.setToolTip(tooltip_text((h.name, h.origin, h.handler_uri)[c - 1]))
                self.table.setItem(r, c, item)
            if h.id == selected:
                self.table.selectRow(r)
        active = next((h for h in handlers if h.active), None)
        self.note.setText(
            f"Sites are paid through {page_text(active.name)} "
            f"({page_text(active.origin, ADDRESS_CHARS)})."
            if active
            else "No provider is active: sites cannot be paid. Make one active or add the "
            "built-in provider."
        )
        builtin = any(
            h.origin == BUILTIN_PROVIDER_ORIGIN and h.handler_uri == BUILTIN_HANDLER_URI
            for h in handlers
        )
        self.add_builtin.setEnabled(not builtin)
        self._update_buttons()

    def selected_id(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        item = self.table.item(rows[0].row(), 0)
        return int(item.data(Qt.ItemDataRole.UserRole)) if item else None

    def select_name(self, name: str) -> bool:
        for r in range(self.table.rowCount()):
            if text_at(self.table, r, 1) == page_text(name, NAME_CHARS):
                self.table.selectRow(r)
                return True
        return False

    def _update_buttons(self) -> None:
        hid = self.selected_id()
        self.remove.setEnabled(hid is not None)
        active = hid is not None and text_at(self.table, self.table.currentRow(), 0) != ""
        self.activate.setEnabled(hid is not None and not active)

    def activate_selected(self) -> None:
        if (hid := self.selected_id()) is not None:
            self.ctx.service.activate_handler(hid)

    def remove_selected(self) -> None:
        if (hid := self.selected_id()) is not None:
            self.ctx.service.remove_handler(hid)

    def add_builtin_provider(self) -> None:
        self.ctx.service.register_handler(
            BUILTIN_PROVIDER_ORIGIN, BUILTIN_PROVIDER_NAME, BUILTIN_HANDLER_URI
        )
