"""The agent station's window: a bar on top (hall, who is signed in, language, sign out),
the sign-in page, or the pages of a signed-in staff member with a menu on the left.

Staff are signed out after ``[staff] idle_signout_minutes`` without a key press or click, and
whatever a half-done submission held is wiped then (as on sign-out). Open help requests of
the hall are fetched every 15 s in the background while someone is signed in.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, Qt, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QFrame,
    QHBoxLayout,
    QLayout,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.background import UiThreadGarbageCollector, run_in_background
from kiosk.ui.agent.backend import AgentBackend, Offline
from kiosk.ui.agent.pages import AgentPage, HelpPage, QueuePage, ReportPage, SearchPage, SignInPage
from kiosk.ui.agent.submit import SubmitPage
from kiosk.ui.agent.theme import agent_stylesheet
from kiosk.ui.app import IdleWatcher
from kiosk.ui.devices import DemoIdCardReader
from kiosk.ui.session import KioskState
from kiosk.ui.theme import apply_theme
from kiosk.ui.widgets.common import button, label
from sync.staff import StaffAccount

log = logging.getLogger(__name__)

HELP_REFRESH_MS = 15_000
# staff activity: a click, a key, the wheel (a mouse merely moving over the desk is not someone working)
ACTIVITY_EVENTS = frozenset({QEvent.Type.MouseButtonPress, QEvent.Type.KeyPress, QEvent.Type.Wheel})
PAGE_ORDER = ("submit", "search", "queue", "report", "help")


class AgentWindow(QWidget):
    """The staff station: sign in, then submit on behalf, search, queue, daily summary, help requests."""

    def __init__(
        self,
        state: KioskState,
        backend: AgentBackend,
        *,
        idle_signout_ms: int = 600_000,
        id_reader: DemoIdCardReader | None = None,
        choose_folder: Callable[[QWidget, str], str] | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("AgentRoot")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.state = state
        self.backend = backend
        self.id_reader = id_reader
        self.account: StaffAccount | None = None
        self.choose_folder = choose_folder or _choose_folder
        self.help_requests: list[Any] | None = None  # None: not known (offline or not fetched yet)
        self.help_error = ""
        self.sync_worker: Any = None  # set by run_agent_station: woken after each submission
        self.collector = UiThreadGarbageCollector(parent=self)
        apply_theme(QApplication.instance(), False)  # the font; sizes come from the window's own sheet
        self.setStyleSheet(agent_stylesheet())

        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        # the pages change what they hold: they must not change the window's minimum size under the user
        outer.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.bar = QFrame()
        self.bar.setObjectName("AgentBar")
        self.bar.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        bar = QHBoxLayout(self.bar)
        bar.setContentsMargins(20, 8, 20, 8)
        bar.setSpacing(14)
        self.hall_label = label("", "hall", wrap=False, name="hall")
        bar.addWidget(self.hall_label)
        bar.addStretch(1)
        self.staff_label = label("", "", wrap=False, name="staff_label")
        bar.addWidget(self.staff_label)
        self.language_button = button("", self._toggle_language, name="language", focus=True)
        bar.addWidget(self.language_button)
        self.signout_button = button("", lambda: self.sign_out("signed out"), "signout", name="sign_out", focus=True)
        bar.addWidget(self.signout_button)
        outer.addWidget(self.bar)

        self.outer_stack = QStackedWidget()
        outer.addWidget(self.outer_stack, 1)
        self.signin_page = SignInPage(self)
        self.outer_stack.addWidget(self.signin_page)

        self.main = QWidget()
        main = QHBoxLayout(self.main)
        main.setContentsMargins(0, 0, 0, 0)
        main.setSpacing(0)
        self.nav = QFrame()
        self.nav.setObjectName("AgentNav")
        self.nav.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.nav.setFixedWidth(250)
        nav = QVBoxLayout(self.nav)
        nav.setContentsMargins(0, 16, 0, 16)
        nav.setSpacing(2)
        self.nav_buttons: dict[str, QPushButton] = {}
        for name in PAGE_ORDER:
            nav_button = button("", lambda n=name: self.show_page(n), "nav", name=f"nav_{name}", checkable=True,
                                focus=True)
            nav_button.setAutoExclusive(True)
            self.nav_buttons[name] = nav_button
            nav.addWidget(nav_button)
        nav.addStretch(1)
        main.addWidget(self.nav)
        self.pages_stack = QStackedWidget()
        main.addWidget(self.pages_stack, 1)
        self.pages: dict[str, AgentPage] = {}
        for page_class in (SubmitPage, SearchPage, QueuePage, ReportPage, HelpPage):
            page = page_class(self)
            self.pages[page.name] = page
            self.pages_stack.addWidget(page)
        self.outer_stack.addWidget(self.main)

        self.idle_timer = QTimer(self)
        self.idle_timer.setSingleShot(True)
        self.idle_timer.setInterval(max(1, idle_signout_ms))
        self.idle_timer.timeout.connect(lambda: self.sign_out("idle"))
        self._activity = IdleWatcher(self._active, self, events=ACTIVITY_EVENTS)
        QApplication.instance().installEventFilter(self._activity)
        self.help_timer = QTimer(self)
        self.help_timer.setInterval(HELP_REFRESH_MS)
        self.help_timer.timeout.connect(self.refresh_help)
        state.appearance_changed.connect(self.retranslate)
        self.retranslate()
        self.outer_stack.setCurrentWidget(self.signin_page)
        self.signin_page.render()

    # --- who is signed in -------------------------------------------------------------------

    def signed_in(self, account: StaffAccount) -> None:
        """A staff member signed in: the menu and the first page."""
        self.account = account
        log.info("staff %s (%s) signed in", account.username, account.role)
        self.idle_timer.start()
        self.outer_stack.setCurrentWidget(self.main)
        self.retranslate()
        self.show_page("submit")
        self.refresh_help()
        self.help_timer.start()

    def sign_out(self, why: str) -> None:
        """Sign out (button or idle): every page is wiped, the sign-in page comes back."""
        account = self.account
        if account is None:
            return
        self.account = None
        self.idle_timer.stop()
        self.help_timer.stop()
        self.help_requests = None
        self.state.session.wipe()
        for page in self.pages.values():
            page.clear()
        backend = self.backend
        run_in_background(lambda: backend.sign_out(account, why), context=self, name="sign out",
                          on_error=lambda exc: log.error("sign-out of %s not audited: %s", account.username, exc))
        log.info("staff %s signed out (%s)", account.username, why)
        self.signin_page.notice = "agent.signin.idle" if why == "idle" else ""
        self.outer_stack.setCurrentWidget(self.signin_page)
        self.retranslate()

    def _active(self) -> None:
        if self.account is not None:
            self.idle_timer.start()

    # --- pages ---------------------------------------------------------------------------------

    def current_page(self) -> str:
        """The name of the page on show ("signin" before anyone signs in)."""
        if self.account is None:
            return "signin"
        widget = self.pages_stack.currentWidget()
        return widget.name if isinstance(widget, AgentPage) else ""

    def page(self, name: str) -> AgentPage:
        """A page by name."""
        return self.pages[name]

    def show_page(self, name: str) -> None:
        """Show page ``name`` (rendered afresh from what it holds)."""
        if self.account is None:
            return
        target = self.pages[name]
        self.nav_buttons[name].setChecked(True)
        self.pages_stack.setCurrentWidget(target)
        target.entered()

    def retranslate(self) -> None:
        """Every text again in the current language."""
        s = self.state
        self.setWindowTitle(s.tr("agent.window_title", hall=s.hall.name(s.lang)))
        self.hall_label.setText(s.tr("agent.bar.title", hall=s.hall.name(s.lang)))
        self.language_button.setText("English" if s.lang != "en" else "中文")
        self.signout_button.setText(s.tr("agent.bar.sign_out"))
        self.signout_button.setVisible(self.account is not None)
        if self.account is not None:
            role = s.tr(f"agent.role.{self.account.role}")
            self.staff_label.setText(s.tr("agent.bar.signed_in", name=self.account.display_name, role=role))
        else:
            self.staff_label.setText(s.tr("agent.bar.not_signed_in"))
        self._nav_texts()
        if self.account is None:
            self.signin_page.render()
        else:
            current = self.pages_stack.currentWidget()
            if isinstance(current, AgentPage):
                current.render()

    def _nav_texts(self) -> None:
        s = self.state
        texts = {"submit": s.tr("agent.nav.submit"), "search": s.tr("agent.nav.search"),
                 "queue": s.tr("agent.nav.queue"), "report": s.tr("agent.nav.report"),
                 "help": s.tr("agent.nav.help")}
        if self.help_requests:
            texts["help"] = s.tr("agent.nav.help_count", count=len(self.help_requests))
        for name, nav_button in self.nav_buttons.items():
            nav_button.setText(texts[name])

    def _toggle_language(self) -> None:
        self.state.set_language("en" if self.state.lang != "en" else "zh_CN")

    # --- help requests -------------------------------------------------------------------------

    def refresh_help(self) -> None:
        """Fetch the hall's open help requests in the background."""
        if self.account is None:
            return
        run_in_background(self.backend.help_requests, on_done=self._help_fetched, on_error=self._help_failed,
                          context=self, name="help requests")

    def _help_fetched(self, requests: list[Any]) -> None:
        if self.account is None:
            return
        self.help_requests = requests
        self.help_error = ""
        self._help_changed()

    def _help_failed(self, exc: BaseException) -> None:
        if not isinstance(exc, Offline):
            log.error("help requests: %s: %s", type(exc).__name__, exc)
        self.help_requests = None
        self.help_error = str(exc)
        self._help_changed()

    def _help_changed(self) -> None:
        self._nav_texts()
        if self.current_page() == "help":
            self.pages["help"].render()

    # --- closing -----------------------------------------------------------------------------

    def shutdown(self) -> None:
        """Stop timers and the activity filter (the window is going away)."""
        QApplication.instance().removeEventFilter(self._activity)
        self.collector.stop()
        self.idle_timer.stop()
        self.help_timer.stop()


def _choose_folder(parent: QWidget, title: str) -> str:
    from PySide6.QtWidgets import QFileDialog

    return QFileDialog.getExistingDirectory(parent, title, str(Path.home()))
