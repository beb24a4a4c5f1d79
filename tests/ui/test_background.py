"""The background helper: work off the UI thread, results on it, dead screens skipped."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from kiosk.background import pending_tasks, run_in_background


def test_work_runs_off_the_ui_thread_and_the_result_comes_back_on_it(qtbot) -> None:
    ui_thread = threading.get_ident()
    seen: dict[str, int] = {}

    def work() -> int:
        seen["work"] = threading.get_ident()
        return 42

    results: list[int] = []

    def done(value: int) -> None:
        seen["done"] = threading.get_ident()
        results.append(value)

    run_in_background(work, on_done=done)
    qtbot.waitUntil(lambda: results == [42], timeout=5000)
    assert seen["work"] != ui_thread
    assert seen["done"] == ui_thread
    qtbot.waitUntil(lambda: pending_tasks() == 0)


def test_an_exception_goes_to_on_error(qtbot) -> None:
    errors: list[BaseException] = []

    def work() -> None:
        raise ValueError("printer on fire")

    run_in_background(work, on_done=lambda _: None, on_error=errors.append)
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=5000)
    assert str(errors[0]) == "printer on fire"


def test_a_destroyed_screen_gets_no_callback(qtbot) -> None:
    gate = threading.Event()
    called: list[object] = []
    screen = QWidget()
    run_in_background(lambda: gate.wait(5), on_done=called.append, context=screen)
    screen.deleteLater()
    qtbot.waitUntil(lambda: not _alive(screen), timeout=5000)
    gate.set()
    qtbot.waitUntil(lambda: pending_tasks() == 0, timeout=5000)
    assert called == []


def _alive(widget: QWidget) -> bool:
    import shiboken6

    return shiboken6.isValid(widget)


def test_a_finished_task_keeps_nothing_its_closures_captured(qtbot) -> None:
    """A citizen's answers captured by a task's closures must not outlive the task (privacy and memory)."""
    import gc
    import weakref

    class Answers:  # stands in for a form's answers or a scanned page
        pass

    def task() -> tuple[Callable[[], object], weakref.ref[Answers]]:
        answers = Answers()
        return (lambda: answers), weakref.ref(answers)  # only the closure holds the answers

    work, alive = task()
    delivered: list[object] = []
    run_in_background(work, on_done=lambda value: delivered.append(type(value)))
    del work
    qtbot.waitUntil(lambda: bool(delivered) and pending_tasks() == 0, timeout=5000)
    qtbot.wait(50)  # the relay's deleteLater
    gc.collect()
    assert alive() is None


def test_finished_tasks_are_freed(qtbot) -> None:
    """A kiosk runs a few tasks per citizen: none of them may stay in memory once delivered."""
    import gc
    import weakref

    delivered: list[object] = []
    tasks = [weakref.ref(run_in_background(lambda: 42, on_done=delivered.append)) for _ in range(50)]
    qtbot.waitUntil(lambda: len(delivered) == 50 and pending_tasks() == 0, timeout=10_000)
    qtbot.wait(50)  # the relays' deleteLater
    gc.collect()
    assert [t for t in tasks if t() is not None] == []


def test_python_garbage_is_collected_on_the_ui_thread_only(qtbot) -> None:
    import gc

    from kiosk.background import UiThreadGarbageCollector

    collector = UiThreadGarbageCollector(interval_ms=20)
    try:
        assert not gc.isenabled()
        qtbot.waitUntil(lambda: collector.ticks >= 3, timeout=5000)
    finally:
        collector.stop()
    assert gc.isenabled()


def test_a_kiosk_process_survives_more_signals_than_true_has_references(tmp_path) -> None:
    """Signals emitted from Python (every task, key press, sync report) must never abort the kiosk.

    PySide6 6.12.0 takes a reference from ``True`` on every ``emit()``; on Python 3.11 the
    process aborts ("bool_dealloc") once ``True``'s count reaches zero, after a few
    thousand emits in a small process and about a thousand citizens in the kiosk.
    """
    import os
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "emits.py"
    script.write_text(
        "import sys\n"
        "from PySide6.QtCore import QCoreApplication, QObject, Signal\n"
        "import kiosk.background\n"
        "app = QCoreApplication([])\n"
        "class Keypad(QObject):\n"
        "    pressed = Signal(object)\n"
        "pad = Keypad()\n"
        "pad.pressed.connect(lambda key: None)\n"
        "for _ in range(60_000):  # True has a few thousand references in a process this size\n"
        "    pad.pressed.emit('7')\n"
        "print('alive')\n",
        "utf-8",
    )
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in (str(repo), os.environ.get("PYTHONPATH")) if p))
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("alive")
