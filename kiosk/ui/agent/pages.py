"""The agent station's pages: sign-in, search and reprint, sync queue, daily summary, help requests.

Each page lays itself out from what it holds (:meth:`AgentPage.build`), so a language switch
re-renders it and :meth:`AgentPage.clear` (sign-out) forgets everything it showed. Slow work
(the store, the printer, the central platform) runs through ``run_in_background``.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.background import run_in_background
from kiosk.ui.backend import PrintOutcome
from kiosk.ui.widgets.common import button, card, label
from sync.outbox import QueueEntry
from sync.search import SearchError, SearchQuery
from sync.staff import SUPERVISOR, SignInOutcome, SignInResult, StaffError

if TYPE_CHECKING:
    from kiosk.ui.agent.backend import ExportedSummary, QueueOverview
    from kiosk.ui.agent.window import AgentWindow
    from sync.report import DailySummary

log = logging.getLogger(__name__)


def local_time(moment: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A time in the terminal's local zone ('' for None)."""
    return moment.astimezone().strftime(fmt) if moment is not None else ""


def plain_tooltip(text: str) -> str:
    """``text`` as a tool tip that shows exactly that text. Qt renders a tool tip as HTML
    when it merely looks like HTML, and cell texts come from outside (reasons from the
    platform, what staff typed): escaped in a paragraph, markup in them is shown, not run."""
    return f"<p>{html.escape(text)}</p>"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, name: str) -> QTableWidget:
    """A read-only table, whole rows selected one at a time."""
    widget = QTableWidget(len(rows), len(headers))
    widget.setObjectName(name)
    widget.setHorizontalHeaderLabels(list(headers))
    widget.verticalHeader().setVisible(False)
    widget.verticalHeader().setDefaultSectionSize(36)
    widget.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    widget.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    widget.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    widget.setAlternatingRowColors(False)
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            item = QTableWidgetItem(text)
            item.setToolTip(plain_tooltip(text))  # a long reason is cut short in a narrow window
            widget.setItem(r, c, item)
    header = widget.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return widget


def date_edit(value: date, name: str) -> QDateEdit:
    """A date picker with a calendar pop-up."""
    widget = QDateEdit(QDate(value.year, value.month, value.day))
    widget.setObjectName(name)
    widget.setCalendarPopup(True)
    widget.setDisplayFormat("yyyy-MM-dd")
    return widget


def picked(widget: QDateEdit) -> date:
    """The date a picker shows."""
    d = widget.date()
    return date(d.year(), d.month(), d.day())


def message_label(text: str, ok: bool, name: str = "message") -> QWidget:
    """A banner saying how an action went (green) or what went wrong (red)."""
    widget = label(text, "banner-ok" if ok else "banner-error", name=name)
    widget.setVisible(bool(text))
    return widget


class AgentPage(QWidget):
    """A page of the agent station, rebuilt from its own data on entry and on a language switch."""

    name = "page"

    def __init__(self, station: AgentWindow) -> None:
        super().__init__()
        self.station = station
        self.state = station.state
        self.setObjectName(f"page_{self.name}")
        self._outer = QVBoxLayout(self)
        self._outer.setContentsMargins(0, 0, 0, 0)
        self.content: QWidget | None = None

    def render(self) -> None:
        """Build the page afresh."""
        self.reset()
        self.content = QWidget()
        self.content.setObjectName("content")
        layout = QVBoxLayout(self.content)
        layout.setContentsMargins(28, 20, 28, 20)
        layout.setSpacing(14)
        self.build(layout)
        self._outer.addWidget(self.content)
        self.content.show()

    def build(self, layout: QVBoxLayout) -> None:
        """Lay the page out (subclasses)."""
        raise NotImplementedError

    def reset(self) -> None:
        """Destroy the page's widgets.

        The old content keeps its parent until Qt deletes it on the UI thread: a parentless
        widget would belong to Python, and a garbage collection that happens to run on a
        worker thread would then delete it there (and crash).
        """
        if self.content is not None:
            self.content.hide()
            self._outer.removeWidget(self.content)
            self.content.deleteLater()
            self.content = None

    def entered(self) -> None:
        """The page is shown (by the menu): render it."""
        self.render()

    def clear(self) -> None:
        """Sign-out: forget what the page held (subclasses add their data)."""
        self.reset()

    def header(self, layout: QVBoxLayout, title: str, subtitle: str = "") -> None:
        """The page's title and a line under it."""
        layout.addWidget(label(title, "title", name="title"))
        if subtitle:
            layout.addWidget(label(subtitle, "subtitle", name="subtitle"))

    @property
    def account(self) -> Any:
        """The signed-in staff account (None after sign-out)."""
        return self.station.account


