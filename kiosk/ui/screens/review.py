"""Review every answer, change any of them, then submit.

Submitting runs in the background: the wizard's payload is committed by the store
(sealed, queued, receipt number) in one transaction; only then does the screen move on
and the receipt print. A terminal that is not enrolled, or whose disk is full, says so in
plain words and keeps the answers on screen.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtWidgets import QGridLayout, QVBoxLayout, QWidget

from forms import ServiceDefinition
from kiosk.background import run_in_background
from kiosk.ui.screens.base import Screen
from kiosk.ui.widgets.common import button, card, label
from sync.enrolment import NotEnrolled
from sync.store import StorageFull
from sync.submission import EnqueuedSubmission

log = logging.getLogger(__name__)


class ReviewScreen(Screen):
    """Every shown answer, grouped by step, each step with a "change" button."""

    name = "review"

    def __init__(self, shell: object) -> None:
        super().__init__(shell)  # type: ignore[arg-type]
        self.submitting = False
        self.problem_key = ""

    def build(self, layout: QVBoxLayout) -> None:
        """The answers, then back / submit."""
        s = self.state
        wizard = s.session.wizard
        if wizard is None:
            return
        self.header(layout, s.tr("review.title"), s.tr("review.subtitle"))
        inner = QWidget()
        column = QVBoxLayout(inner)
        column.setContentsMargins(0, 0, 8, 0)
        column.setSpacing(22)
        by_step: dict[str, list] = {}
        titles = {}
        for item in wizard.review():
            by_step.setdefault(item.step_id, []).append(item)
            titles[item.step_id] = item.step_title
        for step_id, items in by_step.items():
            frame, box = card()
            frame.setObjectName(f"review_{step_id}")
            head = QGridLayout()
            head.addWidget(label(s.text(titles[step_id]), "section"), 0, 0)
            head.addWidget(button(s.tr("review.change"), lambda sid=step_id: self.change(sid), "link",
                                  name=f"change_{step_id}"), 0, 1)
            head.setColumnStretch(0, 1)
            box.addLayout(head)
            grid = QGridLayout()
            grid.setHorizontalSpacing(28)
            grid.setVerticalSpacing(10)
            for row, item in enumerate(items):
                grid.addWidget(label(s.text(item.label), "muted"), row, 0)
                value = s.text(item.display)
                if item.prefilled:
                    value += "   " + s.tr("review.prefilled")
                grid.addWidget(label(value, "", name=f"value_{item.field_id}"), row, 1)
            grid.setColumnStretch(1, 1)
            grid.setColumnMinimumWidth(0, 260)
            box.addLayout(grid)
            column.addWidget(frame)
        column.addStretch(1)
        layout.addWidget(self.scroll(inner), 1)

        self.error = label(s.tr(self.problem_key) if self.problem_key else "", "banner-error", name="error")
        self.error.setVisible(bool(self.problem_key))
        layout.addWidget(self.error)
        row = self.footer(layout)
        row.addWidget(button(s.tr("common.back"), self.back, name="back"))
        row.addWidget(button(s.tr("form.cancel"), self.shell.ask_cancel, "danger", name="cancel"))
        row.addStretch(1)
        self.submit_button = button(s.tr("review.submitting" if self.submitting else "review.submit"),
                                    self.submit, "primary", name="submit")
        self.submit_button.setEnabled(not self.submitting)
        row.addWidget(self.submit_button)

    def change(self, step_id: str) -> None:
        """Back to a step; "next" there returns here."""
        session = self.state.session
        if session.wizard is None:
            return
        session.wizard.go_to(step_id)
        session.return_to_review = True
        self.shell.go("form")

    def back(self) -> None:
        """The last step of the form."""
        session = self.state.session
        if session.wizard is not None:
            session.wizard.back()
        session.return_to_review = False
        self.shell.go("form")

    def submit(self) -> None:
        """Commit the submission in the background."""
        session = self.state.session
        wizard, service = session.wizard, session.service
        if self.submitting or wizard is None or service is None:
            return
        try:
            payload = wizard.payload()
        except ValueError:
            log.warning("review: the answers are not complete; back to the form")
            self.change(wizard.visible_steps[0].id)
            return
        wanted = referenced_files(service, payload)
        files = [f for sha, f in session.files.items() if sha in wanted]
        self.submitting = True
        self.problem_key = ""
        self.submit_button.setEnabled(False)
        self.submit_button.setText(self.state.tr("review.submitting"))
        self.error.hide()
        backend, demo = self.state.backend, self.state.demo
        started = session.started
        seconds = time.monotonic() - started if started is not None else None
        run_in_background(lambda: backend.submit(service, payload, files, is_test=demo, session_seconds=seconds),
                          on_done=self._submitted, on_error=self._failed, context=self, name="submit")

    def _submitted(self, result: EnqueuedSubmission) -> None:
        self.submitting = False
        self.shell.submitted(result)

    def _failed(self, exc: BaseException) -> None:
        self.submitting = False
        if isinstance(exc, NotEnrolled):
            self.problem_key = "review.not_enrolled"
        elif isinstance(exc, StorageFull):  # the store logged the details for the technician
            self.problem_key = "review.disk_full"
        else:
            self.problem_key = "review.failed"
            log.error("submission failed: %s: %s", type(exc).__name__, exc)
        self.render()

    def clear_session(self) -> None:
        """A new citizen."""
        self.submitting = False
        self.problem_key = ""


def referenced_files(service: ServiceDefinition, payload: dict[str, Any]) -> set[str]:
    """SHA-256 of every file the payload refers to (scans of shown fields, the signature).

    The store wants exactly these: a page scanned for a question later hidden is left out.
    """
    wanted: set[str] = set()
    for f in service.fields:
        value = payload.get(f.id)
        if f.type == "attachment" and isinstance(value, list):
            wanted.update(ref["sha256"] for ref in value)
        elif f.type == "signature" and isinstance(value, dict):
            wanted.add(value["sha256"])
    return wanted
