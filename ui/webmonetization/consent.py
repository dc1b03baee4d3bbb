"""The native consent dialog for ``register()`` and the queue that shows one at a time.

Against a hostile page (clickjacking, spam, spoofing):

* The calling origin is the biggest text; the handler URL follows in plain size; hosts in ASCII
  (IDN as punycode) and elided from the front so the registrable end stays visible.
* The page-supplied name is plain text (``Qt.TextFormat.PlainText``, never rich text), stripped
  of control characters and capped at ``MAX_SHOWN_NAME`` characters.
* Both buttons are disabled for the first ~500 ms (``arm`` decides when; injectable for tests).
  There is no default button and Return/Enter are swallowed: a key press never accepts. Escape
  and closing the window decline.
* ``ConsentPrompter`` is the PromptQueue: one dialog at a time; a question equal to one already
  shown or queued (same page, origin, URL and name) is coalesced onto it; ``abort_page`` cancels
  everything a page asked (navigation, tab close) with ``Answer.CANCELLED``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Qt, QTimer, QUrl
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.plain_text import NAME_CHARS, page_text
from ui.webmonetization.origins import display_host, display_url
from ui.webmonetization.register import Answer, RegisterRequest

INERT_MS = 500
TITLE = "Payment provider?"
MAX_SHOWN_NAME = NAME_CHARS

# ``arm(dialog, callback)``: call ``callback`` once the inert period is over.
Arm = Callable[[QObject, Callable[[], None]], None]


def default_arm(owner: QObject, callback: Callable[[], None]) -> None:
    QTimer.singleShot(INERT_MS, owner, callback)


def shown_name(name: str) -> str:
    """The page-supplied name as the dialog shows it: one line, no controls, capped."""
    return page_text(name, MAX_SHOWN_NAME)


def _plain_label(text: str, parent: QWidget, object_name: str) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    label.setText(text)
    label.setObjectName(object_name)
    return label


class ConsentDialog(QDialog):
    """The question: may ORIGIN become the payment provider? Allow / Don't allow."""

    def __init__(self, request: RegisterRequest, arm: Arm, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.answer: Answer | None = None
        self.setWindowTitle(TITLE)
        # Wide enough that no window manager has to cut the title.
        self.setMinimumWidth(max(460, self.fontMetrics().horizontalAdvance(TITLE) * 2 + 160))
        origin_url = QUrl(request.origin)
        handler_url = QUrl(request.handler_uri)

        self.origin_label = _plain_label(display_host(origin_url), self, "origin")
        font = self.origin_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.6)
        self.origin_label.setFont(font)  # the origin: the biggest text in the dialog
        self.question_label = _plain_label(
            "wants to become your payment provider. It would pay the sites you choose to "
            "support from your Trickle wallet, through this handler:",
            self,
            "question",
        )
        self.question_label.setWordWrap(True)
        self.handler_label = _plain_label(display_url(handler_url), self, "handler")
        self.handler_label.setStyleSheet("color: #444;")  # plain size: the URL is detail
        self.name_label = _plain_label(f"It calls itself: {shown_name(request.name)}", self, "name")
        self.allow_button = QPushButton("Allow", self)
        self.deny_button = QPushButton("Don't allow", self)
        for button in (self.allow_button, self.deny_button):
            button.setAutoDefault(False)
            button.setDefault(False)
            button.setEnabled(False)
        self.allow_button.clicked.connect(self._allow)
        self.deny_button.clicked.connect(self._deny)

        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.deny_button)
        buttons.addWidget(self.allow_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.origin_label)
        layout.addWidget(self.question_label)
        layout.addWidget(self.handler_label)
        layout.addWidget(self.name_label)
        layout.addLayout(buttons)
        self.deny_button.setFocus()  # keyboard focus never starts on Allow
        arm(self, self._arm)

    def _arm(self) -> None:
        self.allow_button.setEnabled(True)
        self.deny_button.setEnabled(True)
        self.deny_button.setFocus()

    def is_armed(self) -> bool:
        return self.allow_button.isEnabled()

    def _allow(self) -> None:
        if self.is_armed():
            self.answer = Answer.ACCEPTED
            self.accept()

    def _deny(self) -> None:
        self.answer = Answer.DECLINED
        self.reject()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # Qt override
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()  # never accepts, never triggers a button
            return
        super().keyPressEvent(event)

    def reject(self) -> None:
        if self.answer is None:
            self.answer = Answer.DECLINED
        super().reject()

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt override
        if self.answer is None:
            self.answer = Answer.DECLINED
        super().closeEvent(event)


@dataclass
class _Question:
    page: Hashable
    request: RegisterRequest
    waiters: list[Callable[[Answer], None]] = field(default_factory=list)

    def key(self) -> tuple[Hashable, RegisterRequest]:
        return (self.page, self.request)


class ConsentPrompter:
    """The PromptQueue for consent questions (GUI thread only)."""

    def __init__(
        self,
        arm: Arm = default_arm,
        parent_for: Callable[[Hashable], QWidget | None] = lambda _page: None,
    ) -> None:
        self._arm = arm
        self._parent_for = parent_for
        self._queue: list[_Question] = []
        self._current: _Question | None = None
        self._dialog: ConsentDialog | None = None

    def current_dialog(self) -> ConsentDialog | None:
        return self._dialog

    def pending_count(self) -> int:
        return len(self._queue) + (1 if self._current else 0)

    def ask(self, page: Hashable, request: RegisterRequest, done: Callable[[Answer], None]) -> None:
        """Queue a question from ``page``; ``done`` gets the answer exactly once."""
        for q in ([self._current] if self._current else []) + self._queue:
            if q.key() == (page, request):
                q.waiters.append(done)
                return
        self._queue.append(_Question(page, request, [done]))
        self._show_next()

    def abort_page(self, page: Hashable) -> None:
        """Cancel every question ``page`` asked (navigation or tab closing)."""
        dropped = [q for q in self._queue if q.page == page]
        self._queue = [q for q in self._queue if q.page != page]
        for q in dropped:
            _answer_all(q, Answer.CANCELLED)
        if self._current is not None and self._current.page == page and self._dialog:
            self._dialog.answer = Answer.CANCELLED
            self._dialog.reject()

    def _show_next(self) -> None:
        if self._current is not None or not self._queue:
            return
        self._current = self._queue.pop(0)
        dialog = ConsentDialog(
            self._current.request, self._arm, self._parent_for(self._current.page)
        )
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.finished.connect(lambda _result: self._finished(dialog))
        self._dialog = dialog
        dialog.show()

    def _finished(self, dialog: ConsentDialog) -> None:
        question = self._current
        if dialog is not self._dialog or question is None:
            return
        self._current = None
        self._dialog = None
        _answer_all(question, dialog.answer or Answer.DECLINED)
        self._show_next()


def _answer_all(question: _Question, answer: Answer) -> None:
    waiters, question.waiters = question.waiters, []
    for done in waiters:
        done(answer)