# --- sign-in -------------------------------------------------------------------------------------


class SignInPage(AgentPage):
    """Staff id and PIN; wrong PIN and lock-out said plainly."""

    name = "signin"

    def __init__(self, station: AgentWindow) -> None:
        super().__init__(station)
        self.notice = ""  # a key: why the last person was signed out
        self.problem = ""  # the translated problem of the last attempt
        self.busy = False
        self.username = ""

    def build(self, layout: QVBoxLayout) -> None:
        """A centred card."""
        s = self.state
        layout.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        frame, box = card(margins=32)
        frame.setFixedWidth(520)
        box.addWidget(label(s.tr("agent.signin.title"), "title", name="title"))
        box.addWidget(label(s.tr("agent.signin.subtitle"), "muted"))
        if self.notice:
            box.addWidget(label(s.tr(self.notice), "badge", name="notice"))
        box.addWidget(label(s.tr("agent.signin.staff_id"), "section"))
        self.user_edit = QLineEdit(self.username)
        self.user_edit.setObjectName("staff_id")
        self.user_edit.setPlaceholderText(s.tr("agent.signin.staff_id_hint"))
        box.addWidget(self.user_edit)
        box.addWidget(label(s.tr("agent.signin.pin"), "section"))
        self.pin_edit = QLineEdit()
        self.pin_edit.setObjectName("pin")
        self.pin_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.pin_edit.returnPressed.connect(self.submit)
        self.user_edit.returnPressed.connect(self.pin_edit.setFocus)
        box.addWidget(self.pin_edit)
        self.error = label(self.problem, "error", name="signin_message")
        self.error.setVisible(bool(self.problem))
        box.addWidget(self.error)
        self.signin_button = button(s.tr("agent.signin.checking" if self.busy else "agent.signin.button"),
                                    self.submit, "primary", name="sign_in", focus=True)
        self.signin_button.setEnabled(not self.busy)
        box.addWidget(self.signin_button)
        row.addWidget(frame)
        row.addStretch(1)
        layout.addLayout(row)
        layout.addStretch(2)
        (self.pin_edit if self.username else self.user_edit).setFocus()

    def submit(self) -> None:
        """Check the staff id and PIN in the background (argon2id takes a moment)."""
        if self.busy:
            return
        username, pin = self.user_edit.text().strip(), self.pin_edit.text()
        self.pin_edit.clear()
        if not username or not pin:
            self._show(self.state.tr("agent.signin.missing"))
            return
        self.busy = True
        self.username = username
        self.signin_button.setEnabled(False)
        self.signin_button.setText(self.state.tr("agent.signin.checking"))
        backend = self.station.backend
        run_in_background(lambda: backend.sign_in(username, pin), on_done=self._answered,
                          on_error=self._failed, context=self, name="sign in")

    def _answered(self, result: SignInResult) -> None:
        self.busy = False
        s = self.state
        if result.ok and result.account is not None:
            self.problem, self.notice, self.username = "", "", ""
            self.station.signed_in(result.account)
            return
        if result.outcome == SignInOutcome.LOCKED and result.locked_until is not None:
            self.problem = s.tr("agent.signin.locked", until=local_time(result.locked_until, "%H:%M"))
        elif result.attempts_left is not None:
            self.problem = s.tr("agent.signin.wrong_left", left=result.attempts_left)
        else:
            self.problem = s.tr("agent.signin.wrong")
        self.render()

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        log.error("sign-in failed: %s: %s", type(exc).__name__, exc)
        self.problem = self.state.tr("agent.signin.error")
        self.render()

    def _show(self, text: str) -> None:
        self.problem = text
        self.error.setText(text)
        self.error.show()

    def clear(self) -> None:
        """Nothing of the last attempt stays."""
        self.problem, self.username, self.busy = "", "", False
        super().clear()


# --- search and reprint ----------------------------------------------------------------------------


