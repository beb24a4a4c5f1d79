"""The technician's maintenance screen: self-test, enrolment by QR code, sync now.

Reached from the kiosk itself, never by accident: tap the hall's name in the status strip
five times within four seconds, then sign in with a technician (or supervisor) account
(`kiosk staff add NAME --role technician`; wrong PINs count towards the lock-out like any
staff sign-in, and every attempt is audited). It shows `kiosk doctor`'s checks with their
fixes, and while it is open the enrolment QR code made by `kiosk-central enroll-code
create --qr` can be shown to the kiosk's scanner: the terminal enrols itself. It closes on
"leave" or after the idle timeout like any session, and never shows citizens' data.
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtWidgets import QLineEdit, QVBoxLayout

from kiosk.background import run_in_background
from kiosk.ui.screens.base import Screen
from kiosk.ui.widgets.common import button, card, label
from kiosk.ui.widgets.keypad import NumericKeypad

log = logging.getLogger(__name__)

STATUS_ROLE = {"pass": "ok", "warn": "muted", "fail": "error"}


class MaintenanceScreen(Screen):
    """Technician sign-in, then the self-test and enrolment."""

    name = "maintenance"

    def __init__(self, shell: object) -> None:
        super().__init__(shell)  # type: ignore[arg-type]
        self.clear_session()

    def clear_session(self) -> None:
        """Sign the technician out and forget the results."""
        self.account: Any = None
        self.username = ""
        self.problem = ""
        self.checks: list[Any] | None = None
        self.message = ""
        self.failed = False  # the message reports a failure
        self.busy = False

    def build(self, layout: QVBoxLayout) -> None:
        """Sign-in, or the checks."""
        if self.account is None:
            self._build_sign_in(layout)
        else:
            self._build_checks(layout)

    def _build_sign_in(self, layout: QVBoxLayout) -> None:
        s = self.state
        self.header(layout, s.tr("maintenance.title"), s.tr("maintenance.sign_in_hint"))
        frame, box = card(margins=36)
        self.user_entry = QLineEdit(self.username)
        self.user_entry.setObjectName("maintenance_user")
        self.user_entry.setPlaceholderText(s.tr("maintenance.user"))
        box.addWidget(self.user_entry)
        self.pin_entry = QLineEdit()
        self.pin_entry.setObjectName("maintenance_pin")
        self.pin_entry.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_entry.setPlaceholderText(s.tr("maintenance.pin"))
        box.addWidget(self.pin_entry)
        keypad = NumericKeypad("", clear_text=s.tr("keypad.clear"))
        keypad.set_target(self.pin_entry)
        box.addWidget(keypad)
        self.error = label(self.problem, "error", name="error")
        self.error.setVisible(bool(self.problem))
        box.addWidget(self.error)
        layout.addWidget(frame, 1)
        row = self.footer(layout)
        row.addWidget(button(s.tr("maintenance.leave"), self.shell.home, name="leave"))
        row.addStretch(1)
        row.addWidget(button(s.tr("maintenance.sign_in"), self.sign_in, "primary", name="sign_in"))

    def _build_checks(self, layout: QVBoxLayout) -> None:
        s = self.state
        self.header(layout, s.tr("maintenance.title"), s.tr("maintenance.signed_in", name=self.account.display_name
                                                            or self.account.username))
        if self.message:
            layout.addWidget(label(self.message, "banner-error" if self.failed else "ok", name="message"))
        frame, box = card(margins=28, spacing=8)
        box.addWidget(label(s.tr("maintenance.enrol_hint"), "", name="enrol_hint"))
        box.addWidget(label(s.tr("maintenance.checks"), "section"))
        if self.checks is None:
            box.addWidget(label(s.tr("maintenance.running"), "muted", name="running"))
        else:
            for check in self.checks:
                text = f"[{check.status.value.upper()}] {check.name}: {check.detail}"
                if check.fix:
                    text += f"\n    → {check.fix}"
                box.addWidget(label(text, STATUS_ROLE.get(check.status.value, ""), name=f"check_{check.name}"))
        box.addStretch(1)
        layout.addWidget(self.scroll(frame), 1)
        row = self.footer(layout)
        row.addWidget(button(s.tr("maintenance.leave"), self.shell.home, name="leave"))
        row.addStretch(1)
        row.addWidget(button(s.tr("maintenance.sync_now"), self.sync_now, name="sync_now"))
        row.addWidget(button(s.tr("maintenance.run_checks"), self.run_checks, "primary", name="run_checks"))

    # --- actions ---------------------------------------------------------------------------

    def sign_in(self) -> None:
        """Check the account (argon2id: slow on purpose, so in the background)."""
        if self.busy:
            return
        self.busy = True
        self.username = self.user_entry.text().strip()
        pin = self.pin_entry.text()
        self.pin_entry.clear()
        backend = self.state.backend
        run_in_background(lambda: backend.technician_sign_in(self.username, pin), on_done=self._signed_in,
                          on_error=self._sign_in_failed, context=self, name="technician sign-in")

    def _signed_in(self, result: Any) -> None:
        self.busy = False
        s = self.state
        if result.ok and result.account.may_act_as("technician"):
            self.account = result.account
            self.problem = ""
            self.render()
            self.run_checks()
            return
        if result.ok:
            self.problem = s.tr("maintenance.not_technician")
        elif result.outcome == "locked" and result.locked_until is not None:
            self.problem = s.tr("maintenance.locked", time=result.locked_until.astimezone().strftime("%H:%M"))
        else:
            self.problem = s.tr("maintenance.wrong")
        self.render()

    def _sign_in_failed(self, exc: BaseException) -> None:
        self.busy = False
        log.error("technician sign-in failed: %s", exc)
        self.problem = self.state.tr("maintenance.wrong")
        self.render()

    def run_checks(self) -> None:
        """Run ``kiosk doctor``'s checks in the background."""
        self.checks = None
        self.render()
        backend = self.state.backend
        run_in_background(backend.doctor, on_done=self._checked, on_error=self._checks_failed, context=self,
                          name="doctor")

    def _checked(self, checks: list[Any]) -> None:
        self.checks = checks
        self.render()

    def _checks_failed(self, exc: BaseException) -> None:
        self.checks = []
        self.failed = True
        self.message = f"{type(exc).__name__}: {exc}"
        self.render()

    def sync_now(self) -> None:
        """Wake the sync worker."""
        worker = self.shell.sync_worker
        if worker is not None:
            worker.wake()
        self.failed = False
        self.message = self.state.tr("maintenance.sync_started")
        self.render()

    def enrol(self, text: str) -> None:
        """An enrolment QR code was scanned: enrol (again) at the platform it names."""
        if self.account is None or self.busy:
            return
        self.busy = True
        self.message = self.state.tr("maintenance.enrolling")
        self.failed = False
        self.render()
        backend = self.state.backend
        run_in_background(lambda: backend.enrol_from_qr(text), on_done=self._enrolled, on_error=self._enrol_failed,
                          context=self, name="enrol")

    def _enrolled(self, enrolment: Any) -> None:
        self.busy = False
        self.failed = False
        self.message = self.state.tr("maintenance.enrolled", site=enrolment.site_code, device=enrolment.device_code,
                                     url=enrolment.central_url)
        self.shell.refresh_status()
        if self.shell.sync_worker is not None:
            self.shell.sync_worker.wake()
        self.run_checks()

    def _enrol_failed(self, exc: BaseException) -> None:
        self.busy = False
        self.failed = True
        self.message = self.state.tr("maintenance.enrol_failed", reason=str(exc))
        self.render()
