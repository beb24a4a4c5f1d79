"""Submitting on a citizen's behalf (代办): service, citizen, the same form engine, receipt.

The steps are the kiosk's: choose a service from the catalog, identify the citizen (ID card
on the reader — simulated in demo mode — or the ID number typed and checked by GB 11643),
then the service's form through :class:`forms.Wizard` with the kiosk's own field cards
(:class:`kiosk.ui.widgets.fields.FieldCard`, typed on the station's keyboard), a review,
and the submission committed with the agent recorded (``Store.enqueue(agent_id=...)``).
The receipt is printed at once and its number shown.
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLineEdit, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from forms import ServiceDefinition, Wizard, is_valid_id_number
from forms.idnumber import normalize_id_number
from kiosk.background import run_in_background
from kiosk.ui.agent.pages import AgentPage
from kiosk.ui.backend import PrintOutcome
from kiosk.ui.screens.review import referenced_files
from kiosk.ui.widgets.common import button, card, label
from kiosk.ui.widgets.fields import FieldCard, FieldHost, scan_document_page
from sync.enrolment import NotEnrolled
from sync.store import StorageFull
from sync.submission import EnqueuedSubmission

if TYPE_CHECKING:
    from devices.identity import Identity
    from kiosk.ui.agent.window import AgentWindow

log = logging.getLogger(__name__)

STEPS = ("service", "identify", "form", "review", "done")


class SubmitPage(AgentPage):
    """One citizen's submission at the counter, step by step."""

    name = "submit"

    def __init__(self, station: AgentWindow) -> None:
        super().__init__(station)
        self.cards: dict[str, FieldCard] = {}
        self.clear_data()

    def clear_data(self) -> None:
        """Forget the citizen (the session's wizard and files are wiped by the caller)."""
        self.step = "service"
        self.filter_text = ""
        self.problem = ""
        self.busy = False
        self.started = 0.0
        self.submission: EnqueuedSubmission | None = None
        self.print_outcome: PrintOutcome | None = None
        self.cards = {}

    @property
    def session(self) -> Any:
        """The shared session (service, wizard, scanned files, submission)."""
        return self.state.session

    def build(self, layout: QVBoxLayout) -> None:
        """The current step."""
        s = self.state
        numbers = {"service": 1, "identify": 2, "form": 3, "review": 4, "done": 5}
        progress = s.tr("agent.submit.step", n=numbers[self.step], total=5)
        if self.session.service is not None:
            progress += "  ·  " + s.text(self.session.service.name)
        layout.addWidget(label(progress, "muted", name="progress_text"))
        {"service": self._build_service, "identify": self._build_identify, "form": self._build_form,
         "review": self._build_review, "done": self._build_done}[self.step](layout)

    def go(self, step: str) -> None:
        """Move to a step."""
        self.step = step
        self.problem = ""
        self.render()

    # --- 1. service ------------------------------------------------------------------------------

    def _build_service(self, layout: QVBoxLayout) -> None:
        s = self.state
        self.header(layout, s.tr("agent.submit.service_title"), s.tr("agent.submit.service_subtitle"))
        self.filter_edit = QLineEdit(self.filter_text)
        self.filter_edit.setObjectName("service_filter")
        self.filter_edit.setPlaceholderText(s.tr("agent.submit.filter_hint"))
        self.filter_edit.textChanged.connect(self._filter)
        layout.addWidget(self.filter_edit)
        self.service_list = QListWidget()
        self.service_list.setObjectName("service_list")
        for service in s.catalog.services:
            item = QListWidgetItem(f"{s.text(service.name)}    ({service.id})")
            item.setData(256, service.id)  # Qt.UserRole
            self.service_list.addItem(item)
        self.service_list.itemDoubleClicked.connect(lambda _i: self.choose_selected())
        layout.addWidget(self.service_list, 1)
        self._filter(self.filter_text)
        self._problem_label(layout)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(button(s.tr("agent.submit.next"), self.choose_selected, "primary", name="service_next",
                             focus=True))
        layout.addLayout(row)
        self.filter_edit.setFocus()

    def _filter(self, text: str) -> None:
        self.filter_text = text
        needle = text.strip().lower()
        for i in range(self.service_list.count()):
            item = self.service_list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    def choose(self, service_id: str) -> None:
        """Pick a service by id and go on to identifying the citizen."""
        for service in self.state.catalog.services:
            if service.id == service_id:
                self._start(service)
                return
        raise KeyError(service_id)

    def choose_selected(self) -> None:
        """The service selected in the list."""
        item = self.service_list.currentItem()
        if item is None or item.isHidden():
            self.problem = self.state.tr("agent.submit.pick_service")
            self.render()
            return
        self.choose(str(item.data(256)))

    def _start(self, service: ServiceDefinition) -> None:
        self.session.wipe()
        self.session.service = service
        self.started = time.monotonic()
        self.go("identify")

    # --- 2. identify -------------------------------------------------------------------------------

    def _build_identify(self, layout: QVBoxLayout) -> None:
        s = self.state
        self.header(layout, s.tr("agent.submit.identify_title"), s.tr("agent.submit.identify_subtitle"))
        columns = QHBoxLayout()
        columns.setSpacing(18)
        frame, box = card(margins=22)
        box.addWidget(label(s.tr("agent.submit.card_title"), "section"))
        box.addWidget(label(s.tr("agent.submit.card_hint"), "muted"))
        if s.demo and self.station.id_reader is not None:
            from kiosk.ui.devices import demo_identities

            for key, identity in demo_identities().items():
                box.addWidget(button(s.tr("agent.submit.demo_card", name=identity.name),
                                     lambda i=identity: self.tap_card(i), name=f"card_{key}", focus=True))
        else:
            box.addWidget(label(s.tr("agent.submit.no_reader"), "badge"))
        self.card_status = label(s.tr("agent.submit.reading") if self.busy else "", "muted", name="card_status")
        box.addWidget(self.card_status)
        box.addStretch(1)
        columns.addWidget(frame, 1)
        frame, box = card(margins=22)
        box.addWidget(label(s.tr("agent.submit.type_title"), "section"))
        self.id_edit = QLineEdit()
        self.id_edit.setObjectName("citizen_id")
        self.id_edit.setMaxLength(24)
        self.id_edit.setPlaceholderText(s.tr("agent.submit.type_hint"))
        self.id_edit.returnPressed.connect(self.confirm_typed)
        box.addWidget(self.id_edit)
        box.addWidget(button(s.tr("agent.submit.use_number"), self.confirm_typed, "primary", name="use_number",
                             focus=True))
        box.addStretch(1)
        columns.addWidget(frame, 1)
        layout.addLayout(columns)
        self._problem_label(layout)
        layout.addStretch(1)
        row = QHBoxLayout()
        row.addWidget(button(s.tr("agent.submit.back"), lambda: self.go("service"), name="back", focus=True))
        row.addStretch(1)
        layout.addLayout(row)
        self.id_edit.setFocus()

    def confirm_typed(self) -> None:
        """Check the typed number (GB 11643) and start the form, or say what is wrong."""
        number = normalize_id_number(self.id_edit.text())
        if len(number) != 18:
            self._show_problem(self.state.tr("agent.submit.id_length"))
        elif not is_valid_id_number(number):
            self._show_problem(self.state.tr("agent.submit.id_invalid"))
        else:
            self.identified({"id_number": number}, "typed")

    def tap_card(self, identity: Identity) -> None:
        """Demo: put a card on the simulated reader and read it through the real driver."""
        reader = self.station.id_reader
        if self.busy or reader is None:
            return
        self.busy = True
        self.card_status.setText(self.state.tr("agent.submit.reading"))
        run_in_background(lambda: reader.tap(identity), on_done=self._card_read, on_error=self._card_failed,
                          context=self, name="read ID card")

    def _card_read(self, identity: Identity | None) -> None:
        self.busy = False
        if identity is None:
            self._card_failed(None)
            return
        self.identified(identity.as_prefill(), "card")

    def _card_failed(self, exc: BaseException | None) -> None:
        self.busy = False
        self._show_problem(self.state.tr("agent.submit.card_failed"))

    def identified(self, prefill: dict[str, Any], how: str) -> None:
        """The citizen is identified: the form, prefilled."""
        session = self.session
        if session.service is None:
            return
        if session.wizard is not None:
            session.wizard.wipe()
        session.wizard = Wizard(session.service, identity=prefill)
        session.identified_by = how
        self.go("form")

    # --- 3. form -------------------------------------------------------------------------------------

    def _build_form(self, layout: QVBoxLayout) -> None:
        s = self.state
        wizard = self.session.wizard
        self.cards = {}
        if wizard is None or wizard.current_step is None:
            return
        step = wizard.current_step
        number, total = wizard.progress
        layout.addWidget(label(s.tr("agent.submit.form_progress", n=number, total=total), "muted"))
        self.header(layout, s.text(step.title), s.text(step.description) if step.description else "")
        self.summary = label("", "banner-error", name="summary")
        self.summary.hide()
        layout.addWidget(self.summary)
        inner = QWidget()
        column = QVBoxLayout(inner)
        column.setContentsMargins(0, 0, 8, 0)
        column.setSpacing(12)
        host = FieldHost(s, wizard, lambda _edit, _extra: None, scan_document_page, self._answered)
        for f in wizard.visible_fields(step):
            field_card = FieldCard(host, f)
            self._desk_placeholders(field_card)
            self.cards[f.id] = field_card
            column.addWidget(field_card)
        column.addStretch(1)
        from kiosk.ui.screens.base import Screen

        layout.addWidget(Screen.scroll(inner), 1)
        row = QHBoxLayout()
        row.addWidget(button(s.tr("agent.submit.back"), self.form_back, name="back", focus=True))
        row.addWidget(button(s.tr("agent.submit.discard"), self.discard, "danger", name="discard", focus=True))
        row.addStretch(1)
        row.addWidget(button(s.tr("agent.submit.next"), self.form_next, "primary", name="next", focus=True))
        layout.addLayout(row)

    def _desk_placeholders(self, field_card: FieldCard) -> None:
        """The kiosk's hints speak of touching and its on-screen keypad; here staff type on a keyboard."""
        s = self.state
        touch_hints = {s.tr("field.tap_to_type_numbers"), s.tr("field.tap_to_type")}
        for edit in field_card.findChildren(QLineEdit):
            if edit.placeholderText() in touch_hints:
                edit.setPlaceholderText(s.tr("agent.submit.type_here"))

    def field(self, field_id: str) -> FieldCard:
        """The card of a field on the current step."""
        return self.cards[field_id]

    def _answered(self) -> None:
        wizard = self.session.wizard
        if wizard is None or wizard.current_step is None or self.step != "form":
            return
        if [f.id for f in wizard.visible_fields()] != list(self.cards):
            from PySide6.QtCore import QTimer

            QTimer.singleShot(0, self._relayout)

    def _relayout(self) -> None:
        wizard = self.session.wizard
        if self.step == "form" and wizard is not None and [f.id for f in wizard.visible_fields()] != list(self.cards):
            self.render()


    def form_next(self) -> None:
        """Check the step: on to the next one or the review, or show the problems by their fields."""
        wizard = self.session.wizard
        if wizard is None:
            return
        if not wizard.next().moved:
            problems = {m.field_id: m for m in wizard.step_messages()}
            for field_id, field_card in self.cards.items():
                field_card.show_message(problems.get(field_id))
            self.summary.setText(self.state.tr("form.fix", count=len(problems)))
            self.summary.show()
            return
        self.go("review" if wizard.at_review else "form")

    def form_back(self) -> None:
        """The previous step, or identification from the first one."""
        wizard = self.session.wizard
        if wizard is not None and wizard.back():
            self.render()
        else:
            self.go("identify")

    def discard(self) -> None:
        """Throw this citizen's answers away and start again."""
        self.session.wipe()
        self.clear_data()
        self.render()

    # --- 4. review -------------------------------------------------------------------------------------

    def _build_review(self, layout: QVBoxLayout) -> None:
        s = self.state
        wizard = self.session.wizard
        if wizard is None:
            return
        self.header(layout, s.tr("agent.submit.review_title"), s.tr("agent.submit.review_subtitle"))
        inner = QWidget()
        column = QVBoxLayout(inner)
        column.setContentsMargins(0, 0, 8, 0)
        by_step: dict[str, list[Any]] = {}
        titles: dict[str, Any] = {}
        for item in wizard.review():
            by_step.setdefault(item.step_id, []).append(item)
            titles[item.step_id] = item.step_title
        for step_id, items in by_step.items():
            frame, box = card(margins=18)
            head = QHBoxLayout()
            head.addWidget(label(s.text(titles[step_id]), "section"), 1)
            head.addWidget(button(s.tr("review.change"), lambda sid=step_id: self.change(sid), "link",
                                  name=f"change_{step_id}", focus=True))
            box.addLayout(head)
            grid = QGridLayout()
            grid.setHorizontalSpacing(20)
            for r, item in enumerate(items):
                grid.addWidget(label(s.text(item.label), "muted"), r, 0)
                value = s.text(item.display) + ("   " + s.tr("review.prefilled") if item.prefilled else "")
                grid.addWidget(label(value, "", name=f"value_{item.field_id}"), r, 1)
            grid.setColumnStretch(1, 1)
            grid.setColumnMinimumWidth(0, 200)
            box.addLayout(grid)
            column.addWidget(frame)
        column.addStretch(1)
        from kiosk.ui.screens.base import Screen

        layout.addWidget(Screen.scroll(inner), 1)
        layout.addWidget(label(s.tr("agent.submit.on_behalf_note", name=self.account.display_name
                                    if self.account else ""), "badge", name="on_behalf_note"))
        self._problem_label(layout)
        row = QHBoxLayout()
        row.addWidget(button(s.tr("agent.submit.back"), self.review_back, name="back", focus=True))
        row.addWidget(button(s.tr("agent.submit.discard"), self.discard, "danger", name="discard", focus=True))
        row.addStretch(1)
        self.submit_button = button(s.tr("review.submitting" if self.busy else "agent.submit.submit"), self.submit,
                                    "primary", name="submit", focus=True)
        self.submit_button.setEnabled(not self.busy)
        row.addWidget(self.submit_button)
        layout.addLayout(row)

    def change(self, step_id: str) -> None:
        """Back to a step of the form."""
        if self.session.wizard is not None:
            self.session.wizard.go_to(step_id)
            self.go("form")

    def review_back(self) -> None:
        """The last step of the form."""
        if self.session.wizard is not None:
            self.session.wizard.back()
        self.go("form")

    def submit(self) -> None:
        """Commit the submission with the agent recorded, in the background."""
        session, account = self.session, self.account
        wizard, service = session.wizard, session.service
        if self.busy or wizard is None or service is None or account is None:
            return
        try:
            payload = wizard.payload()
        except ValueError:
            self.change(wizard.visible_steps[0].id)
            return
        wanted = referenced_files(service, payload)
        files = [f for sha, f in session.files.items() if sha in wanted]
        seconds = round(time.monotonic() - self.started, 1) if self.started else None
        self.busy = True
        self.submit_button.setEnabled(False)
        self.submit_button.setText(self.state.tr("review.submitting"))
        backend, demo = self.station.backend, self.state.demo
        run_in_background(lambda: backend.submit_on_behalf(service, payload, files, account,
                                                           session_seconds=seconds, is_test=demo),
                          on_done=self._submitted, on_error=self._failed, context=self, name="submit on behalf")

    def _submitted(self, result: EnqueuedSubmission) -> None:
        self.busy = False
        self.submission = result
        self.session.submission = result
        self.print_outcome = None
        self.go("done")
        self._print()
        worker = self.station.sync_worker
        if worker is not None:
            worker.wake()

    def _failed(self, exc: BaseException) -> None:
        self.busy = False
        if isinstance(exc, NotEnrolled):
            self.problem = self.state.tr("agent.submit.not_enrolled")
        elif isinstance(exc, StorageFull):
            self.problem = self.state.tr("agent.submit.disk_full", error=str(exc))
        else:
            log.error("submission on behalf failed: %s: %s", type(exc).__name__, exc)
            self.problem = self.state.tr("agent.error", error=str(exc))
        self.render()

    # --- 5. done -------------------------------------------------------------------------------------

    def _print(self) -> None:
        s, session, submission = self.state, self.session, self.submission
        service = session.service
        if submission is None or service is None:
            return
        scanned = {f.material for f in service.fields
                   if f.type == "attachment" and f.material and session.wizard is not None
                   and session.wizard.answer(f.id)}
        hall = (s.hall.name_zh, s.hall.name_en)
        backend = self.station.backend
        run_in_background(lambda: backend.print_receipt(submission, service, scanned, hall),
                          on_done=self._printed, context=self, name="print receipt",
                          on_error=lambda exc: self._printed(PrintOutcome(False, error=str(exc))))

    def _printed(self, outcome: PrintOutcome) -> None:
        self.print_outcome = outcome
        if self.step == "done":
            self.render()

    def _build_done(self, layout: QVBoxLayout) -> None:
        s = self.state
        submission = self.submission
        if submission is None:
            return
        self.header(layout, s.tr("agent.submit.done_title"), s.tr("agent.submit.done_subtitle"))
        receipt = label(submission.receipt_no, "receipt", wrap=False, name="receipt_no")
        row = QHBoxLayout()
        row.addWidget(receipt)
        row.addStretch(1)
        layout.addLayout(row)
        outcome = self.print_outcome
        if outcome is None:
            layout.addWidget(label(s.tr("agent.submit.printing"), "muted", name="print_status"))
        elif outcome.printed:
            layout.addWidget(label(s.tr("agent.submit.printed"), "banner-ok", name="print_status"))
        else:
            layout.addWidget(label(s.tr("agent.submit.print_failed", error=outcome.error), "banner-error",
                                   name="print_status"))
        layout.addStretch(1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(button(s.tr("agent.submit.another"), self.discard, "primary", name="another", focus=True))
        layout.addLayout(row)

    # --- helpers ---------------------------------------------------------------------------------------

    def _problem_label(self, layout: QVBoxLayout) -> None:
        self.problem_label = label(self.problem, "banner-error", name="problem")
        self.problem_label.setVisible(bool(self.problem))
        layout.addWidget(self.problem_label)

    def _show_problem(self, text: str) -> None:
        self.problem = text
        if self.content is not None:
            self.problem_label.setText(text)
            self.problem_label.show()

    def clear(self) -> None:
        """Sign-out: nothing of the citizen stays."""
        self.clear_data()
        super().clear()
