"""The kiosk's shell: one full-screen window, the status strip and the screens of the journey.

A citizen cannot leave the application: in kiosk mode the window is frameless and
full-screen, has no close button, ignores Esc and refuses to close; only SIGTERM (systemd
stopping the service) ends it, cleanly, with exit status 0 after background work is done.
``--windowed`` gives developers a normal window.

Privacy: after ``idle_timeout_seconds`` without a touch, a dialog counts down; if nobody
answers, the session is wiped (wizard, scanned files, every screen's widgets) and the home
screen comes back in the configured language.
"""

from __future__ import annotations

import logging
import signal
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import QApplication, QLayout, QStackedWidget, QVBoxLayout, QWidget

from devices.identity import Identity
from forms import ServiceDefinition, Wizard
from kiosk.background import UiThreadGarbageCollector, run_in_background, wait_for_background
from kiosk.ui.devices import DemoIdCardReader, demo_identities
from kiosk.ui.overlay import Overlay
from kiosk.ui.screens.appointment import AppointmentScreen
from kiosk.ui.screens.base import Screen
from kiosk.ui.screens.catalog import CatalogScreen
from kiosk.ui.screens.done import RatingScreen, SubmittedScreen
from kiosk.ui.screens.form import FormScreen
from kiosk.ui.screens.guide import GuideScreen
from kiosk.ui.screens.home import HomeScreen
from kiosk.ui.screens.identify import IdentifyScreen
from kiosk.ui.screens.maintenance import MaintenanceScreen
from kiosk.ui.screens.review import ReviewScreen
from kiosk.ui.screens.status import StatusScreen
from kiosk.ui.session import KioskState
from kiosk.ui.speech import Voice
from kiosk.ui.theme import apply_theme
from kiosk.ui.widgets.status_strip import StatusStrip
from sync.submission import EnqueuedSubmission

log = logging.getLogger(__name__)

STATUS_REFRESH_MS = 30_000
PRINT_RETRY_MS = 10_000  # how often failed receipts whose retry is due are printed again
MAINTENANCE_TAPS = 5  # taps on the hall's name ...
MAINTENANCE_TAP_WINDOW = 4.0  # ... within this many seconds open the maintenance screen
ACTIVITY_EVENTS = frozenset({
    QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.TouchBegin, QEvent.Type.Wheel,
    QEvent.Type.TouchUpdate, QEvent.Type.MouseMove,
})