class SearchPage(AgentPage):
    """Find submissions by receipt number, ID number or day; reprint a receipt."""

    name = "search"

    def __init__(self, station: AgentWindow) -> None:
        super().__init__(station)
        self.clear_data()

    def clear_data(self) -> None:
        """Forget the query and results."""
        self.receipt_text = ""
        self.id_text = ""
        self.by_day = False
        self.day = date.today()
        self.results: list[QueueEntry] | None = None
        self.message = ("", True)
        self.busy = False

    def build(self, layout: QVBoxLayout) -> None:
        """The query, the results, reprint."""
        s = self.state
        self.header(layout, s.tr("agent.search.title"), s.tr("agent.search.subtitle"))
        frame, box = card(margins=20)
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.addWidget(label(s.tr("agent.search.receipt"), "section"), 0, 0)
        self.receipt_edit = QLineEdit(self.receipt_text)
        self.receipt_edit.setObjectName("search_receipt")
        self.receipt_edit.setPlaceholderText("SZ01-K7M-261123-00042-7")
        grid.addWidget(self.receipt_edit, 0, 1)
        grid.addWidget(label(s.tr("agent.search.id_number"), "section"), 1, 0)
        self.id_edit = QLineEdit(self.id_text)
        self.id_edit.setObjectName("search_id")
        self.id_edit.setPlaceholderText(s.tr("agent.search.id_hint"))
        grid.addWidget(self.id_edit, 1, 1)
        self.day_check = QCheckBox(s.tr("agent.search.by_day"))
        self.day_check.setObjectName("search_by_day")
        self.day_check.setChecked(self.by_day)
        grid.addWidget(self.day_check, 2, 0)
        self.day_edit = date_edit(self.day, "search_day")
        self.day_edit.setEnabled(self.by_day)
        self.day_check.toggled.connect(self.day_edit.setEnabled)
        grid.addWidget(self.day_edit, 2, 1, Qt.AlignmentFlag.AlignLeft)
        grid.setColumnStretch(1, 1)
        box.addLayout(grid)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(button(s.tr("agent.search.clear"), self._clear_query, name="search_clear", focus=True))
        self.search_button = button(s.tr("agent.search.button"), self.search, "primary", name="search_go", focus=True)
        self.search_button.setEnabled(not self.busy)
        row.addWidget(self.search_button)
        box.addLayout(row)
        for edit in (self.receipt_edit, self.id_edit):
            edit.returnPressed.connect(self.search)
        layout.addWidget(frame)

        text, ok = self.message
        layout.addWidget(message_label(text, ok))
        if self.results is not None:
            layout.addWidget(label(s.tr("agent.search.found", count=len(self.results)), "muted", name="found"))
            rows = [[e.receipt_no, local_time(e.created_at), self._service_name(e), e.summary.applicant_name,
                     e.summary.id_number, s.tr(f"agent.state.{e.state}"), e.summary.agent_id or "—"]
                    for e in self.results]
            self.results_table = table([s.tr("agent.col.receipt"), s.tr("agent.col.time"), s.tr("agent.col.service"),
                                        s.tr("agent.col.applicant"), s.tr("agent.col.id_number"),
                                        s.tr("agent.col.state"), s.tr("agent.col.agent")], rows, name="results")
            layout.addWidget(self.results_table, 1)
            foot = QHBoxLayout()
            foot.addStretch(1)
            self.reprint_button = button(s.tr("agent.search.reprint"), self.reprint, "primary", name="reprint",
                                         focus=True)
            self.reprint_button.setEnabled(False)
            self.results_table.itemSelectionChanged.connect(
                lambda: self.reprint_button.setEnabled(bool(self.results_table.selectedItems())))
            foot.addWidget(self.reprint_button)
            layout.addLayout(foot)
        else:
            layout.addStretch(1)

    def _service_name(self, entry: QueueEntry) -> str:
        names = entry.summary.service_name
        return names.get("en" if self.state.lang == "en" else "zh_CN") or entry.service_id

    def _keep_query(self) -> SearchQuery:
        self.receipt_text = self.receipt_edit.text().strip()
        self.id_text = self.id_edit.text().strip()
        self.by_day = self.day_check.isChecked()
        self.day = picked(self.day_edit)
        return SearchQuery(self.receipt_text, self.id_text, self.day if self.by_day else None)

    def _clear_query(self) -> None:
        self.clear_data()
        self.render()

    def search(self) -> None:
        """Run the search in the background."""
        if self.busy:
            return
        query = self._keep_query()
        if query.empty:
            self.message = (self.state.tr("agent.search.empty"), False)
            self.render()
            return
        self.busy = True
        self.search_button.setEnabled(False)
        backend = self.station.backend
        run_in_background(lambda: backend.search(query), on_done=self._found, on_error=self._failed,
                          context=self, name="search")

    def _found(self, results: list[QueueEntry]) -> None:
        self.busy = False
        self.results = results
        self.message = ("", True)
        self.render()

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        if isinstance(exc, SearchError):
            self.message = (self.state.tr("agent.search.bad_id"), False)
        else:
            log.error("search failed: %s: %s", type(exc).__name__, exc)
            self.message = (self.state.tr("agent.error", error=str(exc)), False)
        self.results = None
        self.render()

    def selected(self) -> QueueEntry | None:
        """The result selected in the table."""
        if self.results is None:
            return None
        rows = {i.row() for i in self.results_table.selectedIndexes()}
        return self.results[min(rows)] if rows else None

    def select_receipt(self, receipt_no: str) -> None:
        """Select the result with this receipt number (keyboard users and tests)."""
        for row, entry in enumerate(self.results or []):
            if entry.receipt_no == receipt_no:
                self.results_table.selectRow(row)

    def reprint(self) -> None:
        """Reprint the selected receipt, as a reprint, audited under the signed-in account."""
        entry, account = self.selected(), self.account
        if entry is None or account is None:
            return
        self.reprint_button.setEnabled(False)
        service = self._catalog_service(entry.service_id)
        backend, hall = self.station.backend, (self.state.hall.name_zh, self.state.hall.name_en)
        run_in_background(lambda: backend.reprint(entry.receipt_no, account, service, hall),
                          on_done=lambda outcome: self._reprinted(entry.receipt_no, outcome),
                          on_error=lambda exc: self._reprinted(entry.receipt_no, PrintOutcome(False, error=str(exc))),
                          context=self, name="reprint")

    def _catalog_service(self, service_id: str) -> Any:
        for service in self.state.catalog.services:
            if service.id == service_id:
                return service
        return None

    def _reprinted(self, receipt_no: str, outcome: PrintOutcome) -> None:
        s = self.state
        if outcome.printed:
            self.message = (s.tr("agent.search.reprinted", receipt=receipt_no), True)
        else:
            self.message = (s.tr("agent.search.reprint_failed", receipt=receipt_no, error=outcome.error), False)
        self.render()

    def clear(self) -> None:
        """Sign-out."""
        self.clear_data()
        super().clear()


