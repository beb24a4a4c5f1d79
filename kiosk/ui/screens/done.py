"""After the submission: the receipt number (while the receipt prints), then the rating."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QVBoxLayout

from kiosk.background import run_in_background
from kiosk.ui.backend import PrintOutcome
from kiosk.ui.screens.base import Screen
from kiosk.ui.widgets.common import button, card, fit_one_line, label

log = logging.getLogger(__name__)

SCORES = (5, 4, 3, 2, 1)
LOW_SCORE = 2  # 1 and 2 ask for reasons
REASONS = ("slow", "unclear", "hard_to_use", "too_many_materials", "device_problem", "staff_attitude")


class SubmittedScreen(Screen):
    """"Submitted": the receipt number large, and what the printer did."""

    name = "submitted"

    def build(self, layout: QVBoxLayout) -> None:
        """Success, receipt number, print state, next steps."""
        s = self.state
        submission = s.session.submission
        service = s.session.service
        if submission is None or service is None:
            return
        layout.addSpacing(10)
        layout.addWidget(label("✓ " + s.tr("done.title"), "hero", name="title"))
        layout.addWidget(label(s.text(service.name), "subtitle"))
        frame, box = card(margins=40)
        box.addWidget(label(s.tr("done.receipt_label"), "section"))
        number = fit_one_line(label(submission.receipt_no, "receipt", wrap=False, name="receipt_no"),
                              self.shell.width() - 2 * self.margin - 80)
        number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        number.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        box.addWidget(number)
        outcome = s.session.print_outcome
        if outcome is None:
            key, role = "done.printing", "muted"
        elif outcome.printed:
            key, role = "done.printed", "ok"
        else:
            key, role = "done.print_failed", "error"
        box.addWidget(label(s.tr(key), role, name="print_state"))
        if submission.is_test:
            box.addWidget(label(s.tr("done.demo_note"), "muted"))
        layout.addWidget(frame)
        g = service.guide
        frame, box = card()
        box.addWidget(label(s.tr("done.next_title"), "section"))
        if g.kiosk_note is not None:
            box.addWidget(label("• " + s.text(g.kiosk_note)))
        if g.promised_working_days:
            box.addWidget(label("• " + s.tr("done.days", days=g.promised_working_days)))
        box.addWidget(label("• " + s.tr("done.keep_receipt")))
        layout.addWidget(frame)
        layout.addStretch(1)
        row = self.footer(layout)
        row.addStretch(1)
        row.addWidget(button(s.tr("done.finish"), lambda: self.shell.go("rating"), "primary", name="finish"))

    def start_printing(self) -> None:
        """Print the receipt in the background; the screen shows how it went."""
        s = self.state
        session = s.session
        submission, service = session.submission, session.service
        if submission is None or service is None:
            return
        scanned = {f.material for f in service.fields
                   if f.type == "attachment" and f.material and session.wizard is not None
                   and session.wizard.answer(f.id)}
        hall = (s.hall.name_zh, s.hall.name_en)
        backend = s.backend
        run_in_background(lambda: backend.print_receipt(submission, service, scanned, hall),
                          on_done=self._printed, context=self, name="print receipt",
                          on_error=lambda exc: self._printed(PrintOutcome(False, error=str(exc))))

    def _printed(self, outcome: PrintOutcome) -> None:
        session = self.state.session
        if session.submission is None:  # the citizen left already
            return
        session.print_outcome = outcome
        self.shell.printer_changed(outcome.printed)
        if self.shell.current_name() == self.name:
            self.render()


class RatingScreen(Screen):
    """好差评: five levels; the two lowest ask what went wrong (predefined reasons only)."""

    name = "rating"

    def __init__(self, shell: object) -> None:
        super().__init__(shell)  # type: ignore[arg-type]
        self.score: int | None = None
        self.reasons: set[str] = set()
        self.thanked = False

    def build(self, layout: QVBoxLayout) -> None:
        """The question, five buttons, reasons for a low score, send / skip."""
        s = self.state
        if self.thanked:
            layout.addStretch(1)
            thanks = label(s.tr("rating.thanks"), "hero", name="thanks")
            thanks.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(thanks)
            layout.addStretch(1)
            row = self.footer(layout)
            row.addStretch(1)
            row.addWidget(button(s.tr("common.home"), self.shell.home, "primary", name="home"))
            row.addStretch(1)
            return
        self.header(layout, s.tr("rating.title"), s.tr("rating.subtitle"))
        grid = QGridLayout()
        grid.setSpacing(18)
        wide = self.shell.width() >= 1500
        for index, score in enumerate(SCORES):
            stars = "★" * score + "☆" * (5 - score)
            widget = button(f"{stars}\n{s.tr(f'rating.score{score}')}", lambda sc=score: self.choose(sc),
                            "choice", checkable=True, name=f"score_{score}")
            widget.setMinimumHeight(150)
            widget.setChecked(self.score == score)
            if wide:
                grid.addWidget(widget, 0, index)
            else:
                grid.addWidget(widget, index // 3, index % 3)
        layout.addLayout(grid)
        if self.score is not None and self.score <= LOW_SCORE:
            layout.addWidget(label(s.tr("rating.why"), "section"))
            reasons = QGridLayout()
            reasons.setSpacing(14)
            for index, reason in enumerate(REASONS):
                widget = button(s.tr(f"rating.reason.{reason}"), lambda r=reason: self.toggle(r), "choice",
                                checkable=True, name=f"reason_{reason}")
                widget.setChecked(reason in self.reasons)
                reasons.addWidget(widget, index // 3, index % 3)
            layout.addLayout(reasons)
        layout.addStretch(1)
        row = self.footer(layout)
        row.addWidget(button(s.tr("rating.skip"), self.shell.home, name="skip"))
        row.addStretch(1)
        send = button(s.tr("rating.send"), self.send, "primary", name="send")
        send.setEnabled(self.score is not None)
        row.addWidget(send)

    def choose(self, score: int) -> None:
        """Pick a level."""
        self.score = score
        if score > LOW_SCORE:
            self.reasons.clear()
        self.render()

    def toggle(self, reason: str) -> None:
        """Tick or untick a reason."""
        self.reasons ^= {reason}

    def send(self) -> None:
        """Store the rating in the background, thank the citizen."""
        session = self.state.session
        if self.score is None or session.service is None:
            return
        service_id = session.service.id
        receipt_no = session.submission.receipt_no if session.submission else None
        score, tags = self.score, sorted(self.reasons)
        backend = self.state.backend
        run_in_background(lambda: backend.record_rating(service_id, score, receipt_no, tags),
                          on_error=lambda exc: log.error("rating not stored: %s", exc), name="record rating")
        self.thanked = True
        self.render()

    def clear_session(self) -> None:
        """A new citizen."""
        self.score = None
        self.reasons = set()
        self.thanked = False
