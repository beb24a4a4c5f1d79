"""Identification: tap the ID card, or type the ID number on a big keypad.

The number is checked with GB 11643 (check character, province, birth date) and a wrong
one gets a plain message. A card read fills the form (name, sex, address...) so the
citizen types as little as possible.
"""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QVBoxLayout

from devices.identity import Identity
from forms import is_valid_id_number
from forms.idnumber import normalize_id_number
from kiosk.background import run_in_background
from kiosk.ui.screens.base import Screen
from kiosk.ui.widgets.common import button, card, label
from kiosk.ui.widgets.keypad import NumericKeypad


class IdentifyScreen(Screen):
    """Who is applying."""

    name = "identify"

    def __init__(self, shell: object) -> None:
        super().__init__(shell)  # type: ignore[arg-type]
        self.typed = ""
        self.problem_key = ""
        self.reading = False

    def build(self, layout: QVBoxLayout) -> None:
        """Card reader on one side, keypad on the other (stacked on a portrait screen)."""
        s = self.state
        service = s.session.service
        self.header(layout, s.tr("identify.title"), s.text(service.name) if service else "")
        body = QHBoxLayout() if self.shell.width() >= 1500 else QVBoxLayout()
        body.setSpacing(32)

        frame, box = card(margins=36)
        frame.setObjectName("card_reader")
        box.addWidget(label(s.tr("identify.card_title"), "section"))
        has_reader = s.demo or self.shell.card_poller is not None
        box.addWidget(label(s.tr("identify.card_hint" if has_reader else "identify.no_reader"), name="card_hint"))
        if s.demo:
            box.addWidget(label(s.tr("identify.demo_hint"), "muted"))
            for key, identity in self.shell.demo_identities.items():
                box.addWidget(button(s.tr("identify.demo_card", name=identity.name),
                                     lambda i=identity: self.tap_card(i), "primary", name=f"demo_card_{key}"))
        self.card_status = label(s.tr("identify.reading") if self.reading else "", "muted", name="card_status")
        box.addWidget(self.card_status)
        box.addStretch(1)
        body.addWidget(frame, 1)

        frame, box = card(margins=36)
        frame.setObjectName("typed_id")
        box.addWidget(label(s.tr("identify.type_title"), "section"))
        self.entry = QLineEdit(self.typed)
        self.entry.setObjectName("id_entry")
        self.entry.setMaxLength(18)
        self.entry.setPlaceholderText(s.tr("identify.type_placeholder"))
        self.entry.textChanged.connect(self._typed)
        box.addWidget(self.entry)
        self.keypad = NumericKeypad("X", clear_text=s.tr("keypad.clear"))
        self.keypad.set_target(self.entry)
        box.addWidget(self.keypad)
        self.error = label(s.tr(self.problem_key) if self.problem_key else "", "error", name="error")
        self.error.setVisible(bool(self.problem_key))
        box.addWidget(self.error)
        self.confirm = button(s.tr("identify.confirm"), self.confirm_typed, "primary", name="confirm_id")
        box.addWidget(self.confirm)
        body.addWidget(frame, 1)
        layout.addLayout(body, 1)

        row = self.footer(layout)
        row.addWidget(button(s.tr("common.back"), lambda: self.shell.go("guide"), name="back"))
        row.addStretch(1)
        self.entry.setFocus()

    def _typed(self, text: str) -> None:
        self.typed = text
        if self.problem_key:
            self.problem_key = ""
            self.error.hide()

    def confirm_typed(self) -> None:
        """Check the typed number (GB 11643) and go on, or say plainly what is wrong."""
        number = normalize_id_number(self.typed)
        if len(number) != 18:
            self._problem("identify.error_length")
        elif not is_valid_id_number(number):
            self._problem("identify.error_invalid")
        else:
            self.shell.identified({"id_number": number}, "typed")

    def _problem(self, key: str) -> None:
        self.problem_key = key
        self.error.setText(self.state.tr(key))
        self.error.show()
        self.shell.speak(self.state.tr(key))

    def scanned_id_number(self, number: str) -> None:
        """An ID number was scanned (an e-ID or ID QR): check and use it like a typed one."""
        self.typed = number
        if self.content is not None:
            self.entry.setText(number)
        self.confirm_typed()

    def tap_card(self, identity: Identity) -> None:
        """Demo: put a card on the simulated reader and read it in the background."""
        if self.reading or self.shell.id_reader is None:
            return
        self.reading = True
        self.card_status.setText(self.state.tr("identify.reading"))
        reader = self.shell.id_reader
        run_in_background(lambda: reader.tap(identity), on_done=self._card_read, on_error=self._card_failed,
                          context=self, name="read ID card")

    def _card_read(self, identity: Identity | None) -> None:
        self.reading = False
        if identity is None:
            self._card_failed(None)
            return
        self.shell.identified(identity.as_prefill(), "card")

    def _card_failed(self, exc: BaseException | None) -> None:
        self.reading = False
        if self.content is not None:
            self.card_status.setText(self.state.tr("identify.card_failed"))

    def card_problem(self, why: str) -> None:
        """The real reader reported trouble: say what to do (keep the card still, or ask staff)."""
        self.reading = False
        if self.content is not None:
            key = {"removed": "identify.card_removed", "unreadable": "identify.card_failed"}.get(
                why, "identify.reader_problem")
            self.card_status.setText(self.state.tr(key))
            self.shell.speak(self.state.tr(key))

    def clear_session(self) -> None:
        """A new citizen: forget the typed number."""
        self.typed = ""
        self.problem_key = ""
        self.reading = False