# --- the sync queue -----------------------------------------------------------------------------------


class QueuePage(AgentPage):
    """Counts, what waits, dead letters with their reasons; retry or cancel one (supervisor)."""

    name = "queue"

    def __init__(self, station: AgentWindow) -> None:
        super().__init__(station)
        self.overview: QueueOverview | None = None
        self.message = ("", True)
        self.reason_text = ""

    def entered(self) -> None:
        """Shown: render what is known, then load afresh."""
        self.render()
        self.refresh()

    def refresh(self) -> None:
        """Load the queue in the background."""
        run_in_background(self.station.backend.queue_overview, on_done=self._loaded, context=self,
                          on_error=lambda exc: self._done_action(self.state.tr("agent.error", error=str(exc)), False),
                          name="queue overview")

    def _loaded(self, overview: QueueOverview) -> None:
        self.overview = overview
        self.render()

    def build(self, layout: QVBoxLayout) -> None:
        """Counts, pending, dead letters and their actions."""
        s = self.state
        self.header(layout, s.tr("agent.queue.title"), s.tr("agent.queue.subtitle"))
        text, ok = self.message
        layout.addWidget(message_label(text, ok))
        overview = self.overview
        if overview is None:
            layout.addWidget(label(s.tr("agent.loading"), "muted"))
            layout.addStretch(1)
            return
        counts = overview.counts
        figures = QHBoxLayout()
        for key, value in (("waiting", counts.get("pending", 0) + counts.get("sending", 0)),
                           ("sent", counts.get("accepted", 0)), ("dead", counts.get("dead", 0)),
                           ("cancelled", counts.get("cancelled", 0))):
            frame, box = card(margins=16)
            box.addWidget(label(str(value), "figure", name=f"count_{key}"))
            box.addWidget(label(s.tr(f"agent.outcome.{key}"), "muted"))
            figures.addWidget(frame)
        refresh = button(s.tr("agent.refresh"), self.refresh, name="queue_refresh", focus=True)
        figures.addWidget(refresh, 0, Qt.AlignmentFlag.AlignBottom)
        layout.addLayout(figures)

        layout.addWidget(label(s.tr("agent.queue.pending", count=len(overview.pending)), "section"))
        rows = [[e.receipt_no, local_time(e.created_at), e.service_id, str(e.attempts),
                 _one_line(e.last_error or "")] for e in overview.pending]
        pending = table([s.tr("agent.col.receipt"), s.tr("agent.col.time"), s.tr("agent.col.service"),
                         s.tr("agent.col.attempts"), s.tr("agent.col.last_error")], rows, name="pending_table")
        layout.addWidget(pending, 1)

        layout.addWidget(label(s.tr("agent.queue.dead", count=len(overview.dead)), "section"))
        rows = [[e.receipt_no, local_time(e.updated_at), e.service_id, _one_line(e.last_error or "", 120)]
                for e in overview.dead]
        self.dead_table = table([s.tr("agent.col.receipt"), s.tr("agent.col.time"), s.tr("agent.col.service"),
                                 s.tr("agent.col.reason")], rows, name="dead_table")
        layout.addWidget(self.dead_table, 1)
        allowed = self.account is not None and self.account.may_act_as(SUPERVISOR)
        actions = QHBoxLayout()
        self.reason_edit = QLineEdit(self.reason_text)
        self.reason_edit.setObjectName("dead_reason")
        self.reason_edit.setPlaceholderText(s.tr("agent.queue.reason_hint"))
        self.reason_edit.setEnabled(allowed)
        actions.addWidget(self.reason_edit, 1)
        self.retry_button = button(s.tr("agent.queue.retry"), self.retry, "primary", name="dead_retry", focus=True)
        self.cancel_button = button(s.tr("agent.queue.cancel"), self.cancel, "danger", name="dead_cancel",
                                    focus=True)
        for action in (self.retry_button, self.cancel_button):
            action.setEnabled(allowed and bool(overview.dead))
            actions.addWidget(action)
        layout.addLayout(actions)
        if not allowed:
            layout.addWidget(label(s.tr("agent.queue.supervisor_only"), "badge", name="supervisor_only"))

    def select_dead(self, receipt_no: str) -> None:
        """Select a dead letter by receipt number."""
        if self.overview is None:
            return
        for row, entry in enumerate(self.overview.dead):
            if entry.receipt_no == receipt_no:
                self.dead_table.selectRow(row)

    def _selected_dead(self) -> QueueEntry | None:
        if self.overview is None:
            return None
        rows = {i.row() for i in self.dead_table.selectedIndexes()}
        return self.overview.dead[min(rows)] if rows else None

    def retry(self) -> None:
        """Queue the selected dead letter again, with the reason."""
        self._act("retry")

    def cancel(self) -> None:
        """Cancel the selected dead letter for good, with the reason."""
        self._act("cancel")

    def _act(self, what: str) -> None:
        s, account = self.state, self.account
        entry = self._selected_dead()
        reason = self.reason_edit.text().strip()
        self.reason_text = reason
        if account is None:
            return
        if entry is None:
            self._done_action(s.tr("agent.queue.select_first"), False)
            return
        if not reason:
            self._done_action(s.tr("agent.queue.reason_needed"), False)
            return
        backend = self.station.backend
        work = (lambda: backend.retry_dead(account, entry.submission_id, reason)) if what == "retry" else (
            lambda: backend.cancel_dead(account, entry.submission_id, reason))
        done_key = "agent.queue.retried" if what == "retry" else "agent.queue.cancelled"
        run_in_background(work, context=self, name=f"dead letter {what}",
                          on_done=lambda _r: self._done_action(s.tr(done_key, receipt=entry.receipt_no), True),
                          on_error=self._action_failed)

    def _action_failed(self, exc: BaseException) -> None:
        if isinstance(exc, StaffError):
            text = self.state.tr("agent.queue.refused", error=str(exc))
        else:
            log.error("dead letter action failed: %s: %s", type(exc).__name__, exc)
            text = self.state.tr("agent.error", error=str(exc))
        self._done_action(text, False)

    def _done_action(self, text: str, ok: bool) -> None:
        self.message = (text, ok)
        if ok:
            self.reason_text = ""
            self.refresh()
        self.render()

    def clear(self) -> None:
        """Sign-out."""
        self.overview = None
        self.message = ("", True)
        self.reason_text = ""
        super().clear()


