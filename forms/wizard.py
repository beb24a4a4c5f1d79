"""The wizard: one citizen's way through a form, step by step.

Plain state, no Qt: the kiosk's screens drive it and show what it says. The wizard keeps the
raw answers, works out from them which steps and fields are shown (hidden steps are skipped),
checks a step before moving on, and at the end offers a review of every answer and the final
payload. A session that is abandoned is simply dropped: the wizard holds everything it knows
and :meth:`Wizard.wipe` clears it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from forms.evaluation import Evaluation, evaluate_answers
from forms.i18n import AGREED, FILES, SIGNED, YES_NO, I18nText, message
from forms.model import Field, ServiceDefinition, Step
from forms.payload import build_payload
from forms.validation import FieldMessage, check_value, is_empty

IDENTITY_KEYS = (
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "id_number",
    "address",
    "issuing_authority",
    "valid_from",
    "valid_until",
)


@dataclass(frozen=True)
class StepResult:
    """What happened when the citizen pressed "next"."""

    moved: bool
    messages: tuple[FieldMessage, ...] = ()
    summary: I18nText | None = None  # one line for the top of the step ("2 answers need attention")


@dataclass(frozen=True)
class ReviewItem:
    """One answer on the review screen, with the step to go back to for "change"."""

    step_id: str
    step_title: I18nText
    field_id: str
    label: I18nText
    display: I18nText
    prefilled: bool


class Wizard:
    """State of one citizen filling in one service's form."""

    def __init__(
        self,
        definition: ServiceDefinition,
        *,
        identity: Mapping[str, Any] | None = None,
        today: dt.date | None = None,
    ) -> None:
        self.definition = definition
        self.today = today or dt.date.today()
        self._answers: dict[str, Any] = {}
        self._prefilled: set[str] = set()
        self._index = 0  # position among the visible steps; len(visible) means "review"
        if identity:
            self.prefill(identity)

    # --- answers -------------------------------------------------------------------------

    def prefill(self, identity: Mapping[str, Any]) -> list[str]:
        """Fill fields from identity data (an ID card read); returns the fields filled.

        A value that does not fit its field (for example an expired-format date) is skipped,
        so a card read can never put an invalid answer on screen.
        """
        filled: list[str] = []
        for f in self.definition.fields:
            if f.prefill is None or f.prefill not in identity:
                continue
            value = identity[f.prefill]
            if is_empty(value):
                continue
            clean, problem = check_value(f, value, self.today)
            if problem is None:
                self._answers[f.id] = clean
                self._prefilled.add(f.id)
                filled.append(f.id)
        return filled

    def answer(self, field_id: str) -> Any:
        """The current raw answer of a field (None when unanswered)."""
        return self._answers.get(field_id)

    def set_answer(self, field_id: str, value: Any) -> FieldMessage | None:
        """Record an answer; returns the problem with it, if any, to show at once."""
        f = self.definition.field(field_id)
        if is_empty(value):
            self._answers.pop(field_id, None)
        else:
            self._answers[field_id] = value
        self._prefilled.discard(field_id)
        if is_empty(value):
            return None
        _, problem = check_value(f, value, self.today)
        return problem

    def is_prefilled(self, field_id: str) -> bool:
        """True while a field still holds what the ID card said."""
        return field_id in self._prefilled

    # --- navigation ----------------------------------------------------------------------

    def _evaluation(self) -> Evaluation:
        return evaluate_answers(self.definition, self._answers, self.today)

    @property
    def visible_steps(self) -> list[Step]:
        """The steps shown for the current answers, in order."""
        return self._evaluation().visible_steps

    @property
    def at_review(self) -> bool:
        """True when every step is done and the review screen is shown."""
        return self._index >= len(self.visible_steps)

    @property
    def current_step(self) -> Step | None:
        """The step on screen, or None on the review screen."""
        steps = self.visible_steps
        return steps[self._index] if self._index < len(steps) else None

    @property
    def progress(self) -> tuple[int, int]:
        """``(number of the current step from 1, number of steps)``; review counts as last+1."""
        return self._index + 1, len(self.visible_steps)

    def visible_fields(self, step: Step | None = None) -> list[Field]:
        """The fields of a step (the current one by default) shown for the current answers."""
        step = step or self.current_step
        if step is None:
            return []
        shown = self._evaluation().visible_fields
        return [f for f in step.fields if f.id in shown]

    def is_required(self, field_id: str) -> bool:
        """Whether a shown field must be answered, given the answers so far."""
        return field_id in self._evaluation().required

    def computed(self, name: str) -> Any:
        """A computed value (for example ``age``) for the current answers."""
        return self._evaluation().computed.get(name)

    def step_messages(self, step: Step | None = None) -> list[FieldMessage]:
        """The problems with a step's shown fields right now."""
        step = step or self.current_step
        if step is None:
            return []
        ids = {f.id for f in self.visible_fields(step)}
        return self._evaluation().messages_for(ids)

    def next(self) -> StepResult:
        """Check the current step; move on (to the next shown step or to review) if it is fine."""
        if self.at_review:
            return StepResult(moved=False)
        problems = self.step_messages()
        if problems:
            return StepResult(False, tuple(problems), message("fix_fields", count=len(problems)))
        self._index += 1
        return StepResult(moved=True)

    def back(self) -> bool:
        """Go to the previous shown step; False on the first step."""
        if self._index == 0:
            return False
        self._index = min(self._index, len(self.visible_steps)) - 1
        return True

    def go_to(self, step_id: str) -> None:
        """Jump to a shown step (the review screen's "change" link)."""
        ids = [s.id for s in self.visible_steps]
        if step_id not in ids:
            raise KeyError(f"step {step_id!r} is not shown for these answers")
        self._index = ids.index(step_id)

    # --- the end -------------------------------------------------------------------------

    def _display(self, f: Field, value: Any) -> I18nText:
        if f.type in ("choice",):
            return f.option_label(value) or I18nText(str(value), str(value))
        if f.type == "multi_choice":
            labels = [f.option_label(v) or I18nText(v, v) for v in value]
            return I18nText("、".join(x.zh_CN for x in labels), ", ".join(x.en for x in labels))
        if f.type == "yes_no":
            return YES_NO[bool(value)]
        if f.type == "address":
            zh = f"{value['province']}{value['city']}{value['district']}{value['detail']}"
            en = ", ".join(value[k] for k in ("detail", "district", "city", "province"))
            return I18nText(zh, en)
        if f.type == "attachment":
            return FILES.format(count=len(value))
        if f.type == "signature":
            return SIGNED
        if f.type == "consent":
            return AGREED
        text = str(value)
        if f.unit is not None:
            return I18nText(f"{text} {f.unit.zh_CN}", f"{text} {f.unit.en}")
        return I18nText(text, text)

    def review(self) -> list[ReviewItem]:
        """Every shown, answered field with its display value, in form order."""
        ev = self._evaluation()
        items: list[ReviewItem] = []
        for step in ev.visible_steps:
            for f in step.fields:
                if f.id in ev.values:
                    items.append(
                        ReviewItem(
                            step.id,
                            step.title,
                            f.id,
                            f.label,
                            self._display(f, ev.values[f.id]),
                            f.id in self._prefilled,
                        )
                    )
        return items

    @property
    def is_complete(self) -> bool:
        """True when the answers can be submitted."""
        return not self._evaluation().messages

    def payload(self) -> dict[str, Any]:
        """The normalised payload to enqueue; raises ValueError while anything is missing."""
        shown = self._evaluation().visible_fields
        answers = {k: v for k, v in self._answers.items() if k in shown}
        return build_payload(self.definition, answers, today=self.today)

    def wipe(self) -> None:
        """Forget every answer (end of session or time-out)."""
        self._answers.clear()
        self._prefilled.clear()
        self._index = 0
