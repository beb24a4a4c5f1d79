"""Evaluating a set of answers against a form: what is shown, required, valid.

One pass in form order. A condition may only name fields that come before it (the loader
enforces this), so by the time a field's ``show_if`` or ``required`` is evaluated, every value
it can depend on is known. Answers to hidden fields are ignored: they neither count as
answers nor influence any condition.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from forms.computed import compute
from forms.conditions import evaluate
from forms.model import Field, Flag, ServiceDefinition, Step
from forms.validation import FieldMessage, check_value, is_empty


@dataclass
class Evaluation:
    """The state of a form for one set of answers."""

    visible_steps: list[Step] = field(default_factory=list)
    visible_fields: dict[str, Field] = field(default_factory=dict)
    required: set[str] = field(default_factory=set)
    values: dict[str, Any] = field(default_factory=dict)
    computed: dict[str, Any] = field(default_factory=dict)
    messages: list[FieldMessage] = field(default_factory=list)

    def messages_for(self, field_ids: set[str] | None = None) -> list[FieldMessage]:
        """Messages of the given fields (all when None), in form order."""
        return [m for m in self.messages if field_ids is None or m.field_id in field_ids]


# What "required" says depends on what the citizen has to do.
REQUIRED_CODE = {
    "choice": "choose_required",
    "multi_choice": "choose_required",
    "yes_no": "choose_required",
    "date": "choose_required",
    "attachment": "scan_required",
    "signature": "sign_required",
    "consent": "consent_required",
}


class _Env:
    """Values visible to conditions: valid answers so far and computed values."""

    def __init__(self, definition: ServiceDefinition, values: dict[str, Any], today: dt.date):
        self._definition = definition
        self._values = values
        self._today = today
        self._computed = {c.id: c for c in definition.computed}

    def __call__(self, name: str) -> Any:
        if name in self._computed:
            c = self._computed[name]
            return compute(c.fn, self._values.get(c.field), self._today)
        return self._values.get(name)


def flag(value: Flag, lookup: Any) -> bool:
    """A ``required``-style flag: a boolean or a condition."""
    if isinstance(value, bool):
        return value
    return evaluate(value, lookup)


def evaluate_answers(definition: ServiceDefinition, answers: Mapping[str, Any], today: dt.date) -> Evaluation:
    """Which steps and fields are shown, which are required, and every answer checked."""
    result = Evaluation()
    env = _Env(definition, result.values, today)
    for step in definition.steps:
        if step.show_if is not None and not evaluate(step.show_if, env):
            continue
        result.visible_steps.append(step)
        for f in step.fields:
            if f.show_if is not None and not evaluate(f.show_if, env):
                continue
            result.visible_fields[f.id] = f
            required = flag(f.required, env)
            if required:
                result.required.add(f.id)
            raw = answers.get(f.id)
            if is_empty(raw) or (f.type == "consent" and raw is False):
                if required:
                    result.messages.append(FieldMessage(f.id, REQUIRED_CODE.get(f.type, "required")))
                continue
            clean, problem = check_value(f, raw, today)
            if problem is not None:
                result.messages.append(problem)
            else:
                result.values[f.id] = clean
    for c in definition.computed:
        value = env(c.id)
        if value is not None:
            result.computed[c.id] = value
    return result
