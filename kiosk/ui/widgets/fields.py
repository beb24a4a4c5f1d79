"""One editor per field type, generated from the form definition, touch-first.

Every field is a card: label (with "required" and "from your ID card" marks), help, the
editor, the fill-in example (填写示例) and, after "next" found a problem, the message in
plain words right under it. Answers go into the wizard as the citizen types or taps; the
card re-checks itself once a message is showing, so the message disappears when fixed.

Editors by type: choices, yes/no and multi-choice are big buttons; numbers (mobile, ID,
integer, decimal) type from the screen's numeric keypad; dates are three pickers (year,
month, day); text types from the screen's on-screen keyboard with pinyin input
(:mod:`kiosk.ui.widgets.osk`, see ``docs/ui-input.md``); an address is four boxes;
attachments are "scan" actions; a signature is drawn on a pad; consent is a statement and
one big tick button.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from forms import Field, Wizard
from forms.i18n import YES_NO
from forms.model import ADDRESS_PARTS
from forms.validation import FieldMessage, resolve_date_bound
from kiosk.background import run_in_background
from kiosk.ui.devices import scan_sample_page, scanner_available
from kiosk.ui.session import KioskState
from kiosk.ui.theme import set_role
from kiosk.ui.widgets.common import button, card, label, scrub
from kiosk.ui.widgets.signature import SignaturePad
from sync.submission import Attachment

log = logging.getLogger(__name__)

NUMERIC_TYPES = ("mobile", "id_number", "integer", "decimal")
TEXT_TYPES = ("text", "email", "multiline", "address")  # typed on the on-screen keyboard


class KeypadLineEdit(QLineEdit):
    """A line edit that announces when it gets focus, so the screen's keypad types into it."""

    focused = Signal(object)

    def focusInEvent(self, event: QFocusEvent) -> None:
        """Tell the screen this field is the keypad's target now."""
        super().focusInEvent(event)
        self.focused.emit(self)


@dataclass
class FieldHost:
    """What a field card needs from its screen."""

    state: KioskState
    wizard: Wizard
    keypad_target: Callable[[QLineEdit, str], None]  # (line edit, extra key "X" / "." / "")
    scan_document: Callable[[FieldCard], None]  # ask the scanner for one page for this card
    answered: Callable[[], None] = lambda: None  # an answer changed (the screen may show or hide fields)


def scan_document_page(field_card: FieldCard) -> None:
    """Take one page from the document scanner into ``field_card`` (in the background).

    In demo mode the scanner hands out a bundled sample page; a kiosk without a scanner
    says so on the card.
    """
    s = field_card.host.state
    if not scanner_available(s.demo):
        field_card.scanning(False, s.tr("attachment.no_scanner"))
        return
    field_card.scanning(True, s.tr("attachment.scanning"))
    page = len(field_card.answer or []) + 1
    run_in_background(lambda: scan_sample_page(page), on_done=field_card.add_file,
                      on_error=lambda _e: field_card.scanning(False, s.tr("attachment.failed")),
                      context=field_card, name="scan page")


