"""A big numeric keypad for ID numbers, phone numbers and amounts.

The keypad never takes focus: it types into a target :class:`QLineEdit` (set with
:meth:`NumericKeypad.set_target`, usually the field the citizen last touched), so a
physical keyboard, a scanner and the keypad all end up in the same place.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QLineEdit, QWidget

from kiosk.ui.widgets.common import button

BACKSPACE = "←"


class NumericKeypad(QWidget):
    """Digits 0-9, an extra key (``X`` for ID numbers, ``.`` for decimals, or none) and backspace."""

    pressed = Signal(str)

    def __init__(self, extra: str = "X", *, clear_text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("NumericKeypad")
        self._target: QLineEdit | None = None
        self._extra = extra
        grid = QGridLayout(self)
        grid.setSpacing(12)
        grid.setContentsMargins(0, 0, 0, 0)
        keys = ["1", "2", "3", "4", "5", "6", "7", "8", "9", extra, "0", BACKSPACE]
        self.keys: dict[str, QWidget] = {}
        for index, key in enumerate(keys):
            if not key:
                continue
            press = self._press_extra if key == extra else (lambda k=key: self._press(k))
            widget = button(key, press, "key",
                            name={BACKSPACE: "key_backspace", extra: "key_extra"}.get(key, f"key_{key}"))
            if key == BACKSPACE:
                widget.setAccessibleName("backspace")
            grid.addWidget(widget, index // 3, index % 3)
            self.keys["extra" if key == extra else key] = widget
        if clear_text:
            clear = button(clear_text, lambda: self._press("clear"), "key", name="key_clear")
            grid.addWidget(clear, 4, 0, 1, 3)
            self.keys["clear"] = clear

    def set_target(self, target: QLineEdit | None) -> None:
        """Type into ``target`` from now on (None: the keypad only emits :attr:`pressed`)."""
        self._target = target

    def set_extra(self, extra: str) -> None:
        """Change the extra key (``X``, ``.``) or disable it (``""``)."""
        self._extra = extra
        widget = self.keys.get("extra")
        if widget is not None:
            widget.setText(extra or " ")
            widget.setEnabled(bool(extra))

    def _press_extra(self) -> None:
        if self._extra:
            self._press(self._extra)

    def _press(self, key: str) -> None:
        target = self._target
        if target is not None:
            if key == BACKSPACE:
                target.backspace()
            elif key == "clear":
                target.clear()
            else:
                target.insert(key)
        self.pressed.emit(key)


class AlphanumericKeypad(QWidget):
    """Digits and capital letters (receipt numbers: ``SZ01-K7M-261123-00042-7``), dash and backspace.

    Like :class:`NumericKeypad` it never takes focus and types into its target.
    """

    ROWS = ("1234567890", "QWERTYUIOP", "ASDFGHJKL-", "ZXCVBNM")

    def __init__(self, *, clear_text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AlphanumericKeypad")
        self._target: QLineEdit | None = None
        grid = QGridLayout(self)
        grid.setSpacing(8)
        grid.setContentsMargins(0, 0, 0, 0)
        self.keys: dict[str, QWidget] = {}
        for row, keys in enumerate(self.ROWS):
            for column, key in enumerate(keys):
                widget = button(key, lambda k=key: self._press(k), "key-small", name=f"key_{key}")
                grid.addWidget(widget, row, column)
                self.keys[key] = widget
        back = button(BACKSPACE, lambda: self._press(BACKSPACE), "key-small", name="key_backspace")
        back.setAccessibleName("backspace")
        grid.addWidget(back, 3, 7, 1, 3 if not clear_text else 1)
        self.keys[BACKSPACE] = back
        if clear_text:
            clear = button(clear_text, lambda: self._press("clear"), "key-small", name="key_clear")
            grid.addWidget(clear, 3, 8, 1, 2)
            self.keys["clear"] = clear

    def set_target(self, target: QLineEdit | None) -> None:
        """Type into ``target`` from now on."""
        self._target = target

    def _press(self, key: str) -> None:
        target = self._target
        if target is None:
            return
        if key == BACKSPACE:
            target.backspace()
        elif key == "clear":
            target.clear()
        else:
            target.insert(key)
