"""Conditions are data: evaluated by a fixed set of operators, never as code."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from forms.conditions import ConditionError, evaluate

FIELDS = ["a", "b", "c"]
scalars = st.one_of(st.integers(-5, 5), st.sampled_from(["x", "y", "2024-01-01", "2025-06-30"]), st.booleans())


def leaves() -> st.SearchStrategy[dict[str, Any]]:
    field = st.sampled_from(FIELDS)
    return st.one_of(
        st.builds(lambda f, v: {"field": f, "equals": v}, field, scalars),
        st.builds(lambda f, v: {"field": f, "not_equals": v}, field, scalars),
        st.builds(lambda f, v: {"field": f, "in": v}, field, st.lists(scalars, min_size=1, max_size=3)),
        st.builds(lambda f, v: {"field": f, "not_in": v}, field, st.lists(scalars, min_size=1, max_size=3)),
        st.builds(
            lambda f, op, v: {"field": f, op: v},
            field,
            st.sampled_from(["gt", "gte", "lt", "lte"]),
            st.one_of(st.integers(-5, 5), st.sampled_from(["2024-01-01", "2025-06-30"])),
        ),
        st.builds(lambda f, v: {"field": f, "contains": v}, field, scalars),
        st.builds(lambda f, v: {"field": f, "is_set": v}, field, st.booleans()),
    )


conditions = st.recursive(
    leaves(),
    lambda inner: st.one_of(
        st.builds(lambda cs: {"all": cs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda cs: {"any": cs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda c: {"not": c}, inner),
    ),
    max_leaves=12,
)
values = st.one_of(st.none(), scalars, st.lists(scalars, max_size=3))
answers = st.fixed_dictionaries({f: values for f in FIELDS})


@given(conditions, answers)
def test_not_inverts_any_condition(cond: dict[str, Any], ans: dict[str, Any]) -> None:
    assert evaluate({"not": cond}, ans.get) is (not evaluate(cond, ans.get))


@given(st.lists(conditions, min_size=1, max_size=4), answers)
def test_all_and_any_agree_with_their_parts(conds: list[dict[str, Any]], ans: dict[str, Any]) -> None:
    parts = [evaluate(c, ans.get) for c in conds]
    assert evaluate({"all": conds}, ans.get) is all(parts)
    assert evaluate({"any": conds}, ans.get) is any(parts)


@given(conditions, answers)
def test_de_morgan(cond: dict[str, Any], ans: dict[str, Any]) -> None:
    other = {"field": "a", "is_set": True}
    lhs = evaluate({"not": {"all": [cond, other]}}, ans.get)
    rhs = evaluate({"any": [{"not": cond}, {"not": other}]}, ans.get)
    assert lhs is rhs


@given(leaves())
def test_a_comparison_with_an_unanswered_field_is_false(leaf: dict[str, Any]) -> None:
    result = evaluate(leaf, lambda _name: None)
    assert result is (leaf.get("is_set") is False)


def test_yes_no_answers_never_equal_numbers() -> None:
    assert evaluate({"field": "a", "equals": True}, {"a": True}.get)
    assert not evaluate({"field": "a", "equals": 1}, {"a": True}.get)
    assert not evaluate({"field": "a", "equals": True}, {"a": 1}.get)


def test_numbers_compare_as_numbers_and_dates_as_dates() -> None:
    assert evaluate({"field": "age", "gte": 80}, {"age": 80}.get)
    assert evaluate({"field": "age", "lt": 16}, {"age": 9}.get)  # "9" > "16" as text; not here
    assert evaluate({"field": "amount", "gt": 1000}, {"amount": "1000.50"}.get)
    assert evaluate({"field": "d", "lt": "2024-10-01"}, {"d": "2024-09-30"}.get)
    assert not evaluate({"field": "d", "lt": 5}, {"d": "2024-09-30"}.get)


def test_contains_looks_inside_multiple_choice_answers() -> None:
    assert evaluate({"field": "m", "contains": "rent"}, {"m": ["buy", "rent"]}.get)
    assert not evaluate({"field": "m", "contains": "rent"}, {"m": "rent"}.get)


@pytest.mark.parametrize(
    "bad",
    [
        {"field": "a"},
        {"field": "a", "equals": 1, "in": [1]},
        {"field": "a", "matches": "__import__('os')"},
        {"nope": []},
        "a == 1",
    ],
)
def test_malformed_conditions_are_refused_not_run(bad: Any) -> None:
    with pytest.raises(ConditionError):
        evaluate(bad, {"a": 1}.get)


def test_absurdly_deep_nesting_is_refused() -> None:
    cond: dict[str, Any] = {"field": "a", "is_set": True}
    for _ in range(100):
        cond = {"not": cond}
    with pytest.raises(ConditionError):
        evaluate(cond, {"a": 1}.get)
