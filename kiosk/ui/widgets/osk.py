"""The kiosk's own on-screen keyboard: QWERTY, digits, punctuation and pinyin input.

Touch screens at the kiosk have no keyboard, and Qt Virtual Keyboard is GPLv3 (see
``docs/ui-input.md``), so the kiosk brings its own. The keyboard types into the text box
that has focus in its part of the window (``scope``: usually the screen), never takes focus
itself (every key is a no-focus button, as on the numeric keypad), and tells the screen
which box it serves (:attr:`OnScreenKeyboard.target_changed`) so the screen can show it
only while a text box is being typed in. Number boxes (input method hint "numbers") are
left to the numeric keypad.

In Chinese mode letters collect into a pinyin composition shown above a bar of candidates
from :mod:`kiosk.ime`; tapping a candidate types it, and what it did not stand for stays to
be typed on (北 from "beijingdaxue" leaves "jingdaxue"). Space takes the first candidate;
punctuation, digits and "done" first type the best candidates for what is pending;
switching to English types the pending letters as they are. The
pinyin index loads in the background the first time; letters typed meanwhile wait.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QFontMetrics, QResizeEvent
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from kiosk.ime import MAX_INPUT, SEPARATOR, Candidate, PinyinEngine, load_error, loaded_engine, start_loading
from kiosk.ui.session import KioskState
from kiosk.ui.theme import TOUCH_MIN, sizes
from kiosk.ui.widgets.common import button, label

log = logging.getLogger(__name__)

KEY_MIN_WIDTH = 90  # px: about 15 mm on the kiosk's screen (theme.py)
SPACING = 6
COLUMNS = 20  # half-key columns: a letter key is 2 wide, shift and backspace 3
LETTER_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")
DIGITS = "1234567890"
PUNCTUATION = {
    "zh": ("，", "。", "、", "-", "·", "#", "（", "）", "：", "？"),
    "en": (",", ".", "-", "@", "#", "(", ")", "/", ":", "?"),
}
NUMBER_HINTS = (Qt.InputMethodHint.ImhDigitsOnly | Qt.InputMethodHint.ImhFormattedNumbersOnly
                | Qt.InputMethodHint.ImhDialableCharactersOnly | Qt.InputMethodHint.ImhPreferNumbers)
LATIN_HINTS = Qt.InputMethodHint.ImhLatinOnly | Qt.InputMethodHint.ImhEmailCharactersOnly

TextBox = QLineEdit | QPlainTextEdit
_preferred: set[tuple[int, int]] = set()  # (engine, catalog) pairs whose service names were added


class OnScreenKeyboard(QFrame):
    """A touch keyboard that types into the focused text box of ``scope``."""

    target_changed = Signal(object)  # the QLineEdit / QPlainTextEdit it types into, or None
    composing = Signal(str)  # the pending pinyin ("" when none)
    done = Signal()  # the citizen tapped "done": pending input is typed, the box lets go of focus
    engine_ready = Signal()

    def __init__(self, state: KioskState, scope: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("OnScreenKeyboard")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.state = state
        self._scope = scope
        self._target: TextBox | None = None
        self._mode = "zh" if state.lang == "zh_CN" else "en"
        self._shift = False
        self._composition = ""
        self._candidates: list[Candidate] = []
        self._pages: list[list[Candidate]] = []
        self._page = 0
        self._engine: PinyinEngine | None = loaded_engine()
        self._engine_failed = False
        self._large = state.large_type
        self.keys: dict[str, QPushButton] = {}

        outer = QVBoxLayout(self)
        margin = 12
        outer.setContentsMargins(margin, margin, margin, margin)
        outer.setSpacing(SPACING)
        outer.addWidget(self._candidate_bar())
        grid = QGridLayout()
        grid.setSpacing(SPACING)
        outer.addLayout(grid)
        for column, char in enumerate(DIGITS):
            self._key(grid, 0, column * 2, 2, char, lambda c=char: self._type_symbol(c), f"osk_{char}")
        for column in range(10):
            self._key(grid, 1, column * 2, 2, "", lambda i=column: self._type_symbol(self._punctuation(i)),
                      f"osk_punct_{column}")
        for column, char in enumerate(LETTER_ROWS[0]):
            self._key(grid, 2, column * 2, 2, char, lambda c=char: self._letter(c), f"osk_{char}")
        for column, char in enumerate(LETTER_ROWS[1]):
            self._key(grid, 3, column * 2, 2, char, lambda c=char: self._letter(c), f"osk_{char}")
        self._key(grid, 3, 18, 2, SEPARATOR, self._apostrophe, "osk_apostrophe")
        shift = self._key(grid, 4, 0, 3, "⇧", self._toggle_shift, "osk_shift", "osk-special")
        shift.setCheckable(True)
        shift.setAccessibleName(state.tr("osk.shift"))
        for column, char in enumerate(LETTER_ROWS[2]):
            self._key(grid, 4, 3 + column * 2, 2, char, lambda c=char: self._letter(c), f"osk_{char}")
        backspace = self._key(grid, 4, 17, 3, "⌫", self._backspace, "osk_backspace", "osk-special")
        backspace.setAccessibleName(state.tr("osk.backspace"))
        backspace.setAutoRepeat(True)  # hold to delete more
        backspace.setAutoRepeatDelay(500)
        self._key(grid, 5, 0, 4, "", self._toggle_mode, "osk_mode", "osk-special")
        self._key(grid, 5, 4, 10, "", self._space, "osk_space")
        self._key(grid, 5, 14, 6, state.tr("osk.done"), self._done, "osk_done", "primary")
        for column in range(COLUMNS):
            grid.setColumnStretch(column, 1)

        QApplication.instance().focusChanged.connect(self._focus_changed)  # dropped with the keyboard
        self._show_mode()
        self.set_target(self._focused_box())
        if self._engine is None:
            start_loading(state.backend.data_dir / "cache")
            self._waiting = QTimer(self)
            self._waiting.setInterval(100)
            self._waiting.timeout.connect(self._poll_engine)
            self._waiting.start()
        else:
            self._prefer_catalog_words()

    # --- building ------------------------------------------------------------------------------

    def _key(self, grid: QGridLayout, row: int, column: int, span: int, text: str, press: Callable[[], None],
             name: str, role: str = "osk-key") -> QPushButton:
        widget = button(text, press, role, name=name)
        height = int(TOUCH_MIN * (1.1 if self._large else 1.0))
        widget.setMinimumSize(KEY_MIN_WIDTH if span == 2 else int(KEY_MIN_WIDTH * span / 2), height)
        widget.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        grid.addWidget(widget, row, column, 1, span)
        self.keys[name.removeprefix("osk_")] = widget
        return widget

    def _candidate_bar(self) -> QWidget:
        bar = QWidget()
        bar.setObjectName("osk_candidate_bar")
        column = QVBoxLayout(bar)
        column.setContentsMargins(8, 0, 0, 0)
        column.setSpacing(0)
        self.composition_label = label("", "osk-composition", wrap=False, name="osk_composition")
        column.addWidget(self.composition_label)
        row = QHBoxLayout()
        row.setSpacing(SPACING)
        self._candidate_row = QHBoxLayout()
        self._candidate_row.setSpacing(SPACING)
        self._candidate_row.setContentsMargins(0, 0, 0, 0)
        self.candidate_area = QWidget()
        self.candidate_area.setLayout(self._candidate_row)
        self.candidate_area.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        row.addWidget(self.candidate_area, 1)
        self.previous_page = button("‹", lambda: self._turn(-1), "osk-special", name="osk_previous")
        self.next_page = button("›", lambda: self._turn(1), "osk-special", name="osk_next")
        for widget, name in ((self.previous_page, "osk.previous"), (self.next_page, "osk.next")):
            widget.setAccessibleName(self.state.tr(name))
            widget.setMinimumSize(KEY_MIN_WIDTH, int(TOUCH_MIN * (1.1 if self._large else 1.0)))
            row.addWidget(widget)
        column.addLayout(row)
        return bar

    # --- the target ----------------------------------------------------------------------------

    @property
    def target(self) -> TextBox | None:
        """The text box the keyboard types into."""
        if self._target is not None and not shiboken6.isValid(self._target):
            self._target = None
        return self._target

    @property
    def mode(self) -> str:
        """``"zh"`` (pinyin) or ``"en"`` (letters as they are)."""
        return self._mode

    @property
    def composition(self) -> str:
        """The pinyin typed and not yet turned into characters."""
        return self._composition

    def candidate_texts(self) -> list[str]:
        """The candidates on the page on show."""
        return [c.text for c in self._pages[self._page]] if self._pages else []

    def accepts(self, widget: QWidget | None) -> bool:
        """Whether the keyboard types into ``widget`` (an editable text box of its scope, not a number box)."""
        if not isinstance(widget, QLineEdit | QPlainTextEdit) or widget.isReadOnly():
            return False
        if widget.inputMethodHints() & NUMBER_HINTS:
            return False
        return shiboken6.isValid(self._scope) and self._scope.isAncestorOf(widget)

    def _focused_box(self) -> TextBox | None:
        focused = QApplication.focusWidget()
        return focused if self.accepts(focused) else None  # type: ignore[return-value]

    def _focus_changed(self, _old: QWidget | None, new: QWidget | None) -> None:
        if not shiboken6.isValid(self):
            return
        if new is None or new is self.target:
            return
        self.set_target(new if self.accepts(new) else None)  # type: ignore[arg-type]

    def set_target(self, target: TextBox | None) -> None:
        """Type into ``target`` from now on (pending pinyin goes to the previous box first)."""
        if target is self.target:
            return
        if self._composition:
            self._commit_pending()
        self._target = target
        self._shift = False
        if target is not None and target.inputMethodHints() & LATIN_HINTS:
            self._mode = "en"
        self._show_mode()
        self.setEnabled(target is not None)
        self.target_changed.emit(target)

    # --- typing --------------------------------------------------------------------------------

    def _insert(self, text: str) -> None:
        target = self.target
        if target is None or not text:
            return
        if isinstance(target, QLineEdit):
            target.insert(text)
        else:
            target.insertPlainText(text)

    def _letter(self, char: str) -> None:
        if self._shift:
            self._set_shift(False)
            if self._mode == "zh":
                self._commit_pending()
            self._insert(char.upper())
            return
        if self._mode == "en":
            self._insert(char)
        elif len(self._composition) < MAX_INPUT:
            self._set_composition(self._composition + char)

    def _apostrophe(self) -> None:
        if self._mode == "zh" and self._composition:
            if not self._composition.endswith(SEPARATOR) and len(self._composition) < MAX_INPUT:
                self._set_composition(self._composition + SEPARATOR)
        else:
            self._insert(SEPARATOR)

    def _type_symbol(self, text: str) -> None:
        self._commit_pending()
        self._insert(text)

    def _space(self) -> None:
        if self._composition:
            if self._candidates:
                self.choose(self._candidates[0])
            else:
                self._commit_pending()
        else:
            self._insert(" ")

    def _backspace(self) -> None:
        if self._composition:
            self._set_composition(self._composition[:-1])
            return
        target = self.target
        if isinstance(target, QLineEdit):
            target.backspace()
        elif isinstance(target, QPlainTextEdit):
            cursor = target.textCursor()
            cursor.deletePreviousChar()
            target.setTextCursor(cursor)

    def _done(self) -> None:
        self._commit_pending()
        target = self.target
        if target is not None:
            target.clearFocus()
        self.set_target(None)
        self.done.emit()

    def choose(self, candidate: Candidate) -> None:
        """Type ``candidate``; what it does not stand for stays as pinyin."""
        self._insert(candidate.text)
        self._set_composition(self._composition[candidate.consumed:].lstrip(SEPARATOR))

    def _commit_pending(self) -> None:
        """Type the best candidates for the whole composition (the letters, where there are none)."""
        while self._composition:
            if self._engine is None or not self._candidates:
                self._insert(self._composition.replace(SEPARATOR, ""))
                self._set_composition("")
                return
            self.choose(self._candidates[0])

    # --- modes ---------------------------------------------------------------------------------

    def _toggle_mode(self) -> None:
        if self._mode == "zh":
            self._insert(self._composition.replace(SEPARATOR, ""))  # to English: the letters, as typed
            self._set_composition("")
            self._mode = "en"
        elif not self._engine_failed:
            self._mode = "zh"
        self._show_mode()

    def _toggle_shift(self) -> None:
        self._set_shift(not self._shift)

    def _set_shift(self, on: bool) -> None:
        self._shift = on
        self.keys["shift"].setChecked(on)
        for row in LETTER_ROWS:
            for char in row:
                self.keys[char].setText(char.upper() if on else char)

    def _punctuation(self, index: int) -> str:
        return PUNCTUATION[self._mode][index]

    def _show_mode(self) -> None:
        tr = self.state.tr
        for index, symbol in enumerate(PUNCTUATION[self._mode]):
            self.keys[f"punct_{index}"].setText(symbol)
        self.keys["space"].setText(tr("osk.space_zh" if self._mode == "zh" else "osk.space_en"))
        self.keys["mode"].setText(tr("osk.switch_to_en" if self._mode == "zh" else "osk.switch_to_zh"))
        self.keys["mode"].setEnabled(not (self._engine_failed and self._mode == "en"))
        self._set_shift(False)
        self._refresh()

    # --- candidates ----------------------------------------------------------------------------

    def _set_composition(self, text: str) -> None:
        self._composition = text
        self._page = 0
        self._refresh()
        self.composing.emit(text)

    def _refresh(self) -> None:
        tr = self.state.tr
        if self._mode == "en":
            self.composition_label.setText(tr("osk.english_hint"))
            self._candidates = []
        elif self._engine_failed:
            self.composition_label.setText(tr("osk.pinyin_unavailable"))
            self._candidates = []
        elif self._engine is None:
            self.composition_label.setText(tr("osk.loading") + ("   " + self._composition if self._composition else ""))
            self._candidates = []
        else:
            self.composition_label.setText(self._composition or tr("osk.pinyin_hint"))
            self._candidates = self._engine.candidates(self._composition) if self._composition else []
        self._paginate()
        self._show_page()

    def _paginate(self) -> None:
        """Split the candidates into pages that fit the bar's width."""
        font = self.font()
        font.setPixelSize(sizes(self._large).title - 4)
        metrics = QFontMetrics(font)
        width = self.candidate_area.width()
        if width < 200:  # not laid out yet: what the keyboard's smallest layout leaves for candidates
            width = 10 * KEY_MIN_WIDTH + 9 * SPACING - 2 * (KEY_MIN_WIDTH + SPACING)
        pages: list[list[Candidate]] = []
        page: list[Candidate] = []
        used = 0
        for candidate in self._candidates:
            need = max(KEY_MIN_WIDTH, metrics.horizontalAdvance(candidate.text) + 36) + SPACING
            if page and used + need > width:
                pages.append(page)
                page, used = [], 0
            page.append(candidate)
            used += need
        if page:
            pages.append(page)
        self._pages = pages
        self._page = min(self._page, max(0, len(pages) - 1))

    def _show_page(self) -> None:
        while self._candidate_row.count():
            item = self._candidate_row.takeAt(0)
            widget = item.widget()
            if widget is not None:
                widget.hide()
                widget.deleteLater()
        height = int(TOUCH_MIN * (1.1 if self._large else 1.0))
        for index, candidate in enumerate(self._pages[self._page] if self._pages else []):
            widget = button(candidate.text, lambda c=candidate: self.choose(c), "osk-candidate",
                            name=f"osk_candidate_{index}")
            widget.setMinimumSize(KEY_MIN_WIDTH, height)
            self._candidate_row.addWidget(widget)
        self._candidate_row.addStretch(1)
        self.previous_page.setEnabled(self._page > 0)
        self.next_page.setEnabled(self._page + 1 < len(self._pages))

    def _turn(self, step: int) -> None:
        self._page = max(0, min(self._page + step, len(self._pages) - 1))
        self._show_page()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Fit the candidate pages to the new width."""
        super().resizeEvent(event)
        if self._candidates:
            QTimer.singleShot(0, self._refresh_if_alive)

    def _refresh_if_alive(self) -> None:
        if shiboken6.isValid(self):
            self._paginate()
            self._show_page()

    # --- the engine ----------------------------------------------------------------------------

    def _poll_engine(self) -> None:
        engine, error = loaded_engine(), load_error()
        if engine is not None:
            self._waiting.stop()
            self._loaded(engine)
        elif error is not None:
            self._waiting.stop()
            self._load_failed(error)

    def _loaded(self, engine: PinyinEngine) -> None:
        self._engine = engine
        self._prefer_catalog_words()
        self._refresh()
        self.engine_ready.emit()

    def _load_failed(self, exc: BaseException) -> None:
        log.error("pinyin input is unavailable, the keyboard types letters only: %s", exc)
        self._engine_failed = True
        if self._mode == "zh":
            self._commit_pending()
            self._mode = "en"
        self._show_mode()

    def _prefer_catalog_words(self) -> None:
        """Offer the catalog's service names and keywords first (居住证 for "jzz")."""
        engine, catalog = self._engine, self.state.catalog
        if engine is None or (id(engine), id(catalog)) in _preferred:
            return
        words = [service.name.zh_CN for service in catalog.services]
        words += [keyword for service in catalog.services for keyword in service.keywords_zh]
        added = engine.add_words(words)
        _preferred.add((id(engine), id(catalog)))
        log.debug("pinyin input offers %d catalog words first", added)

