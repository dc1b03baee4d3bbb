"""Text a page supplied is plain text everywhere (issue 20, item 4): hostile provider names,
handler URIs and site keys — HTML, bidi overrides, zero-width and invisible characters, 5,000
characters — go through every wallet view, the popover, the indicator's tooltip and the consent
dialog, on a real database. None is rendered as rich text, none keeps an invisible or
direction-changing character, none is shown longer than its cap."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractItemModel, Qt
from PySide6.QtGui import Qt as QtGui
from PySide6.QtWidgets import QAbstractItemView, QComboBox, QLabel, QWidget

from tests.qt.wallet.seed import NOW, USD
from ui.plain_text import ADDRESS_CHARS, TOOLTIP_CHARS
from ui.wallet.context import WalletContext
from ui.wallet.pages.base import text_at
from ui.wallet.popover import SitePopover
from ui.wallet.window import WalletWindow
from ui.webmonetization.consent import ConsentDialog
from ui.webmonetization.register import RegisterRequest
from wallet.budgets import SitePolicy
from wallet.store import database_path, open_store
from wallet.store.engine import transaction
from wallet.store.history import HistoryDelta, hour_of, record

VERIFIED = "<h1 style='font-size:40pt'>✔ VERIFIED BANK</h1><img src=x onerror=alert(1)>"
HOSTILE_NAMES = [
    VERIFIED,
    "Good\u202eknaB liveE\u202c Provider",  # a right-to-left override
    "pay\u200bpal\u200d\u2060\ufeff",  # zero-width characters
    "in\u2063vis\u2064ible\u00ad\u180e",  # invisible separators
    "L" * 5000,
]
HOSTILE_SITE = "https://evil.example/\u202e<b>moc.knab</b>\u200b" + "x" * 5000
HOSTILE_PROVIDER = "https://provider.example/<i>\u202eevil</i>"
FORBIDDEN = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200b\u200c\u200d")
FORBIDDEN |= set("\u200e\u200f\u2060\u2063\u2064\ufeff\u00ad\u180e")


def seed_hostile(ctx: WalletContext, profile: Path) -> None:
    svc = ctx.service
    for i, name in enumerate(HOSTILE_NAMES):
        origin = f"https://h{i}.example"
        svc.register_handler(origin, name, f"{origin}/handler?<script>{'q' * 1500}")
    svc.register_handler(HOSTILE_PROVIDER, VERIFIED, f"{HOSTILE_PROVIDER}/handler")
    svc.set_site_policy(SitePolicy(HOSTILE_SITE, cap_month=1_000_000_000))
    engine = open_store(database_path(profile))
    with transaction(engine) as conn:
        record(
            conn,
            [
                HistoryDelta(
                    site=HOSTILE_SITE,
                    provider=HOSTILE_PROVIDER,
                    asset=USD,
                    hour=hour_of(NOW) - 1,
                    sent=123_456_789,
                    packets=3,
                )
            ],
        )
    engine.dispose()
    svc.flush()


def shown_texts(root: QWidget) -> list[tuple[str, str, bool]]:
    """(where, text, may be rich) for every label, item, combo entry and tooltip under root."""
    out: list[tuple[str, str, bool]] = []
    for label in root.findChildren(QLabel):
        rich = label.textFormat() != Qt.TextFormat.PlainText
        out.append((f"label {label.accessibleName()!r}", label.text(), rich))
    for w in [root, *root.findChildren(QWidget)]:
        if w.toolTip():
            out.append((f"tooltip of {w.accessibleName()!r}", w.toolTip(), True))
    for combo in root.findChildren(QComboBox):
        for i in range(combo.count()):
            out.append(("combo item", combo.itemText(i), False))
    for view in root.findChildren(QAbstractItemView):
        model = view.model()
        if isinstance(model, QAbstractItemModel):
            out += model_texts(model)
    return out


def model_texts(model: QAbstractItemModel) -> list[tuple[str, str, bool]]:
    out: list[tuple[str, str, bool]] = []
    for r in range(min(model.rowCount(), 200)):
        for c in range(model.columnCount()):
            index = model.index(r, c)
            for role, rich in (
                (Qt.ItemDataRole.DisplayRole, False),
                (Qt.ItemDataRole.ToolTipRole, True),
            ):
                value = model.data(index, role)
                if isinstance(value, str) and value:
                    out.append((f"cell {r},{c}", value, rich))
    return out


def assert_safe(texts: list[tuple[str, str, bool]]) -> None:
    for where, text, may_be_rich in texts:
        bad = FORBIDDEN & set(text)
        assert not bad, f"{where} shows invisible or bidi characters {bad!r}: {text[:80]!r}"
        if may_be_rich and QtGui.mightBeRichText(text):
            # Rich text is allowed only as our escaped wrapper: no tag from the page survives.
            assert text.startswith("<qt>"), f"{where} would render HTML: {text[:80]!r}"
            body = text[len("<qt>") : -len("</qt>")]
            assert "<" not in body, f"{where} would render HTML: {text[:80]!r}"
            assert len(body) <= TOOLTIP_CHARS * 6, where
        else:
            assert len(text) <= max(ADDRESS_CHARS * 2, 400), f"{where}: {len(text)} characters"


def test_hostile_names_are_plain_text_in_every_wallet_view(
    qtbot: Any, window: WalletWindow, ctx: WalletContext, profile: Path, artifacts: Path
) -> None:
    seed_hostile(ctx, profile)
    for name, page in window.pages.items():
        window.show_page(name)
        page.refresh()
        qtbot.wait(10)
        texts = [(f"{name}: {where}", t, rich) for where, t, rich in shown_texts(page)]
        assert_safe(texts)
        assert window.grab().save(str(artifacts / f"hostile-wallet-{name}.png"))
    # The pages really show the hostile rows (else the test proves nothing).
    providers = window.providers
    names = [text_at(providers.table, r, 1) for r in range(providers.table.rowCount())]
    assert (
        "<h1 style='font-size:40pt'>✔ VERIFIED BANK</h1><img src=x onerror=alert(1)>"[:63] + "…"
        in names
    )
    assert "Good knaB liveE Provider" in names  # the override is gone, the letters stay
    assert "paypal" not in names and "pay pal" in names  # visible gap, nothing hidden
    assert any(n.startswith("LLLL") and len(n) == 64 for n in names)
    assert HOSTILE_SITE in window.sites.sites()


def test_hostile_site_in_the_popover_and_consent_dialog(
    qtbot: Any, ctx: WalletContext, profile: Path, artifacts: Path
) -> None:
    seed_hostile(ctx, profile)
    pop = SitePopover(ctx)
    qtbot.addWidget(pop)
    pop.show_site(HOSTILE_SITE)
    assert_safe(shown_texts(pop))
    assert pop.title.textFormat() == Qt.TextFormat.PlainText
    assert len(pop.title.text()) == ADDRESS_CHARS
    for name in HOSTILE_NAMES:
        request = RegisterRequest("https://h0.example", name, "https://h0.example/handler")
        dialog = ConsentDialog(request, lambda _owner, _cb: None)
        qtbot.addWidget(dialog)
        assert_safe(shown_texts(dialog))
        assert dialog.name_label.textFormat() == Qt.TextFormat.PlainText
    assert dialog.grab().save(str(artifacts / "hostile-consent-dialog.png"))