def _one_line(text: str, limit: int = 80) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# --- the daily summary ----------------------------------------------------------------------------------


class ReportPage(AgentPage):
    """A day's counts by service and outcome and the average session time; CSV and PDF export."""

    name = "report"

    def __init__(self, station: AgentWindow) -> None:
        super().__init__(station)
        self.day = date.today()
        self.summary: DailySummary | None = None
        self.message = ("", True)

    def entered(self) -> None:
        """Shown: load the chosen day."""
        self.render()
        self.load()

    def load(self) -> None:
        """Compute the summary of the chosen day in the background."""
        day = self.day
        run_in_background(lambda: self.station.backend.daily_summary(day), on_done=self._loaded, context=self,
                          on_error=lambda exc: self._said(self.state.tr("agent.error", error=str(exc)), False),
                          name="daily summary")

    def _loaded(self, summary: DailySummary) -> None:
        self.summary = summary
        self.render()

    def build(self, layout: QVBoxLayout) -> None:
        """Day picker, figures, tables, export."""
        s = self.state
        self.header(layout, s.tr("agent.report.title"), s.tr("agent.report.subtitle"))
        row = QHBoxLayout()
        row.addWidget(label(s.tr("agent.report.day"), "section", wrap=False))
        self.day_edit = date_edit(self.day, "report_day")
        self.day_edit.dateChanged.connect(self._day_changed)
        row.addWidget(self.day_edit)
        row.addStretch(1)
        self.export_button = button(s.tr("agent.report.export"), self.export, "primary", name="report_export",
                                    focus=True)
        row.addWidget(self.export_button)
        layout.addLayout(row)
        text, ok = self.message
        layout.addWidget(message_label(text, ok))
        summary = self.summary
        if summary is None or summary.day != self.day:
            layout.addWidget(label(s.tr("agent.loading"), "muted"))
            layout.addStretch(1)
            return
        figures = QHBoxLayout()
        average = summary.average_session_seconds
        for key, value in (("total", str(summary.total)), ("on_behalf", str(summary.on_behalf)),
                           ("tickets", str(summary.tickets)),
                           ("average", _duration(average) if average is not None else "—")):
            frame, box = card(margins=16)
            box.addWidget(label(value, "figure", name=f"figure_{key}"))
            box.addWidget(label(s.tr(f"agent.report.{key}"), "muted"))
            figures.addWidget(frame)
        layout.addLayout(figures)
        tables = QHBoxLayout()
        tables.setSpacing(18)
        left = QVBoxLayout()
        left.addWidget(label(s.tr("agent.report.by_service"), "section"))
        rows = [[line.name_en if s.lang == "en" else line.name_zh, str(line.count), str(line.on_behalf),
                 _duration(line.average_session_seconds) if line.average_session_seconds is not None else "—"]
                for line in summary.by_service]
        left.addWidget(table([s.tr("agent.col.service"), s.tr("agent.col.count"), s.tr("agent.col.on_behalf"),
                              s.tr("agent.col.average")], rows, name="by_service"), 1)
        tables.addLayout(left, 3)
        right = QVBoxLayout()
        right.addWidget(label(s.tr("agent.report.by_outcome"), "section"))
        rows = [[s.tr(f"agent.outcome.{k}"), str(v)] for k, v in summary.by_outcome.items()]
        right.addWidget(table([s.tr("agent.col.outcome"), s.tr("agent.col.count")], rows, name="by_outcome"), 1)
        tables.addLayout(right, 2)
        layout.addLayout(tables, 1)
        if summary.tests:
            layout.addWidget(label(s.tr("agent.report.tests", count=summary.tests), "muted"))

    def _day_changed(self, value: QDate) -> None:
        self.day = date(value.year(), value.month(), value.day())
        self.message = ("", True)
        self.load()

    def export(self) -> None:
        """Ask for a folder, then write the CSV and the PDF there in the background."""
        folder = self.station.choose_folder(self, self.state.tr("agent.report.choose_folder"))
        if not folder:
            return
        day = self.day
        self.export_button.setEnabled(False)
        backend = self.station.backend
        run_in_background(lambda: backend.export_summary(day, Path(folder)), on_done=self._exported,
                          on_error=lambda exc: self._said(self.state.tr("agent.report.export_failed",
                                                                        error=str(exc)), False),
                          context=self, name="export summary")

    def _exported(self, written: ExportedSummary) -> None:
        self._said(self.state.tr("agent.report.exported", csv=written.csv.name, pdf=written.pdf.name,
                                 folder=str(written.csv.parent)), True)

    def _said(self, text: str, ok: bool) -> None:
        self.message = (text, ok)
        self.render()

    def clear(self) -> None:
        """Sign-out."""
        self.summary = None
        self.message = ("", True)
        self.day = date.today()
        super().clear()


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    total = round(seconds)
    return f"{total // 60}:{total % 60:02d}"


