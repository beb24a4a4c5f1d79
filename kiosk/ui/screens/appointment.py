"""Appointment check-in and walk-in queue tickets (预约签到 / 取号).

A citizen who booked online shows the appointment QR code (on their phone or printed) to
the scanner; the code is verified offline (the platform's signature, the time window,
not used before — :mod:`sync.checkin`), the check-in is recorded, and a queue ticket is
printed. A refused code gets its reason in plain words and the way on: take a walk-in
ticket, or ask at the help desk. Without an appointment, a citizen takes a ticket for a
service category.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QVBoxLayout

from kiosk.background import run_in_background
from kiosk.ui.backend import PrintOutcome
from kiosk.ui.screens.base import Screen
from kiosk.ui.widgets.common import button, card, expanding, label
from sync.checkin import CheckinRefused

log = logging.getLogger(__name__)


class AppointmentScreen(Screen):
    """Scan the appointment, or take a number; then the ticket."""

    name = "appointment"

    def __init__(self, shell: object) -> None:
        super().__init__(shell)  # type: ignore[arg-type]
        self.clear_session()

    def clear_session(self) -> None:
        """Forget the last ticket (a new citizen)."""
        self.busy = False
        self.walk_in = False
        self.refusal: CheckinRefused | None = None
        self.ticket: Any = None
        self.printed: PrintOutcome | None = None

    def build(self, layout: QVBoxLayout) -> None:
        """The ticket, a refusal, the categories for a walk-in, or the ways in."""
        if self.ticket is not None:
            self._build_ticket(layout)
        elif self.walk_in:
            self._build_categories(layout)
        else:
            self._build_question(layout)

    def _build_question(self, layout: QVBoxLayout) -> None:
        s = self.state
        self.header(layout, s.tr("appointment.title"), s.tr("appointment.subtitle"))
        body = QHBoxLayout() if self.shell.width() >= 1500 else QVBoxLayout()
        body.setSpacing(32)
        frame, box = card(margins=36)
        frame.setObjectName("scan_appointment")
        box.addWidget(label(s.tr("appointment.scan_title"), "section"))
        box.addWidget(label(s.tr("appointment.scan_hint")))
        if self.refusal is not None:
            box.addWidget(label(self.refusal.message(s.lang), "banner-error", name="refusal"))
        self.busy_label = label(s.tr("appointment.checking") if self.busy else "", "muted", name="busy")
        box.addWidget(self.busy_label)
        if s.demo and self.shell.demo_appointment is not None:
            box.addWidget(label(s.tr("appointment.demo_hint"), "muted"))
            box.addWidget(button(s.tr("appointment.demo_scan"), self.demo_scan, "primary", name="demo_appointment"))
        box.addStretch(1)
        body.addWidget(frame, 3)
        frame, box = card(margins=36)
        frame.setObjectName("walk_in")
        box.addWidget(label(s.tr("appointment.walk_in_title"), "section"))
        box.addWidget(label(s.tr("appointment.walk_in_hint")))
        box.addStretch(1)
        box.addWidget(button(s.tr("appointment.walk_in"), self.choose_walk_in, "primary", name="walk_in"))
        body.addWidget(frame, 2)
        layout.addLayout(body, 1)
        row = self.footer(layout)
        row.addWidget(button(s.tr("common.home"), self.shell.home, name="home"))
        row.addStretch(1)

    def _build_categories(self, layout: QVBoxLayout) -> None:
        s = self.state
        self.header(layout, s.tr("appointment.categories_title"), s.tr("appointment.categories_hint"))
        grid = QGridLayout()
        grid.setSpacing(24)
        columns = 2 if self.shell.width() < 1500 else 3
        for index, category in enumerate(s.catalog.categories):
            tile = expanding(button(s.text(category.name), lambda c=category.id: self.take_ticket(c), "service",
                                    name=f"ticket_{category.id}"))
            grid.addWidget(tile, index // columns, index % columns)
        layout.addLayout(grid, 1)
        self.busy_label = label(s.tr("appointment.printing") if self.busy else "", "muted", name="busy")
        layout.addWidget(self.busy_label)
        row = self.footer(layout)
        row.addWidget(button(s.tr("common.back"), self.back_to_question, name="back"))
        row.addStretch(1)

    def _build_ticket(self, layout: QVBoxLayout) -> None:
        s = self.state
        t = self.ticket
        layout.addWidget(label("✓ " + s.tr("appointment.checked_in" if t.kind == "appointment"
                                           else "appointment.ticket_taken"), "hero", name="title"))
        frame, box = card(margins=40)
        box.addWidget(label(s.tr("appointment.ticket_label"), "section"))
        number = label(t.ticket_no, "receipt", wrap=False, name="ticket_no")
        number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        box.addWidget(number)
        if t.masked_name:
            box.addWidget(label(s.tr("appointment.for_name", name=t.masked_name), "", name="masked_name"))
        if t.slot is not None:
            box.addWidget(label(s.tr("appointment.slot", time=t.slot.astimezone().strftime("%H:%M")), "",
                                name="slot"))
        box.addWidget(label(s.tr("appointment.waiting", count=t.waiting_ahead), "subtitle", name="waiting"))
        outcome = self.printed
        key, role = ("appointment.printing", "muted") if outcome is None else (
            ("appointment.printed", "ok") if outcome.printed else ("appointment.print_failed", "error"))
        box.addWidget(label(s.tr(key), role, name="print_state"))
        layout.addWidget(frame)
        layout.addWidget(label(s.tr("appointment.listen"), "", name="listen"))
        layout.addStretch(1)
        row = self.footer(layout)
        row.addStretch(1)
        row.addWidget(button(s.tr("common.done"), self.shell.home, "primary", name="done"))

    # --- actions ---------------------------------------------------------------------------

    def check_in(self, token: str) -> None:
        """Verify and record the appointment (in the background), then show and print its ticket."""
        if self.busy:
            return
        self.busy = True
        self.refusal = None
        self.walk_in = False
        self.render()
        s = self.state
        hall = (s.hall.name_zh, s.hall.name_en)
        backend, catalog = s.backend, s.catalog
        run_in_background(lambda: backend.check_in(token, hall, catalog), on_done=self._issued,
                          on_error=self._refused, context=self, name="check-in")

    def choose_walk_in(self) -> None:
        """No appointment: choose a category."""
        self.walk_in = True
        self.refusal = None
        self.render()
        self.shell.speak_screen()

    def back_to_question(self) -> None:
        """Back from the categories."""
        self.walk_in = False
        self.render()

    def take_ticket(self, category_id: str) -> None:
        """A walk-in ticket for ``category_id``, printed."""
        if self.busy:
            return
        self.busy = True
        self.busy_label.setText(self.state.tr("appointment.printing"))
        s = self.state
        hall = (s.hall.name_zh, s.hall.name_en)
        backend, catalog = s.backend, s.catalog
        run_in_background(lambda: backend.take_ticket(category_id, hall, catalog), on_done=self._issued,
                          on_error=self._failed, context=self, name="ticket")

    def demo_scan(self) -> None:
        """Demo: the demo platform issues an appointment for now, and it is "scanned"."""
        make = self.shell.demo_appointment
        if make is None or self.busy:
            return
        run_in_background(make, on_done=self.check_in, on_error=self._failed, context=self,
                          name="demo appointment")

    def _issued(self, result: tuple[Any, PrintOutcome]) -> None:
        self.busy = False
        self.ticket, self.printed = result
        self.render()
        self.shell.printer_changed(self.printed.printed)
        self.shell.speak(self.state.tr("appointment.ticket_label") + " " + self.ticket.ticket_no)

    def _refused(self, exc: BaseException) -> None:
        self.busy = False
        if isinstance(exc, CheckinRefused):
            log.info("check-in refused: %s (%s)", exc.kind, exc)
            self.refusal = exc
            self.render()
            self.shell.speak(exc.message(self.state.lang))
            return
        self._failed(exc)

    def _failed(self, exc: BaseException) -> None:
        log.error("check-in or ticket failed: %s", exc)
        self.busy = False
        self.refusal = CheckinRefused("invalid", f"{type(exc).__name__}: {exc}")
        self.walk_in = False
        self.render()

    def instruction(self) -> str:
        """What voice guidance reads."""
        s = self.state
        if self.ticket is not None:
            return s.tr("appointment.ticket_label") + " " + self.ticket.ticket_no + "。" + s.tr("appointment.listen")
        if self.walk_in:
            return s.tr("appointment.categories_hint")
        return s.tr("appointment.scan_hint")
