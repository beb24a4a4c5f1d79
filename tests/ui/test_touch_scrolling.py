"""Touch scrolling: a finger drags the lists, and building them for every citizen costs no memory for good."""

from __future__ import annotations

import gc

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QScrollArea, QVBoxLayout, QWidget

from kiosk.ui.screens.base import Screen


def gesture_types() -> int:
    """How many ``Qt.GestureType`` values Python holds (PySide keeps one per gesture type ever returned)."""
    gc.collect()
    return sum(1 for o in gc.get_objects() if isinstance(o, Qt.GestureType))


def drag_up(qtbot, area: QScrollArea) -> None:
    """A finger on the list, dragged upwards, let go."""
    viewport = area.viewport()
    device = QTest.createTouchDevice()
    y = viewport.height() - 20
    QTest.touchEvent(viewport, device).press(0, QPoint(100, y)).commit()
    for _ in range(20):
        QTest.qWait(10)
        y -= 10
        QTest.touchEvent(viewport, device).move(0, QPoint(100, y)).commit()
    QTest.touchEvent(viewport, device).release(0, QPoint(100, y)).commit()


def test_a_finger_drag_scrolls_every_list_built(qtbot) -> None:
    for _ in range(3):  # the gesture is registered once; each new list must still follow the finger
        inner = QWidget()
        column = QVBoxLayout(inner)
        for i in range(80):
            column.addWidget(QLabel(f"第 {i} 项 / item {i}"))
        area = Screen.scroll(inner)
        qtbot.addWidget(area)
        area.resize(400, 300)
        area.show()
        qtbot.waitExposed(area)
        drag_up(qtbot, area)
        qtbot.waitUntil(lambda area=area: area.verticalScrollBar().value() > 100, timeout=3_000)


def test_screens_built_again_and_again_keep_no_gesture_types(make_kiosk) -> None:
    kiosk = make_kiosk()
    service = kiosk.state.catalog.get("residence-permit")
    kiosk.window.go("catalog")
    kiosk.window.open_guide(service)
    kiosk.settle()
    before = gesture_types()
    for _ in range(10):  # each builds two scroll areas (categories, services) and the guide's
        kiosk.window.go("catalog")
        kiosk.window.open_guide(service)
        kiosk.settle()
    assert gesture_types() == before
