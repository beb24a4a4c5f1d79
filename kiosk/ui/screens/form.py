"""One step of the form, generated from the service definition by the wizard.

Fields are cards in a scrollable column; a numeric keypad sits beside them (under them on
a portrait screen) and types into the number field the citizen touched last. Touching a
text box brings up the on-screen keyboard in the same place instead: on a landscape screen
it takes the full height on the right, beside the questions; on a portrait screen it sits
under them. "Done" on the keyboard puts it away. "Next" asks
the wizard to check the step: problems appear next to their fields in plain words, with
one line at the top saying how many need attention.
"""

from __future__ import annotations

import logging

import shiboken6
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QProgressBar, QScrollArea, QVBoxLayout, QWidget

from kiosk.ui.screens.base import Screen
from kiosk.ui.widgets.common import button, card, label
from kiosk.ui.widgets.fields import NUMERIC_TYPES, TEXT_TYPES, FieldCard, FieldHost, scan_document_page
from kiosk.ui.widgets.keypad import NumericKeypad
from kiosk.ui.widgets.osk import KEY_MIN_WIDTH, SPACING, OnScreenKeyboard

log = logging.getLogger(__name__)


class FormScreen(Screen):
    """The current step of the wizard."""

    name = "form"

    def __init__(self, shell: object) -> None:
        super().__init__(shell)  # type: ignore[arg-type]
        self.cards: dict[str, FieldCard] = {}
        self.summary_shown = False
        self.keypad: NumericKeypad | None = None
        self.keypad_panel: QWidget | None = None
        self.keyboard: OnScreenKeyboard | None = None
        self._fields_scroll: QScrollArea | None = None

    def build(self, layout: QVBoxLayout) -> None:
        """Progress, the step's fields, keypad, back / next."""
        s = self.state
        wizard = s.session.wizard
        self.cards = {}
        if wizard is None or wizard.current_step is None:
            return
        step = wizard.current_step
        fields = wizard.visible_fields(step)
        wants_keypad = any(f.type in NUMERIC_TYPES for f in fields)
        wants_keyboard = any(f.type in TEXT_TYPES for f in fields)
        wide = self.shell.width() >= 1500
        side = layout  # where the keypad or keyboard goes: beside everything (landscape) or under the fields
        if wide:
            columns = QHBoxLayout()
            columns.setSpacing(28)
            layout.addLayout(columns, 1)
            main = QVBoxLayout()
            main.setSpacing(layout.spacing())
            columns.addLayout(main, 1)
            side = columns
            layout = main
        number, total = wizard.progress
        progress = s.tr("form.progress", n=number, total=total + 1)
        if s.session.service is not None:
            progress += "  ·  " + s.text(s.session.service.name)
        layout.addWidget(label(progress, "muted", name="progress_text"))
        bar = QProgressBar()
        bar.setRange(0, total + 1)
        bar.setValue(number)
        bar.setTextVisible(False)
        bar.setFixedHeight(16)
        layout.addWidget(bar)
        self.header(layout, s.text(step.title), s.text(step.description) if step.description else "")
        self.summary = label("", "banner-error", name="summary")
        self.summary.hide()
        layout.addWidget(self.summary)

        inner = QWidget()
        column = QVBoxLayout(inner)
        column.setContentsMargins(0, 0, 8, 0)
        column.setSpacing(22)
        host = FieldHost(s, wizard, self._keypad_target, scan_document_page, self._answered)
        for f in fields:
            field_card = FieldCard(host, f)
            self.cards[f.id] = field_card
            column.addWidget(field_card)
        column.addStretch(1)
        self._fields_scroll = self.scroll(inner)
        layout.addWidget(self._fields_scroll, 1)
        self.keypad = None
        self.keypad_panel = None
        if wants_keypad:
            frame, box = card()
            frame.setObjectName("keypad_panel")
            self.keypad_hint = label(s.tr("form.keypad_hint"), "muted")
            box.addWidget(self.keypad_hint)
            self.keypad = NumericKeypad("X")
            self.keypad.setEnabled(False)
            box.addWidget(self.keypad)
            box.addStretch(1)
            side.addWidget(frame)
            self.keypad_panel = frame
        self.keyboard = None
        if wants_keyboard:
            self.keyboard = OnScreenKeyboard(s, self)
            if wide:  # ten keys a row, a little over the minimum, beside the questions
                self.keyboard.setFixedWidth(10 * (KEY_MIN_WIDTH + 8) + 9 * SPACING + 24)
            self.keyboard.hide()
            self.keyboard.target_changed.connect(self._keyboard_target)
            if wide:  # at the bottom, near the hands, with the footer's buttons
                side.addWidget(self.keyboard, 0, Qt.AlignmentFlag.AlignBottom)
            else:
                side.addWidget(self.keyboard)

        row = self.footer(layout)
        row.addWidget(button(s.tr("common.back"), self.back, name="back"))
        row.addWidget(button(s.tr("form.cancel"), self.shell.ask_cancel, "danger", name="cancel"))
        row.addStretch(1)
        if s.session.return_to_review:
            row.addWidget(button(s.tr("form.to_review"), self.next, "primary", name="next"))
        else:
            row.addWidget(button(s.tr("form.next"), self.next, "primary", name="next"))

    def _answered(self) -> None:
        """An answer changed: when it shows or hides a question, lay the step out again."""
        wizard = self.state.session.wizard
        if wizard is None or wizard.current_step is None:
            return
        shown = [f.id for f in wizard.visible_fields()]
        if shown != list(self.cards):
            QTimer.singleShot(0, self._relayout)

    def _relayout(self) -> None:
        wizard = self.state.session.wizard
        if wizard is None or wizard.current_step is None or self.shell.current_name() != self.name:
            return
        if [f.id for f in wizard.visible_fields()] != list(self.cards):
            messages = {fid: c.message for fid, c in self.cards.items() if c.message is not None}
            self.summary_shown = False
            self.render()
            for fid, message in messages.items():
                if fid in self.cards:
                    self.cards[fid].show_message(message)

    # --- keypad and scanner ------------------------------------------------------------------

    def _keyboard_target(self, box: QWidget | None) -> None:
        """A text box was touched (show the keyboard) or let go (put it away, the keypad comes back)."""
        if self.keyboard is None:
            return
        self.keyboard.setVisible(box is not None)
        if self.keypad_panel is not None:
            self.keypad_panel.setVisible(box is None)
        if box is not None:
            QTimer.singleShot(0, lambda: self._reveal(box))

    def _reveal(self, box: QWidget) -> None:
        """Scroll the box being typed in into view (the keyboard took room from the questions)."""
        scroll, keyboard = self._fields_scroll, self.keyboard
        if scroll is None or keyboard is None or not shiboken6.isValid(keyboard):
            return  # the step was laid out again meanwhile
        if keyboard.target is box:
            scroll.ensureWidgetVisible(box, 40, 40)

    def _keypad_target(self, edit: QLineEdit, extra: str) -> None:
        if self.keypad is None:
            return
        if self.keypad_panel is not None:
            self.keypad_panel.show()
        self.keypad.set_target(edit)
        self.keypad.setEnabled(True)
        self.keypad.set_extra(extra)
        self.keypad_hint.setText(self.state.tr("form.keypad_for", label=self._label_of(edit)))

    def _label_of(self, edit: QLineEdit) -> str:
        for field_card in self.cards.values():
            if field_card.editor is edit:
                return self.state.text(field_card.field.label)
        return ""


    # --- navigation --------------------------------------------------------------------------

    def show_problems(self) -> int:
        """Show the wizard's problems with this step next to their fields; returns how many."""
        wizard = self.state.session.wizard
        if wizard is None:
            return 0
        problems = {m.field_id: m for m in wizard.step_messages()}
        for field_id, field_card in self.cards.items():
            field_card.show_message(problems.get(field_id))
        if problems:
            self.summary.setText(self.state.tr("form.fix", count=len(problems)))
            self.summary.show()
        else:
            self.summary.hide()
        self.summary_shown = bool(problems)
        return len(problems)

    def next(self) -> None:
        """Check the step; go on to the next one or the review, or show what needs attention."""
        session = self.state.session
        wizard = session.wizard
        if wizard is None:
            return
        result = wizard.next()
        if not result.moved:
            self.show_problems()
            self.shell.speak(" ".join([self.state.tr("form.fix", count=len(wizard.step_messages()))]
                                      + [m.text(self.state.lang) for m in wizard.step_messages()[:3]]))
            return
        self.summary_shown = False
        if session.return_to_review:
            while not wizard.at_review:  # after a "change": check the later steps on the way back
                if not wizard.next().moved:
                    break
        if wizard.at_review:
            self.shell.go("review")
        else:
            self.render()

    def back(self) -> None:
        """Previous step, or the identification screen from the first step."""
        wizard = self.state.session.wizard
        if wizard is not None and wizard.back():
            self.summary_shown = False
            self.render()
        else:
            self.shell.go("identify")

    def render(self) -> None:
        """Re-render, keeping the messages on screen if they were showing."""
        super().render()
        if self.summary_shown and self.cards:
            self.show_problems()

    def clear_session(self) -> None:
        """A new citizen."""
        self.summary_shown = False
        self.cards = {}