# --- help requests -------------------------------------------------------------------------------------


class HelpPage(AgentPage):
    """The hall's open help requests (refreshed every 15 s by the window); acknowledge one."""

    name = "help"

    def __init__(self, station: AgentWindow) -> None:
        super().__init__(station)
        self.message = ("", True)

    def entered(self) -> None:
        """Shown: render what is known and fetch afresh."""
        self.render()
        self.station.refresh_help()

    def build(self, layout: QVBoxLayout) -> None:
        """The list, or "offline"."""
        s = self.state
        self.header(layout, s.tr("agent.help.title"), s.tr("agent.help.subtitle"))
        text, ok = self.message
        layout.addWidget(message_label(text, ok))
        requests = self.station.help_requests
        if requests is None:
            if self.station.help_error:
                offline = label(s.tr("agent.help.offline"), "banner-error", name="help_offline")
                layout.addWidget(offline)
            else:
                layout.addWidget(label(s.tr("agent.loading"), "muted"))
            layout.addStretch(1)
            return
        if not requests:
            layout.addWidget(label(s.tr("agent.help.none"), "subtitle", name="help_none"))
        rows = [[local_time(r.raised_at, "%H:%M:%S"), r.device_code, s.tr("agent.help.reason_call")
                 if r.reason in ("", "assistance") else r.reason] for r in requests]
        self.help_table = table([s.tr("agent.col.raised"), s.tr("agent.col.kiosk"), s.tr("agent.col.reason")],
                                rows, name="help_table")
        layout.addWidget(self.help_table, 1)
        row = QHBoxLayout()
        row.addWidget(label(s.tr("agent.help.auto_refresh"), "muted"), 1)
        row.addWidget(button(s.tr("agent.refresh"), self.station.refresh_help, name="help_refresh", focus=True))
        self.ack_button = button(s.tr("agent.help.acknowledge"), self.acknowledge, "primary", name="help_ack",
                                 focus=True)
        self.ack_button.setEnabled(bool(requests))
        row.addWidget(self.ack_button)
        layout.addLayout(row)

    def acknowledge(self) -> None:
        """Take the selected request (or the oldest one)."""
        requests, account = self.station.help_requests or [], self.account
        if not requests or account is None:
            return
        rows = {i.row() for i in self.help_table.selectedIndexes()}
        request = requests[min(rows)] if rows else requests[0]
        backend = self.station.backend
        run_in_background(lambda: backend.acknowledge_help(request.request_id, account), context=self,
                          on_done=lambda _r: self._acknowledged(request.device_code),
                          on_error=lambda _e: self._said(self.state.tr("agent.help.offline"), False),
                          name="acknowledge help")

    def _acknowledged(self, device_code: str) -> None:
        self._said(self.state.tr("agent.help.acknowledged", kiosk=device_code), True)
        self.station.refresh_help()

    def _said(self, text: str, ok: bool) -> None:
        self.message = (text, ok)
        self.render()

    def clear(self) -> None:
        """Sign-out."""
        self.message = ("", True)
        super().clear()


