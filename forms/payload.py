"""The payload of a submission: the answers object, its JSON Schema, and its validation.

A payload maps field ids to normalised answers. It holds only fields that are shown for those
answers and were answered; empty answers are left out. The central platform validates what
it receives twice: against :func:`payload_schema` (structure, types, fixed constraints) and with
:func:`validate_answers` (everything, including conditions on computed values and dates
relative to today, which JSON Schema cannot express).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

import fastjsonschema

from forms.conditions import ORDER_OPERATORS
from forms.evaluation import evaluate_answers
from forms.model import ADDRESS_PARTS, Field, ServiceDefinition
from forms.validation import DEFAULT_MAX_LENGTH, MOBILE_RE, FieldMessage, is_empty

JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def validate_answers(
    definition: ServiceDefinition, answers: Mapping[str, Any], *, today: dt.date | None = None
) -> list[FieldMessage]:
    """Every problem with a complete set of answers; an empty list means it can be submitted."""
    if not isinstance(answers, Mapping):
        return [FieldMessage("", "unknown_field")]
    today = today or dt.date.today()
    result = evaluate_answers(definition, answers, today)
    known = {f.id for f in definition.fields}
    problems = list(result.messages)
    for key, value in answers.items():
        if key not in known:
            problems.append(FieldMessage(str(key), "unknown_field"))
        elif key not in result.visible_fields and not is_empty(value):
            problems.append(FieldMessage(key, "not_applicable"))
    return problems


def build_payload(
    definition: ServiceDefinition, answers: Mapping[str, Any], *, today: dt.date | None = None
) -> dict[str, Any]:
    """The normalised payload for answers that :func:`validate_answers` accepts.

    Raises ValueError listing the problems otherwise.
    """
    today = today or dt.date.today()
    problems = validate_answers(definition, answers, today=today)
    if problems:
        detail = "; ".join(f"{p.field_id}: {p.text('en')}" for p in problems)
        raise ValueError(f"answers are not complete: {detail}")
    values = evaluate_answers(definition, answers, today).values
    return {f.id: values[f.id] for f in definition.fields if f.id in values}


def example_answers(definition: ServiceDefinition, *, today: dt.date | None = None) -> dict[str, Any]:
    """The definition's example values as a payload: what a smoke test submits.

    Only fields shown for the example answers are included, normalised like real answers.
    """
    today = today or dt.date.today()
    raw = {f.id: f.example for f in definition.fields}
    values = evaluate_answers(definition, raw, today).values
    return {f.id: values[f.id] for f in definition.fields if f.id in values}


# --- JSON Schema of a payload ------------------------------------------------------------


def _ref_schema(mimes: list[str], max_size: int | None) -> dict[str, Any]:
    size: dict[str, Any] = {"type": "integer", "minimum": 1}
    if max_size is not None:
        size["maximum"] = max_size
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["sha256", "size", "mime"],
        "properties": {
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
            "size": size,
            "mime": {"enum": mimes},
            "name": {"type": "string", "maxLength": 120},
        },
    }


def field_schema(f: Field) -> dict[str, Any]:
    """The JSON Schema of one field's normalised answer."""
    schema: dict[str, Any]
    match f.type:
        case "text" | "multiline":
            schema = {
                "type": "string",
                "minLength": max(f.min_length or 0, 1),
                "maxLength": f.max_length or DEFAULT_MAX_LENGTH[f.type],
            }
            if f.pattern:
                schema["pattern"] = f"^(?:{f.pattern})$"
        case "integer":
            schema = {"type": "integer"}
            if f.min is not None:
                schema["minimum"] = f.min
            if f.max is not None:
                schema["maximum"] = f.max
        case "decimal":
            places = f.decimals if f.decimals is not None else 2
            tail = rf"\.[0-9]{{{places}}}" if places else ""
            schema = {"type": "string", "pattern": rf"^-?[0-9]+{tail}$"}
        case "date":
            schema = {"type": "string", "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"}
        case "choice":
            schema = {"enum": list(f.option_values)}
        case "multi_choice":
            schema = {
                "type": "array",
                "uniqueItems": True,
                "items": {"enum": list(f.option_values)},
                "minItems": max(f.min_selected or 0, 1),
            }
            if f.max_selected is not None:
                schema["maxItems"] = f.max_selected
        case "yes_no":
            schema = {"type": "boolean"}
        case "mobile":
            schema = {"type": "string", "pattern": MOBILE_RE.pattern}
        case "id_number":
            schema = {"type": "string", "pattern": r"^[0-9]{17}[0-9X]$"}
        case "email":
            schema = {"type": "string", "format": "email", "maxLength": 254}
        case "address":
            schema = {
                "type": "object",
                "additionalProperties": False,
                "required": list(ADDRESS_PARTS),
                "properties": {
                    part: {
                        "type": "string",
                        "minLength": 1,
                        "maxLength": (f.max_length or DEFAULT_MAX_LENGTH["address"]) if part == "detail" else 40,
                    }
                    for part in ADDRESS_PARTS
                },
            }
        case "attachment":
            schema = {
                "type": "array",
                "minItems": 1,
                "maxItems": f.max_files or 1,
                "items": _ref_schema(list(f.accept), (f.max_size_kb or 0) * 1024 or None),
            }
        case "signature":
            schema = _ref_schema(["image/png"], 2 * 1024 * 1024)
        case "consent":
            schema = {"const": True}
        case _:  # pragma: no cover - the definition schema lists every type
            raise ValueError(f"unknown field type {f.type!r}")
    schema["title"] = f.label.en
    schema["description"] = f.label.zh_CN
    return schema