class FieldCard(QWidget):
    """A field of the form, ready for touch."""

    def __init__(self, host: FieldHost, field_: Field, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.field = field_
        self.setObjectName(f"field_{field_.id}")
        self._message: FieldMessage | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        self.frame, layout = card()
        outer.addWidget(self.frame)
        state = host.state

        head = QHBoxLayout()
        head.setSpacing(16)
        head.addWidget(label(state.text(field_.label), "section"), 1)
        if host.wizard.is_required(field_.id):
            head.addWidget(label(state.tr("field.required"), "required", wrap=False))
        else:
            head.addWidget(label(state.tr("field.optional"), "muted", wrap=False))
        if host.wizard.is_prefilled(field_.id):
            head.addWidget(label(state.tr("field.prefilled"), "badge", wrap=False, name="prefilled"))
        layout.addLayout(head)
        if field_.help is not None:
            layout.addWidget(label(state.text(field_.help), "muted"))
        if field_.type == "consent" and field_.statement is not None:
            statement = label(state.text(field_.statement), "")
            statement.setObjectName("statement")
            layout.addWidget(statement)

        self.editor = self._make_editor()
        layout.addWidget(self.editor)

        example = self._example_text()
        if example:
            layout.addWidget(label(state.tr("field.example", example=example), "example", name="example"))
        self.error = label("", "error", name="error")
        self.error.hide()
        layout.addWidget(self.error)

    # --- answers -------------------------------------------------------------------------

    @property
    def answer(self) -> Any:
        """The wizard's raw answer for this field."""
        return self.host.wizard.answer(self.field.id)

    def set_answer(self, value: Any) -> None:
        """Record an answer; when a message is showing, re-check at once."""
        problem = self.host.wizard.set_answer(self.field.id, value)
        self.host.answered()
        if self._message is not None:
            if problem is None and self.host.wizard.is_required(self.field.id) and value in (None, "", [], {}):
                problem = self._message  # still empty: keep saying so
            self.show_message(problem)

    def show_message(self, message: FieldMessage | None) -> None:
        """Show (or clear) the problem with this field, in the current language."""
        self._message = message
        if message is None:
            self.error.hide()
            self.error.clear()
            set_role(self.frame, "card")
        else:
            self.error.setText(message.text(self.host.state.lang))
            self.error.show()
            set_role(self.frame, "card-error")

    @property
    def message(self) -> FieldMessage | None:
        """The problem shown, if any."""
        return self._message

    def _example_text(self) -> str:
        f, state = self.field, self.host.state
        value = f.example
        if f.type in ("attachment", "signature", "consent"):
            return ""
        if f.type in ("choice",):
            option = f.option_label(value)
            return state.text(option) if option else ""
        if f.type == "multi_choice":
            labels = [state.text(f.option_label(v)) for v in value if f.option_label(v)]
            return "、".join(labels) if state.lang == "zh_CN" else ", ".join(labels)
        if f.type == "yes_no":
            return YES_NO[bool(value)].get(state.lang)
        if f.type == "address":
            parts = [value.get(k, "") for k in ADDRESS_PARTS]
            return "".join(parts) if state.lang == "zh_CN" else ", ".join(reversed(parts))
        text = str(value)
        if f.unit is not None:
            text = f"{text} {state.text(f.unit)}"
        return text

    # --- editors -------------------------------------------------------------------------

    def _make_editor(self) -> QWidget:
        kind = self.field.type
        if kind in NUMERIC_TYPES:
            return self._numeric()
        if kind in ("text", "email"):
            return self._text()
        if kind == "multiline":
            return self._multiline()
        if kind in ("choice", "multi_choice", "yes_no"):
            return self._choices()
        if kind == "date":
            return self._date()
        if kind == "address":
            return self._address()
        if kind == "attachment":
            return self._attachment()
        if kind == "signature":
            return self._signature()
        if kind == "consent":
            return self._consent()
        raise ValueError(f"no editor for field type {kind!r}")  # the loader rejects unknown types

    def _numeric(self) -> QWidget:
        edit = KeypadLineEdit()
        edit.setObjectName("input")
        extra = {"id_number": "X", "decimal": "."}.get(self.field.type, "")
        current = self.answer
        if current is not None:
            edit.setText(str(current))
        edit.setPlaceholderText(self.host.state.tr("field.tap_to_type_numbers"))
        edit.setInputMethodHints(Qt.InputMethodHint.ImhPreferNumbers)  # the keypad's, not the keyboard's
        edit.focused.connect(lambda widget: self.host.keypad_target(widget, extra))
        edit.textChanged.connect(lambda text: self.set_answer(text))
        edit.setMaxLength(32)
        return edit

    def _text(self) -> QWidget:
        edit = QLineEdit()
        edit.setObjectName("input")
        if self.answer is not None:
            edit.setText(str(self.answer))
        if self.field.max_length:
            edit.setMaxLength(self.field.max_length)
        edit.setPlaceholderText(self.host.state.tr("field.tap_to_type"))
        if self.field.type == "email":
            edit.setInputMethodHints(Qt.InputMethodHint.ImhEmailCharactersOnly)  # the keyboard starts in English
        edit.textChanged.connect(lambda text: self.set_answer(text))
        return edit

    def _multiline(self) -> QWidget:
        edit = QPlainTextEdit()
        edit.setObjectName("input")
        edit.setFixedHeight(200)
        if self.answer is not None:
            edit.setPlainText(str(self.answer))
        edit.setPlaceholderText(self.host.state.tr("field.tap_to_type"))
        edit.textChanged.connect(lambda: self.set_answer(edit.toPlainText()))
        return edit

    def _choices(self) -> QWidget:
        f, state = self.field, self.host.state
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(14)
        group = QButtonGroup(box)
        multi = f.type == "multi_choice"
        group.setExclusive(not multi)
        if f.type == "yes_no":
            options: list[tuple[Any, str]] = [(answer, YES_NO[answer].get(state.lang)) for answer in (True, False)]
        else:
            options = [(o.value, state.text(o.label)) for o in f.options]
        current = self.answer
        columns = 2 if len(options) > 2 or max((len(t) for _, t in options), default=0) > 12 else len(options)
        columns = max(1, min(columns, 3))
        self.option_buttons: dict[Any, QWidget] = {}
        for index, (value, text) in enumerate(options):
            widget = button(text, None, "choice", checkable=True, name=f"option_{value}")
            selected = (value in current) if (multi and isinstance(current, list)) else current == value
            widget.setChecked(bool(selected))
            group.addButton(widget)
            widget.clicked.connect(lambda _=False, v=value: self._choice_clicked(v))
            grid.addWidget(widget, index // columns, index % columns)
            self.option_buttons[value] = widget
        self._group = group
        return box

    def _choice_clicked(self, value: Any) -> None:
        if self.field.type == "multi_choice":
            chosen = [v for v, b in self.option_buttons.items() if b.isChecked()]  # type: ignore[attr-defined]
            self.set_answer(chosen)
        else:
            self.set_answer(value)

    def _date(self) -> QWidget:
        f, state = self.field, self.host.state
        today = self.host.wizard.today
        low = resolve_date_bound(f.min, today) if f.min else today.replace(year=today.year - 110)
        high = resolve_date_bound(f.max, today) if f.max else dt.date(today.year + 30, 12, 31)
        box = QWidget()
        row = QHBoxLayout(box)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(14)
        self.year = QComboBox()
        self.month = QComboBox()
        self.day = QComboBox()
        self.year.addItem(state.tr("date.year"), None)
        for year in range(high.year, low.year - 1, -1):
            self.year.addItem(state.tr("date.year_value", year=year), year)
        self.month.addItem(state.tr("date.month"), None)
        for month in range(1, 13):
            self.month.addItem(state.tr("date.month_value", month=month), month)
        self.day.addItem(state.tr("date.day"), None)
        for day in range(1, 32):
            self.day.addItem(state.tr("date.day_value", day=day), day)
        current = self.answer
        if isinstance(current, str) and len(current) == 10:
            try:
                y, m, d = (int(x) for x in current.split("-"))
                for combo, value in ((self.year, y), (self.month, m), (self.day, d)):
                    combo.setCurrentIndex(max(0, combo.findData(value)))
            except ValueError:
                pass
        for combo, name in ((self.year, "year"), (self.month, "month"), (self.day, "day")):
            combo.setObjectName(name)
            combo.setMaxVisibleItems(8)
            combo.currentIndexChanged.connect(lambda _=0: self._date_changed())
            row.addWidget(combo, 2 if name == "year" else 1)
        return box

    def _date_changed(self) -> None:
        parts = [self.year.currentData(), self.month.currentData(), self.day.currentData()]
        if None in parts:
            self.set_answer(None)
        else:
            self.set_answer(f"{parts[0]:04d}-{parts[1]:02d}-{parts[2]:02d}")

    def _address(self) -> QWidget:
        state = self.host.state
        box = QWidget()
        grid = QGridLayout(box)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(14)
        current = self.answer if isinstance(self.answer, dict) else {}
        self.address_parts: dict[str, QLineEdit] = {}
        for index, part in enumerate(ADDRESS_PARTS):
            edit = QLineEdit(str(current.get(part, "")))
            edit.setObjectName(f"address_{part}")
            edit.setPlaceholderText(state.tr(f"address.{part}"))
            edit.textChanged.connect(lambda _="": self._address_changed())
            if part == "detail":
                grid.addWidget(edit, 1, 0, 1, 3)
            else:
                grid.addWidget(edit, 0, index)
            self.address_parts[part] = edit
        return box

    def _address_changed(self) -> None:
        value = {part: edit.text() for part, edit in self.address_parts.items()}
        self.set_answer(value if any(v.strip() for v in value.values()) else None)

    def _attachment(self) -> QWidget:
        state = self.host.state
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(12)
        refs = self.answer if isinstance(self.answer, list) else []
        for index in range(1, len(refs) + 1):
            row = QHBoxLayout()
            row.addWidget(label(state.tr("attachment.page", n=index), "ok"), 1)
            row.addWidget(button(state.tr("attachment.remove"), lambda i=index - 1: self._remove_file(i), "link",
                                 name=f"remove_{index}"))
            layout.addLayout(row)
        limit = self.field.max_files or 1
        row = QHBoxLayout()
        scan = button(state.tr("attachment.scan" if not refs else "attachment.scan_more"),
                      lambda: self.host.scan_document(self), "primary", name="scan")
        scan.setEnabled(len(refs) < limit)
        row.addWidget(scan)
        row.addStretch(1)
        layout.addLayout(row)
        if not self.host.wizard.is_required(self.field.id):
            layout.addWidget(label(state.tr("attachment.optional"), "muted"))
        self.status = label("", "muted", name="scan_status")
        self.status.hide()
        layout.addWidget(self.status)
        return box

    def scanning(self, busy: bool, text: str = "") -> None:
        """Show that a page is being scanned (or why it could not be)."""
        self.status.setText(text)
        self.status.setVisible(bool(text))
        scan = self.findChild(QWidget, "scan")
        if scan is not None:
            scan.setEnabled(not busy)

    def add_file(self, attachment: Attachment) -> None:
        """A page was scanned: keep the file, add its reference to the answer, show it."""
        self.host.state.session.files[attachment.sha256] = attachment
        refs = list(self.answer) if isinstance(self.answer, list) else []
        refs.append(attachment.ref())
        self.set_answer(refs)
        self._rebuild_editor()

    def _remove_file(self, index: int) -> None:
        refs = list(self.answer) if isinstance(self.answer, list) else []
        if 0 <= index < len(refs):
            refs.pop(index)
        self.set_answer(refs or None)
        self._rebuild_editor()

    def _rebuild_editor(self) -> None:
        layout = self.frame.layout()
        position = layout.indexOf(self.editor)
        old = self.editor
        self.editor = self._make_editor()
        layout.insertWidget(position, self.editor)
        layout.removeWidget(old)
        old.hide()
        scrub(old)
        old.deleteLater()  # Qt-owned until the event loop destroys it on the UI thread (see Screen.reset)

    def _signature(self) -> QWidget:
        state = self.host.state
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        self.pad = SignaturePad(state.tr("signature.hint"))
        current = self.answer
        if isinstance(current, dict) and current.get("sha256") in state.session.files:
            self.pad.show_previous(state.session.files[current["sha256"]].content)
        self.pad.signed.connect(self._signed)
        layout.addWidget(self.pad)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(button(state.tr("signature.clear"), self._unsign, "link", name="clear_signature"))
        layout.addLayout(row)
        return box

    def _signed(self) -> None:
        png = self.pad.to_png()
        attachment = Attachment(png, "image/png", "signature.png")
        previous = self.answer
        if isinstance(previous, dict):
            self.host.state.session.files.pop(previous.get("sha256", ""), None)
        self.host.state.session.files[attachment.sha256] = attachment
        self.set_answer({"sha256": attachment.sha256, "size": attachment.size, "mime": "image/png"})

    def _unsign(self) -> None:
        previous = self.answer
        if isinstance(previous, dict):
            self.host.state.session.files.pop(previous.get("sha256", ""), None)
        self.pad.clear()
        self.set_answer(None)

    def _consent(self) -> QWidget:
        state = self.host.state
        widget = button(state.tr("consent.agree"), None, "choice", checkable=True, name="agree")
        widget.setChecked(self.answer is True)
        widget.toggled.connect(lambda on: self._consent_toggled(widget, on))
        self._consent_toggled(widget, widget.isChecked(), record=False)
        return widget

    def _consent_toggled(self, widget: QWidget, on: bool, record: bool = True) -> None:
        state = self.host.state
        widget.setText(("✔ " if on else "") + state.tr("consent.agree"))  # type: ignore[attr-defined]
        if record:
            self.set_answer(True if on else None)