class IdleWatcher(QObject):
    """Restarts the idle timer on every touch, key or click anywhere in the application."""

    def __init__(self, on_activity: Any, parent: QObject | None = None,
                 events: frozenset[QEvent.Type] = ACTIVITY_EVENTS) -> None:
        super().__init__(parent)
        self._on_activity = on_activity
        self._events = events

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Note activity; never swallow the event."""
        if event.type() in self._events:
            self._on_activity()
        return False


class KioskWindow(QWidget):
    """The application window: status strip on top, one screen at a time below."""

    def __init__(
        self,
        state: KioskState,
        *,
        kiosk_mode: bool = True,
        idle_timeout_ms: int = 90_000,
        idle_warning_ms: int = 20_000,
        id_reader: DemoIdCardReader | None = None,
        voice: Voice | None = None,
        card_poller: Any = None,
    ) -> None:
        super().__init__()
        self.setObjectName("KioskRoot")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.state = state
        self.kiosk_mode = kiosk_mode
        self.id_reader = id_reader
        self.voice = voice or Voice(parent=self)
        self.card_poller: Any = None  # a real ID card reader ([devices] idcard_port), polled on the identify screen
        if card_poller is not None:
            self.attach_card_reader(card_poller)
        self.demo_identities: Mapping[str, Identity] = demo_identities() if state.demo else {}
        self._closing_allowed = not kiosk_mode
        self.setWindowTitle(state.hall.name(state.lang))
        if kiosk_mode:
            self.setWindowFlags(Qt.WindowType.FramelessWindowHint | Qt.WindowType.WindowStaysOnTopHint)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        # the window's size is the screen's: the layout must not impose a minimum on it
        layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.strip = StatusStrip(state)
        self.strip.call_staff.connect(self.call_staff)
        self.strip.voice_toggled.connect(self._voice_toggled)
        self.strip.hall_tapped.connect(self._hall_tapped)
        self._hall_taps: list[float] = []
        self._staff_key = "staff.offline"  # what the last "call staff" came to (re-shown after a language switch)
        layout.addWidget(self.strip)
        self.stack = QStackedWidget()
        layout.addWidget(self.stack, 1)
        self.sync_worker: Any = None  # set by run_kiosk: woken after each submission
        self.demo_appointment: Any = None  # demo mode: a callable returning a fresh appointment token
        self._pending_catalog: Any = None  # a catalog update waiting for the session to end
        self.screens: dict[str, Screen] = {}
        for screen_class in (HomeScreen, AppointmentScreen, CatalogScreen, GuideScreen, IdentifyScreen, FormScreen,
                             ReviewScreen, SubmittedScreen, RatingScreen, StatusScreen, MaintenanceScreen):
            screen = screen_class(self)
            self.screens[screen.name] = screen
            self.stack.addWidget(screen)
        self.overlay = Overlay(self)
        self.collector = UiThreadGarbageCollector(parent=self)  # Qt objects die on the UI thread only

        # idle timeout: a quiet period, then a countdown, then the wipe
        self.idle_timeout_ms = idle_timeout_ms
        self.idle_warning_ms = min(idle_warning_ms, idle_timeout_ms)
        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.timeout.connect(self._idle_warning)
        self.countdown_timer = QTimer(self)
        self.countdown_timer.setInterval(1000)
        self.countdown_timer.timeout.connect(self._countdown_tick)
        self._countdown_left_ms = 0
        self.idle_watcher = IdleWatcher(self.activity, self)
        QApplication.instance().installEventFilter(self.idle_watcher)

        self.status_timer = QTimer(self)
        self.status_timer.timeout.connect(self.refresh_status)
        self.status_timer.start(STATUS_REFRESH_MS)
        self.print_retry_timer = QTimer(self)
        self.print_retry_timer.timeout.connect(self.retry_prints)
        self.print_retry_timer.start(PRINT_RETRY_MS)
        state.appearance_changed.connect(self._appearance_changed)
        state.central_state_changed.connect(self.strip.set_central_state)
        apply_theme(QApplication.instance(), state.large_type)
        self.go("home")
        self.refresh_status()

    # --- navigation ------------------------------------------------------------------------

    def current_name(self) -> str:
        """The name of the screen on show."""
        widget = self.stack.currentWidget()
        return widget.name if isinstance(widget, Screen) else ""

    def screen(self, name: str) -> Screen:
        """A screen by name."""
        return self.screens[name]

    def go(self, name: str) -> None:
        """Show screen ``name``, freshly rendered; the previous screen's widgets are destroyed."""
        previous = self.stack.currentWidget()
        target = self.screens[name]
        if isinstance(previous, Screen) and previous is not target:
            previous.reset()
        self.stack.setCurrentWidget(target)
        if self.card_poller is not None:
            self.card_poller.set_active(name == "identify")
        target.entered()
        self._arm_idle()
        self.speak_screen()
        log.debug("screen %s", name)

    def home(self) -> None:
        """End the citizen's session and go home."""
        self.end_session("finished")

    def open_guide(self, service: ServiceDefinition) -> None:
        """A service was chosen: its guide."""
        self.state.session.service = service
        if self.state.session.started is None:
            self.state.session.started = time.monotonic()
        self.go("guide")

    def identified(self, prefill: Mapping[str, Any], how: str) -> None:
        """The citizen is identified: start the form, prefilled from the card (or the typed number)."""
        session = self.state.session
        if session.service is None:
            return
        if session.wizard is not None:
            session.wizard.wipe()
        session.wizard = Wizard(session.service, identity=prefill)
        session.identified_by = how
        session.return_to_review = False
        self.go("form")

    def submitted(self, result: EnqueuedSubmission) -> None:
        """The submission is committed: show the receipt number and print the receipt."""
        self.state.session.submission = result
        self.go("submitted")
        screen = self.screens["submitted"]
        assert isinstance(screen, SubmittedScreen)
        screen.start_printing()
        self.refresh_status()
        if self.sync_worker is not None:
            self.sync_worker.wake()

    def end_session(self, why: str) -> None:
        """Wipe everything about the citizen and show the home screen."""
        log.info("session ended (%s)", why)
        self.overlay.close_overlay()
        self.countdown_timer.stop()
        self.state.session.wipe()
        for screen in self.screens.values():
            screen.reset()
            clear = getattr(screen, "clear_session", None)
            if clear is not None:
                clear()
        self.state.reset_appearance()
        self.voice.stop()
        self.strip.retranslate()
        pending = self._pending_catalog
        if pending is not None:
            self._pending_catalog = None
            self.state.replace_catalog(pending)
        self.go("home")

    # --- scans -------------------------------------------------------------------------------

    def handle_scan(self, result: Any) -> None:
        """A code was scanned (wedge, serial or camera scanner): act on what it is, where it makes sense."""
        from devices.payload import PayloadKind

        kind = result.kind
        current = self.current_name()
        if kind == PayloadKind.RECEIPT and result.payload.ok and result.payload.receipt is not None:
            if self.state.session.active and current not in ("home", "status", "rating"):
                self._scan_refused("scan.busy")  # never drop a half-filled form for a scan
                return
            if current != "status":
                self.state.session.wipe()
                self.go("status")
            screen = self.screens["status"]
            assert isinstance(screen, StatusScreen)
            screen.clear_session()
            screen.look_up(str(result.payload.receipt))
            return
        if kind == PayloadKind.APPOINTMENT:  # verified with the enrolment's key by the check-in itself
            if self.state.session.active and current not in ("home", "appointment", "status", "rating"):
                self._scan_refused("scan.busy")
                return
            if current != "appointment":
                self.state.session.wipe()
                self.go("appointment")
            screen = self.screens["appointment"]
            assert isinstance(screen, AppointmentScreen)
            screen.clear_session()
            screen.check_in(result.text)
            return
        if kind == PayloadKind.ENROLMENT:  # only a signed-in technician's maintenance screen enrols
            screen = self.screens["maintenance"]
            if current == "maintenance" and isinstance(screen, MaintenanceScreen) and screen.account is not None:
                screen.enrol(result.text)
                return
        if kind == PayloadKind.ID_NUMBER and result.payload.ok and current == "identify":
            screen = self.screens["identify"]
            assert isinstance(screen, IdentifyScreen)
            screen.scanned_id_number(result.payload.id_number or "")
            return
        if not result.payload.ok:
            self._scan_refused("scan.damaged")
        elif kind == PayloadKind.URL:
            self._scan_refused("scan.url")
        else:
            self._scan_refused("scan.unusable")
        log.info("scan of kind %s not used on screen %s", kind.value, current)

    def _scan_refused(self, key: str) -> None:
        s = self.state
        self.overlay.open("scan", s.tr("scan.title"), s.tr(key),
                          [(s.tr("common.ok"), self.overlay.close_overlay, "primary", "overlay_ok")])
        self.speak(s.tr(key))

    def demo_scan_last_receipt(self) -> None:
        """Demo: "hold up" the newest receipt's QR code to the camera."""
        run_in_background(self.state.backend.demo_receipt_scan, on_done=self._demo_scanned, context=self,
                          name="demo scan")

    def _demo_scanned(self, result: Any) -> None:
        if result is None:
            self._scan_refused("scan.demo_none")
        else:
            self.handle_scan(result)

    def _hall_tapped(self) -> None:
        """Five taps on the hall's name within four seconds: the technicians' maintenance screen."""
        now = time.monotonic()
        self._hall_taps = [t for t in self._hall_taps if now - t < MAINTENANCE_TAP_WINDOW] + [now]
        if len(self._hall_taps) >= MAINTENANCE_TAPS and self.current_name() != "maintenance":
            self._hall_taps = []
            self.end_session("maintenance")
            self.go("maintenance")

    def attach_card_reader(self, poller: Any) -> None:
        """Use a real ID card reader (:class:`kiosk.ui.devices.IdCardPoller`)."""
        self.card_poller = poller
        poller.card_read.connect(self._card_read)
        poller.card_failed.connect(self._card_failed)

    def _card_read(self, identity: Identity) -> None:
        screen = self.screens["identify"]
        if self.current_name() == "identify" and isinstance(screen, IdentifyScreen):
            screen._card_read(identity)

    def _card_failed(self, why: str) -> None:
        screen = self.screens["identify"]
        if self.current_name() == "identify" and isinstance(screen, IdentifyScreen):
            screen.card_problem(why)

    # --- voice ---------------------------------------------------------------------------------

    def _voice_toggled(self, on: bool) -> None:
        self.state.voice_on = on
        if on:
            if not self.voice.available:
                self.strip.set_voice_available(False)
            self.speak_screen()
        else:
            self.voice.stop()

    def speak(self, text: str) -> None:
        """Say ``text`` if voice guidance is on."""
        if self.state.voice_on:
            self.voice.say(text, self.state.lang)

    def speak_screen(self) -> None:
        """Read the current screen's instruction (its title and first line unless it says otherwise)."""
        if not self.state.voice_on:
            return
        widget = self.stack.currentWidget()
        if not isinstance(widget, Screen):
            return
        self.speak(widget.instruction())

    # --- dialogs ---------------------------------------------------------------------------

    def call_staff(self) -> None:
        """"Call staff": tell the agent stations through the platform; offline, send the citizen to the help desk."""
        s = self.state
        self.overlay.open("staff", s.tr("staff.title"), s.tr("staff.calling"),
                          [(s.tr("common.ok"), self.overlay.close_overlay, "primary", "overlay_ok")])
        run_in_background(s.backend.call_staff, on_done=self._staff_answer,
                          on_error=lambda exc: self._staff_answer(None), context=self, name="call staff")

    def _staff_answer(self, raised: Any) -> None:
        key = "staff.called" if raised is not None and raised.delivered else "staff.offline"
        self._staff_key = key
        if self.overlay.is_open and self.overlay.kind == "staff":
            self.overlay.set_text(self.state.tr(key))
        self.speak(self.state.tr(key))

    def _reopen_staff(self) -> None:
        s = self.state
        self.overlay.open("staff", s.tr("staff.title"), s.tr(self._staff_key),
                          [(s.tr("common.ok"), self.overlay.close_overlay, "primary", "overlay_ok")])

    def ask_cancel(self) -> None:
        """Confirm before throwing the citizen's answers away."""
        s = self.state
        self.overlay.open("cancel", s.tr("cancel.title"), s.tr("cancel.message"), [
            (s.tr("cancel.no"), self.overlay.close_overlay, "", "overlay_no"),
            (s.tr("cancel.yes"), lambda: self.end_session("cancelled"), "primary", "overlay_yes"),
        ])

    def show_demo_panel(self) -> None:
        """Demo mode's developer panel (F12): tap a demo ID card."""
        if not self.state.demo:
            return
        s = self.state
        self.overlay.open("demo", s.tr("demo.title"), s.tr("demo.text"),
                          [(s.tr("common.close"), self.overlay.close_overlay, "primary", "overlay_close")])
        for key, identity in self.demo_identities.items():
            self.overlay.add_widget(_demo_card_button(self, key, identity))
        from kiosk.ui.widgets.common import button

        self.overlay.add_widget(button(s.tr("demo.scan_receipt"), self._demo_panel_scan, name="panel_scan_receipt"))

    def _demo_panel_scan(self) -> None:
        self.overlay.close_overlay()
        self.demo_scan_last_receipt()

    def demo_tap(self, identity: Identity) -> None:
        """Demo: a card was tapped (from the panel)."""
        self.overlay.close_overlay()
        screen = self.screens["identify"]
        if self.current_name() == "identify" and isinstance(screen, IdentifyScreen):
            screen.tap_card(identity)

    # --- idle timeout ------------------------------------------------------------------------

    def activity(self) -> None:
        """Someone touched the screen: the idle clock starts again (not during the countdown)."""
        if not self.countdown_timer.isActive():
            self._arm_idle()

    def _arm_idle(self) -> None:
        if self.current_name() == "home" and not self.state.session.active:
            self.idle_timer.stop()
            return
        self.idle_timer.start(max(0, self.idle_timeout_ms - self.idle_warning_ms))

    def _idle_warning(self) -> None:
        s = self.state
        self._countdown_left_ms = self.idle_warning_ms
        self.overlay.open("idle", s.tr("idle.title"), self._countdown_text(), [
            (s.tr("idle.end"), lambda: self.end_session("ended at idle warning"), "", "idle_end"),
            (s.tr("idle.continue"), self._idle_continue, "primary", "idle_continue"),
        ])
        self.countdown_timer.start(min(1000, max(1, self.idle_warning_ms)))

    def _countdown_text(self) -> str:
        seconds = max(0, (self._countdown_left_ms + 999) // 1000)
        return self.state.tr("idle.message", seconds=seconds)

    def _countdown_tick(self) -> None:
        self._countdown_left_ms -= self.countdown_timer.interval()
        if self._countdown_left_ms <= 0:
            self.countdown_timer.stop()
            self.end_session("idle timeout")
            return
        self.overlay.set_text(self._countdown_text())

    def _idle_continue(self) -> None:
        self.countdown_timer.stop()
        self.overlay.close_overlay()
        self._arm_idle()

    # --- appearance and status -----------------------------------------------------------

    def _appearance_changed(self) -> None:
        apply_theme(QApplication.instance(), self.state.large_type)
        self.setWindowTitle(self.state.hall.name(self.state.lang))
        self.strip.retranslate()
        current = self.stack.currentWidget()
        if isinstance(current, Screen):
            current.render()
        if self.overlay.is_open:
            kind = self.overlay.kind
            self.overlay.close_overlay()
            {"staff": self._reopen_staff, "cancel": self.ask_cancel, "demo": self.show_demo_panel,
             "idle": self._idle_warning}.get(kind, lambda: None)()
        self.speak_screen()

    def refresh_status(self) -> None:
        """Ask the store and the printer how they are (in the background) and show it."""
        backend = self.state.backend
        run_in_background(backend.waiting_to_sync, on_done=self.strip.set_waiting,
                          on_error=lambda _e: self.strip.set_waiting(None), context=self, name="queue count")
        run_in_background(backend.printer_ready, on_done=self.strip.set_printer, context=self, name="printer")

    def sync_reported(self, report: Any, central: str) -> None:
        """A sync cycle ended (reported from the worker thread, delivered on the UI thread)."""
        self.strip.set_central_state(central)
        if report is not None:
            self.strip.set_waiting(report.pending)
            if report.catalog == "updated":
                self.catalog_updated()

    def catalog_updated(self) -> None:
        """A new signed catalog was applied: load it off the UI thread, use it from the next session on."""
        from kiosk.catalog_source import open_catalog

        backend = self.state.backend
        run_in_background(lambda: open_catalog(backend.data_dir, backend.config), on_done=self._use_catalog,
                          on_error=lambda exc: log.error("the updated catalog cannot be opened (%s); "
                                                         "keeping the one in use", exc),
                          context=self, name="catalog reload")

    def _use_catalog(self, catalog: Any) -> None:
        if self.state.session.active or self.current_name() != "home":
            self._pending_catalog = catalog
            return
        self.state.replace_catalog(catalog)

    def retry_prints(self) -> None:
        """Print again, in the background, the receipts that failed and whose automatic retry is due."""
        run_in_background(self.state.backend.retry_prints, on_done=self._prints_retried, context=self,
                          name="print retries")

    def _prints_retried(self, outcomes: list[Any]) -> None:
        if outcomes:
            self.strip.set_printer(outcomes[-1].printed)

    def printer_changed(self, ok: bool) -> None:
        """A print just worked (or did not)."""
        self.strip.set_printer(ok)

    # --- no way out ----------------------------------------------------------------------------

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc does nothing in kiosk mode; F12 opens the demo panel in demo mode."""
        if event.key() == Qt.Key.Key_F12 and self.state.demo:
            self.show_demo_panel()
            return
        if event.key() == Qt.Key.Key_Escape:
            event.accept()
            return
        super().keyPressEvent(event)

    def allow_close(self) -> None:
        """Let the window close (shutdown on SIGTERM)."""
        self._closing_allowed = True

    def closeEvent(self, event: QCloseEvent) -> None:
        """A citizen cannot close the kiosk (Alt+F4 and the like are refused)."""
        if self._closing_allowed:
            event.accept()
        else:
            event.ignore()


def _demo_card_button(window: KioskWindow, key: str, identity: Identity) -> QWidget:
    from kiosk.ui.widgets.common import button

    return button(window.state.tr("identify.demo_card", name=identity.name), lambda: window.demo_tap(identity),
                  "primary", name=f"panel_card_{key}")


# --- running the application --------------------------------------------------------------------


def install_sigterm_quit(app: QApplication, window: KioskWindow) -> QTimer:
    """SIGTERM (and SIGINT) quit the event loop cleanly.

    Python runs signal handlers only between bytecodes, so a short timer gives the
    interpreter a chance while Qt's loop waits.
    """
    def stop(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping the kiosk", signum)
        window.allow_close()
        app.quit()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    ticker = QTimer(app)
    ticker.timeout.connect(lambda: None)
    ticker.start(200)
    return ticker


def _start_sync_worker(data_dir: Path, config: Any, window: KioskWindow) -> Any:
    """The background sync engine, reporting to the status strip."""
    from forms import load_catalog
    from kiosk.commands.sync import catalog_root
    from kiosk.ui.sync_worker import SyncWorker
    from sync.engine import SyncOptions

    options = SyncOptions(catalog_root=catalog_root(data_dir), validate_catalog=load_catalog)
    worker = SyncWorker(data_dir, config, options, parent=window)
    worker.reported.connect(window.sync_reported)
    window.sync_worker = worker
    worker.start()
    return worker


def run_kiosk(
    data_dir: Path,
    config: Any,
    *,
    windowed: bool = False,
    demo: bool = False,
    argv: list[str] | None = None,
    demo_appointment: Any = None,
    agent: bool = False,
) -> int:
    """Start the kiosk application and run it until SIGTERM; the exit status.

    ``agent`` (or ``[terminal] mode = "agent"``) starts the staff station instead.
    """
    if agent or getattr(config.terminal, "mode", "kiosk") == "agent":
        from kiosk.ui.agent.app import run_agent_station

        return run_agent_station(data_dir, config, demo=demo, argv=argv)
    from kiosk.catalog_source import open_catalog
    from kiosk.ui.backend import KioskBackend
    from kiosk.ui.session import Hall

    app = QApplication.instance() or QApplication(argv or ["kiosk"])
    app.setApplicationName("Tongban")
    catalog = open_catalog(data_dir, config)
    backend = KioskBackend(data_dir, config)
    state = KioskState(
        catalog=catalog,
        backend=backend,
        hall=Hall(config.hall.name_zh, config.hall.name_en),
        language=config.terminal.language,
        large_type=config.terminal.large_type,
        voice=config.terminal.voice_guidance,
        demo=demo,
    )
    reader = DemoIdCardReader() if demo else None
    poller = None
    if config.devices.idcard_port and not demo:
        from kiosk.ui.devices import IdCardPoller

        poller = IdCardPoller(config.devices.idcard_port, config.devices.idcard_baudrate)
    timeout_ms = config.terminal.idle_timeout_seconds * 1000
    window = KioskWindow(state, kiosk_mode=not windowed, idle_timeout_ms=timeout_ms,
                         idle_warning_ms=min(20_000, timeout_ms // 3), id_reader=reader,
                         voice=Voice(config.terminal.voice_engine), card_poller=poller)
    from kiosk.ui.scanner import WedgeKeyFilter

    wedge = WedgeKeyFilter(parent=window)
    wedge.scanned.connect(window.handle_scan)
    app.installEventFilter(wedge)
    serial_feed = None
    if config.devices.scanner_port and not demo:
        from kiosk.ui.scanner import SerialScannerFeed

        serial_feed = SerialScannerFeed(config.devices.scanner_port, config.devices.scanner_baudrate, parent=window)
        serial_feed.scanned.connect(window.handle_scan)
        serial_feed.start()
    window.demo_appointment = demo_appointment
    run_in_background(lambda: backend.record_config(config.source), context=window, name="config audit")
    run_in_background(backend.recover_interrupted_prints, context=window, name="interrupted prints")
    install_sigterm_quit(app, window)
    worker = _start_sync_worker(data_dir, config, window)
    if windowed:
        window.resize(1600, 900)
        window.show()
    else:
        window.showFullScreen()
    # systemd (deploy/tongban-kiosk.service): READY once the loop runs, WATCHDOG from the loop, STOPPING at quit.
    from kiosk.systemd import Watchdog

    watchdog = Watchdog.from_env()
    if watchdog.ping_interval_ms:
        pings = QTimer(app, interval=watchdog.ping_interval_ms, timeout=watchdog.ping)
        pings.start()
    app.aboutToQuit.connect(watchdog.stopping)
    QTimer.singleShot(0, watchdog.ready)
    log.info("kiosk running (%s%s)", "windowed" if windowed else "full screen", ", demo" if demo else "")
    try:
        app.exec()
    finally:
        window.allow_close()
        window.close()
        if serial_feed is not None:
            serial_feed.stop()
        worker.stop()
        wait_for_background()
        window.collector.stop()
        backend.close()
        if reader is not None:
            reader.stop()
        if poller is not None:
            poller.stop()
    log.info("kiosk stopped")
    return 0