def _condition_schema(
    condition: Mapping[str, Any], plain: set[str], fields: Mapping[str, Field]
) -> dict[str, Any] | None:
    """A condition as JSON Schema, or None when it names a computed value or compares dates."""
    if "all" in condition or "any" in condition:
        key = "all" if "all" in condition else "any"
        parts = [_condition_schema(c, plain, fields) for c in condition[key]]
        if any(p is None for p in parts):
            return None
        return {"allOf" if key == "all" else "anyOf": parts}
    if "not" in condition:
        inner = _condition_schema(condition["not"], plain, fields)
        return None if inner is None else {"not": inner}
    name = condition["field"]
    if name not in plain or fields[name].type == "decimal":  # decimals travel as normalised text
        return None
    op = next(k for k in condition if k != "field")
    target = condition[op]
    if op == "is_set":
        present = {"required": [name]}
        return present if target else {"not": present}
    value_schema: dict[str, Any]
    if op == "equals":
        value_schema = {"const": target}
    elif op == "not_equals":
        value_schema = {"not": {"const": target}}
    elif op == "in":
        value_schema = {"enum": list(target)}
    elif op == "not_in":
        value_schema = {"not": {"enum": list(target)}}
    elif op == "contains":
        value_schema = {"type": "array", "contains": {"const": target}}
    elif op in ORDER_OPERATORS and fields[name].type == "integer" and isinstance(target, int | float):
        keyword = {"gt": "exclusiveMinimum", "gte": "minimum", "lt": "exclusiveMaximum", "lte": "maximum"}[op]
        value_schema = {"type": "number", keyword: target}
    else:
        return None
    return {"required": [name], "properties": {name: value_schema}}


def payload_schema(definition: ServiceDefinition) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of this service's payload.

    Conditions on plain answers become ``if``/``then`` rules: a conditionally required field
    is required when its condition holds, and a field that is not shown must be absent.
    Conditions on computed values (such as an age derived from the ID number) cannot be written
    in JSON Schema; :func:`validate_answers` enforces those.
    """
    fields = {f.id: f for f in definition.fields}
    plain = set(fields)
    required: list[str] = []
    rules: list[dict[str, Any]] = []
    for step in definition.steps:
        for f in step.fields:
            shown = [c for c in (step.show_if, f.show_if) if c is not None]
            shown_schema: dict[str, Any] | None
            if not shown:
                shown_schema = {}
            elif len(shown) == 1:
                shown_schema = _condition_schema(shown[0], plain, fields)
            else:
                shown_schema = _condition_schema({"all": shown}, plain, fields)
            if shown_schema:
                rules.append({"if": {"not": shown_schema}, "then": {"not": {"required": [f.id]}}})
            if f.required is False or shown_schema is None:
                continue
            if f.required is True:
                when = shown_schema
            else:
                cond = _condition_schema(f.required, plain, fields)
                if cond is None:
                    continue
                when = {"allOf": [shown_schema, cond]} if shown_schema else cond
            if when:
                rules.append({"if": when, "then": {"required": [f.id]}})
            else:
                required.append(f.id)
    schema: dict[str, Any] = {
        "$schema": JSON_SCHEMA_DIALECT,
        "$id": f"urn:tongban:payload:{definition.id}:{definition.version}",
        "title": f"{definition.name.en} ({definition.name.zh_CN}) v{definition.version}",
        "type": "object",
        "additionalProperties": False,
        "properties": {f.id: field_schema(f) for f in definition.fields},
        "required": required,
    }
    if rules:
        schema["allOf"] = rules
    return schema


def compile_payload_check(definition: ServiceDefinition) -> Callable[[Any], bool]:
    """A fast yes/no check of a payload against :func:`payload_schema`, for bulk ingest.

    The payload schema uses only keywords that mean the same in draft-07, which
    fastjsonschema compiles to Python code (more than ten times faster than interpreting
    the schema). Use it to let valid payloads through quickly; on ``False`` ask a full
    validator for the list of errors. A test checks the two agree.
    """
    schema = dict(payload_schema(definition))
    schema["$schema"] = "http://json-schema.org/draft-07/schema#"
    check = fastjsonschema.compile(schema)

    def accepts(payload: Any) -> bool:
        try:
            check(payload)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    return accepts
