"""Status look-up: scan the receipt's QR code (or type its number) and see where the case is.

Works at any kiosk, online or not: the central platform is asked when it can be reached
(a few seconds at most); otherwise the last status pulled by the sync engine is shown with
its time, and a receipt made on this terminal but not sent yet says so. A typed number is
checked by its check character before anything is looked up, so a typo gets a plain
message instead of "not found".
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout

from kiosk.background import run_in_background
from kiosk.ui.backend import LookUpsLimited, StatusAnswer
from kiosk.ui.screens.base import Screen
from kiosk.ui.widgets.common import button, card, fit_one_line, label
from kiosk.ui.widgets.keypad import AlphanumericKeypad
from sync.receipt import InvalidReceiptNumber, ReceiptNumber

log = logging.getLogger(__name__)

KNOWN_STATUSES = ("received", "in_review", "more_info_needed", "approved", "rejected", "ready_for_collection",
                  "completed", "withdrawn", "waiting", "unknown")


class StatusScreen(Screen):
    """查询进度: scan or type, then the answer."""

    name = "status"

    def __init__(self, shell: object) -> None:
        super().__init__(shell)  # type: ignore[arg-type]
        self.clear_session()

    def clear_session(self) -> None:
        """Forget the last look-up (a new citizen)."""
        self.typed = ""
        self.problem_key = ""
        self.looking_up = False
        self.answer: StatusAnswer | None = None

    def build(self, layout: QVBoxLayout) -> None:
        """The answer if there is one, else the ways to ask."""
        if self.answer is not None:
            self._build_answer(layout)
        else:
            self._build_question(layout)

    def _build_question(self, layout: QVBoxLayout) -> None:
        s = self.state
        self.header(layout, s.tr("status.title"))
        body = QHBoxLayout() if self.shell.width() >= 1500 else QVBoxLayout()
        body.setSpacing(32)

        frame, box = card(margins=36)
        frame.setObjectName("scan_receipt")
        box.addWidget(label(s.tr("status.scan_title"), "section"))
        box.addWidget(label(s.tr("status.scan_hint")))
        if s.demo:
            box.addWidget(label(s.tr("status.demo_hint"), "muted"))
            box.addWidget(button(s.tr("status.demo_scan_last"), self.shell.demo_scan_last_receipt, "primary",
                                 name="demo_scan_receipt"))
        self.busy = label(s.tr("status.looking_up") if self.looking_up else "", "muted", name="busy")
        box.addWidget(self.busy)
        box.addStretch(1)
        body.addWidget(frame, 2)

        frame, box = card(margins=36)
        frame.setObjectName("typed_receipt")
        box.addWidget(label(s.tr("status.type_title"), "section"))
        self.entry = QLineEdit(self.typed)
        self.entry.setObjectName("receipt_entry")
        self.entry.setMaxLength(40)
        self.entry.setPlaceholderText(s.tr("status.type_placeholder"))
        self.entry.textChanged.connect(self._typed)
        box.addWidget(self.entry)
        self.keypad = AlphanumericKeypad(clear_text=s.tr("keypad.clear"))
        self.keypad.set_target(self.entry)
        box.addWidget(self.keypad)
        self.error = label(s.tr(self.problem_key) if self.problem_key else "", "error", name="error")
        self.error.setVisible(bool(self.problem_key))
        box.addWidget(self.error)
        box.addStretch(1)
        body.addWidget(frame, 3)
        layout.addLayout(body, 1)

        row = self.footer(layout)
        row.addWidget(button(s.tr("common.home"), self.shell.home, name="home"))
        row.addStretch(1)
        row.addWidget(button(s.tr("status.look_up"), self.look_up_typed, "primary", name="look_up"))
        self.entry.setFocus()

    def _build_answer(self, layout: QVBoxLayout) -> None:
        s = self.state
        answer = self.answer
        assert answer is not None
        status = answer.status if answer.status in KNOWN_STATUSES else "other"
        self.header(layout, s.tr("status.result_title"))
        frame, box = card(margins=40)
        box.addWidget(label(s.tr("status.receipt_label"), "section"))
        number = fit_one_line(label(answer.receipt_no, "receipt", wrap=False, name="receipt_no"),
                              self.shell.width() - 2 * self.margin - 80)
        number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(number)
        service = next((x for x in self.state.catalog.services if x.id == answer.service_id), None)
        if service is not None:
            box.addWidget(label(s.text(service.name), "subtitle", name="service"))
        box.addWidget(label(s.tr(f"status.state.{status}", status=answer.status), "hero", name="state"))
        box.addWidget(label(s.tr(f"status.explain.{status}"), "", name="explain"))
        if answer.note:
            box.addWidget(label(s.tr("status.note", note=answer.note), "", name="note"))
        if answer.updated_at is not None:
            when = answer.updated_at.astimezone().strftime("%Y-%m-%d %H:%M")
            key = {"online": "status.source_online", "cache": "status.source_cache"}.get(answer.source,
                                                                                         "status.source_local")
            box.addWidget(label(s.tr(key, when=when), "muted", name="source"))
        layout.addWidget(frame)
        layout.addStretch(1)
        row = self.footer(layout)
        row.addWidget(button(s.tr("status.again"), self.again, name="again"))
        row.addStretch(1)
        row.addWidget(button(s.tr("common.home"), self.shell.home, "primary", name="home"))

    # --- actions -----------------------------------------------------------------------------

    def _typed(self, text: str) -> None:
        self.typed = text
        if self.problem_key:
            self.problem_key = ""
            self.error.hide()

    def look_up_typed(self) -> None:
        """Check the typed number's check character, then look it up."""
        try:
            receipt = ReceiptNumber.validate(self.typed)
        except InvalidReceiptNumber:
            self._problem("status.error_invalid")
            return
        self.look_up(receipt)

    def look_up(self, receipt_no: str) -> None:
        """Ask (in the background) and show the answer."""
        if self.looking_up:
            return
        self.looking_up = True
        if self.content is not None and self.answer is None:
            self.busy.setText(self.state.tr("status.looking_up"))
        backend = self.state.backend
        run_in_background(lambda: backend.lookup_status(receipt_no), on_done=self._answered,
                          on_error=self._failed, context=self, name="status look-up")

    def _answered(self, answer: StatusAnswer) -> None:
        self.looking_up = False
        self.answer = answer
        self.render()
        self.shell.speak_screen()

    def _failed(self, exc: BaseException) -> None:
        self.looking_up = False
        if isinstance(exc, LookUpsLimited):
            log.warning("status look-up refused: %s", exc)
            self._problem("status.error_limited")
            return
        log.error("status look-up failed: %s", exc)
        self._problem("status.error_failed")

    def _problem(self, key: str) -> None:
        self.problem_key = key
        if self.content is not None and self.answer is None:
            self.error.setText(self.state.tr(key))
            self.error.show()
            self.shell.speak(self.state.tr(key))

    def again(self) -> None:
        """Look up another receipt."""
        self.clear_session()
        self.render()

    def instruction(self) -> str:
        """What voice guidance reads on this screen."""
        s = self.state
        if self.answer is not None:
            status = self.answer.status if self.answer.status in KNOWN_STATUSES else "other"
            return s.tr(f"status.state.{status}", status=self.answer.status) + "。" + s.tr(f"status.explain.{status}")
        return s.tr("status.subtitle")
