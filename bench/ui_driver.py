"""Driving the real kiosk window offscreen like a citizen, for the UI benchmark and the soak.

Shared by ``bench/bench_ui.py`` (memory over sessions) and ``bench/soak.py`` (thousands of
sessions against a central platform that goes away and a printer that fails), and by the
suite's small-scale soak. One :class:`KioskRig` is one kiosk: the real :class:`KioskWindow`
with its :class:`KioskBackend` (store, print queue) on a data folder; :meth:`KioskRig.session`
walks one citizen through it: catalog, the service's guide, the ID card (prefill), every
step of the form with the catalog's example answers (a scanned page for each material, a
signature drawn on the pad), the review, submit (the commit), the receipt printed by the
configured printer, the rating and back home (the session wiped).

Nothing here waits on a clock: :func:`settle` turns the event loop until the background
tasks the session started have delivered their results, the way the running kiosk's loop
would, and then lets Qt destroy the widgets handed to ``deleteLater()``.
"""

from __future__ import annotations

import gc
import io
import os
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

SERVICES = ("residence-permit", "no-criminal-record-certificate")


def signature_png(n: int) -> Any:
    """A signature as the pad makes it: a PNG stroke (different per session)."""
    from PIL import Image, ImageDraw

    from sync.submission import Attachment

    image = Image.new("RGB", (600, 200), "white")
    ImageDraw.Draw(image).line([(20, 150), (200, 40 + n % 50), (400, 160), (580, 60)], fill="black", width=5)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return Attachment(out.getvalue(), "image/png", "signature.png")


