"""The payload JSON Schema the central platform checks against agrees with the forms engine."""

from __future__ import annotations

import datetime as dt
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog import DEFAULT_CATALOG_DIR
from forms import load_catalog, load_definition, payload_schema, validate_answers
from forms.payload import build_payload, compile_payload_check, example_answers

TODAY = dt.date(2026, 11, 23)
CATALOG = load_catalog(DEFAULT_CATALOG_DIR, today=TODAY)
PERMIT = load_definition(DEFAULT_CATALOG_DIR / "services" / "residence-permit.yaml", today=TODAY)


def schema_accepts(schema: dict[str, Any], payload: dict[str, Any]) -> bool:
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).is_valid(payload)


json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-10, 10**6), st.text(max_size=12)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6,
)


@st.composite
def mutated_payloads(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    service = draw(st.sampled_from(CATALOG.services))
    payload = example_answers(service, today=TODAY)
    field_ids = [f.id for f in service.fields]
    for _ in range(draw(st.integers(1, 3))):
        action = draw(st.sampled_from(["drop", "set_example", "set_random", "option"]))
        fid = draw(st.sampled_from(field_ids))
        f = service.field(fid)
        if action == "drop":
            payload.pop(fid, None)
        elif action == "set_example":
            payload[fid] = f.example
        elif action == "option" and f.options:
            payload[fid] = draw(st.sampled_from(f.option_values))
        else:
            payload[fid] = draw(json_values)
    return service.id, payload


@settings(max_examples=300)
@given(mutated_payloads())
def test_schema_never_rejects_what_the_engine_accepts(case: tuple[str, dict[str, Any]]) -> None:
    # The engine takes answers as typed (spaces in phone numbers, blanks for unanswered) and
    # normalises them; the schema describes the normalised payload the terminal sends.
    service_id, answers = case
    service = CATALOG.get(service_id)
    if validate_answers(service, answers, today=TODAY) == []:
        assert schema_accepts(payload_schema(service), build_payload(service, answers, today=TODAY))


def test_schema_requires_a_field_exactly_when_its_condition_holds() -> None:
    schema = payload_schema(PERMIT)
    payload = example_answers(PERMIT, today=TODAY)
    assert payload["basis"] == "employment"
    without_employer = {k: v for k, v in payload.items() if k != "employer"}
    assert not schema_accepts(schema, without_employer)
    as_resident = {k: v for k, v in without_employer.items() if k != "employment_proof"} | {"basis": "residence"}
    assert schema_accepts(schema, as_resident)


def test_schema_refuses_answers_to_questions_that_were_not_shown() -> None:
    payload = example_answers(PERMIT, today=TODAY) | {"school": "深圳市第一中学"}
    assert not schema_accepts(payload_schema(PERMIT), payload)
    problems = validate_answers(PERMIT, payload, today=TODAY)
    assert [(p.field_id, p.code) for p in problems] == [("school", "not_applicable")]


@pytest.mark.parametrize(
    ("field_id", "value", "code"),
    [
        ("id_number", "11010519491231002Y", "bad_id_number"),
        ("mobile", "12345", "bad_mobile"),
        ("sex", "other", "not_option"),
        ("resident_since", (TODAY - dt.timedelta(days=30)).isoformat(), "date_too_late"),
        ("resident_since", "2024-02-30", "not_date"),
        ("current_address", {"province": "广东省", "city": "深圳市"}, "bad_address"),
        ("consent", False, "consent_required"),
        ("residence_proof", [{"sha256": "zz", "size": 1, "mime": "image/jpeg"}], "bad_attachment"),
        ("residence_proof", [{"sha256": "a" * 64, "size": 1, "mime": "image/gif"}], "attachment_type"),
        ("residence_proof", [{"sha256": "a" * 64, "size": 10**9, "mime": "image/jpeg"}], "attachment_too_large"),
        ("name", "张" * 51, "too_long"),
    ],
)
def test_engine_names_the_field_and_the_problem(field_id: str, value: Any, code: str) -> None:
    payload = example_answers(PERMIT, today=TODAY) | {field_id: value}
    problems = validate_answers(PERMIT, payload, today=TODAY)
    assert [(p.field_id, p.code) for p in problems] == [(field_id, code)]
    assert problems[0].text("zh_CN") and problems[0].text("en")


def test_unknown_answers_are_refused() -> None:
    payload = example_answers(PERMIT, today=TODAY) | {"favourite_colour": "blue"}
    assert [(p.field_id, p.code) for p in validate_answers(PERMIT, payload, today=TODAY)] == [
        ("favourite_colour", "unknown_field")
    ]
    assert not schema_accepts(payload_schema(PERMIT), payload)


COMPILED = {s.id: compile_payload_check(s) for s in CATALOG.services}


@settings(max_examples=300)
@given(mutated_payloads())
def test_compiled_check_agrees_with_the_full_validator(case: tuple[str, dict[str, Any]]) -> None:
    # The central platform lets payloads through on the compiled check alone.
    service_id, payload = case
    service = CATALOG.get(service_id)
    assert COMPILED[service_id](payload) == schema_accepts(payload_schema(service), payload)