def rss_mb() -> float:
    """Resident set size of this process in MB (Linux /proc)."""
    pages = int(Path("/proc/self/statm").read_text().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def open_fds() -> int:
    """Open file descriptors of this process (Linux /proc/self/fd)."""
    return len(os.listdir("/proc/self/fd"))


def os_threads() -> int:
    """Threads of this process as the kernel counts them (Python's and Qt's thread pool alike)."""
    return len(os.listdir("/proc/self/task"))


@dataclass(frozen=True)
class SessionResult:
    """What one citizen got: the receipt number on screen and what the printer did."""

    submission_id: str
    receipt_no: str
    printed: bool
    print_error: str


@dataclass(frozen=True)
class Sample:
    """The kiosk process after ``sessions`` sessions."""

    sessions: int
    seconds: float
    rss_mb: float
    fds: int
    threads: int
    qobjects: int
    pyobjects: int


class KioskRig:
    """One kiosk window (real screens, store, printer) on ``data_dir``, driven by script.

    ``demo`` marks submissions as tests (the UI benchmark's unenrolled-style terminal);
    the soak uses a really enrolled terminal and ``demo=False``. ``print_retry_delays``
    replaces the print queue's pauses before its automatic retries (the suite's short soak).
    """

    def __init__(self, data_dir: Path, *, demo: bool = False, config_path: Path | None = None,
                 print_retry_delays: Sequence[timedelta] | None = None) -> None:
        from PySide6.QtWidgets import QApplication

        from kiosk.catalog_source import open_catalog
        from kiosk.config import load_config
        from kiosk.ui.app import KioskWindow
        from kiosk.ui.backend import KioskBackend
        from kiosk.ui.devices import demo_identities
        from kiosk.ui.session import Hall, KioskState

        self.app = QApplication.instance() or QApplication(sys.argv[:1])
        self.data_dir = Path(data_dir)
        self.config = load_config(config_path or self.data_dir / "kiosk.toml")
        self.backend = KioskBackend(self.data_dir, self.config, print_retry_delays=print_retry_delays)
        self.state = KioskState(catalog=open_catalog(self.data_dir, self.config), backend=self.backend,
                                hall=Hall(self.config.hall.name_zh, self.config.hall.name_en), demo=demo)
        self.window = KioskWindow(self.state, kiosk_mode=False, idle_timeout_ms=3_600_000)
        self.window.resize(1920, 1080)
        self.window.show()
        self.identity = demo_identities()["zhang_san"]
        self.sync_worker: Any = None
        self.done = 0
        self.started = time.perf_counter()

    # --- the background sync worker, as run_kiosk starts it ---------------------------------

    def start_sync_worker(self) -> Any:
        """Start the kiosk's own background sync engine (woken after each submission)."""
        from kiosk.ui.app import _start_sync_worker

        self.sync_worker = _start_sync_worker(self.data_dir, self.config, self.window)
        return self.sync_worker

    # --- the event loop ------------------------------------------------------------------

    def settle(self, timeout: float = 60.0) -> None:
        """Turn the event loop until every background task has delivered, then destroy deleted widgets."""
        from PySide6.QtCore import QEvent

        from kiosk.background import pending_tasks

        app = self.app
        deadline = time.monotonic() + timeout
        while True:
            app.processEvents()
            if pending_tasks() == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.001)
        app.processEvents()
        # what the running event loop does between two events: destroy the widgets handed to
        # deleteLater() (processEvents() outside exec() never does, which would look like a leak)
        app.sendPostedEvents(None, QEvent.Type.DeferredDelete)

    def turn(self, seconds: float) -> None:
        """Run the event loop for ``seconds`` (timers fire: status refresh, print retries, sync reports)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.app.processEvents()
            time.sleep(0.01)
        self.settle()

    # --- one citizen -----------------------------------------------------------------------

    def session(self) -> SessionResult:
        """One citizen's whole visit; the receipt number and print outcome they saw."""
        from forms import example_answers
        from kiosk.ui.devices import scan_sample_page
        from sync.submission import is_attachment_ref

        n = self.done + 1
        window, state = self.window, self.state
        services = [s for s in state.catalog.services if s.id in SERVICES]
        service = services[n % len(services)]
        window.go("catalog")
        window.open_guide(service)
        window.go("identify")
        window.identified(self.identity.as_prefill(), "card")
        wizard = state.session.wizard
        assert wizard is not None
        example = example_answers(service)
        while not wizard.at_review:
            todo = [f for f in wizard.visible_fields() if wizard.answer(f.id) is None and f.id in example]
            while todo:  # an answer can reveal more fields
                field = todo.pop(0)
                value = example[field.id]
                if field.type == "signature":
                    page = signature_png(n)
                    state.session.files[page.sha256] = page
                    wizard.set_answer(field.id, page.ref())
                elif field.type == "attachment" or is_attachment_ref(value):
                    page = scan_sample_page(1)
                    state.session.files[page.sha256] = page
                    wizard.set_answer(field.id, [page.ref()] if isinstance(value, list) else page.ref())
                else:
                    wizard.set_answer(field.id, example[field.id])
                todo = [f for f in wizard.visible_fields() if wizard.answer(f.id) is None and f.id in example]
            window.screen("form").render()
            if not wizard.next().moved:
                raise RuntimeError(f"session {n}: step {wizard.current_step.id} does not validate: "
                                   f"{[(m.field_id, m.text('en')) for m in wizard.step_messages()]}")
        window.go("review")
        window.screen("review").submit()  # type: ignore[attr-defined]
        self.settle()
        submission = state.session.submission
        if window.current_name() != "submitted" or submission is None:
            raise RuntimeError(f"session {n}: not submitted (screen {window.current_name()})")
        outcome = state.session.print_outcome
        if outcome is None:
            raise RuntimeError(f"session {n}: the receipt's print job never reported back")
        result = SessionResult(submission.submission_id, submission.receipt_no, outcome.printed, outcome.error)
        window.go("rating")
        window.screen("rating").choose(5)  # type: ignore[attr-defined]
        self.settle()
        window.end_session("bench")
        self.settle()
        self.done = n
        return result

    # --- measuring -------------------------------------------------------------------------

    def sample(self) -> Sample:
        """RSS, open files, threads, live QObjects under the window and Python objects, after a full collection."""
        from PySide6.QtCore import QObject

        gc.collect()
        return Sample(self.done, time.perf_counter() - self.started, rss_mb(), open_fds(), os_threads(),
                      len(self.window.findChildren(QObject)), len(gc.get_objects()))

    def close(self) -> None:
        """Stop the sync worker, close the window, wait for background work, close the store."""
        from kiosk.background import wait_for_background

        if self.sync_worker is not None:
            self.sync_worker.stop()
        self.window.allow_close()
        self.window.close()
        wait_for_background()
        self.settle()
        self.window.collector.stop()
        self.backend.close()


def python_threads() -> list[str]:
    """Names of the live Python threads (for a report when threads pile up)."""
    return sorted(t.name for t in threading.enumerate())
