"""Declarative conditions on answers: data, never code.

A condition is one of::

    {field: ID, equals: V}        {field: ID, not_equals: V}
    {field: ID, in: [V, ...]}     {field: ID, not_in: [V, ...]}
    {field: ID, gt|gte|lt|lte: N} numbers, or dates as "YYYY-MM-DD"
    {field: ID, contains: V}      a multiple-choice answer includes V
    {field: ID, is_set: bool}     answered or not
    {all: [C, ...]}  {any: [C, ...]}  {not: C}

``ID`` names a field or a computed value. A comparison with an unanswered (or hidden) field is
false, whatever the operator; only ``is_set: false`` is true for it. Evaluation is a walk over
the structure with a fixed set of operators: nothing is ever evaluated as code.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

LEAF_OPERATORS = ("equals", "not_equals", "in", "not_in", "gt", "gte", "lt", "lte", "contains", "is_set")
ORDER_OPERATORS = ("gt", "gte", "lt", "lte")

MAX_DEPTH = 32  # definitions nest a few levels; anything deeper is a mistake or an attack

Lookup = Callable[[str], Any]
"""Returns the current value of a field or computed value, or ``None`` when unset."""


class ConditionError(ValueError):
    """A condition that is not of the documented form."""


def _operator(leaf: Mapping[str, Any]) -> str:
    ops = [k for k in leaf if k != "field"]
    if len(ops) != 1 or ops[0] not in LEAF_OPERATORS:
        raise ConditionError(f"a condition needs exactly one operator of {', '.join(LEAF_OPERATORS)}")
    return ops[0]


def referenced_fields(condition: Mapping[str, Any]) -> Iterator[tuple[str, tuple[str | int, ...]]]:
    """Every field id a condition names, with its path inside the condition."""
    stack: list[tuple[Mapping[str, Any], tuple[str | int, ...]]] = [(condition, ())]
    while stack:
        node, path = stack.pop()
        if "all" in node or "any" in node:
            key = "all" if "all" in node else "any"
            for i, child in enumerate(node[key]):
                stack.append((child, (*path, key, i)))
        elif "not" in node:
            stack.append((node["not"], (*path, "not")))
        else:
            yield node["field"], (*path, "field")


def leaves(condition: Mapping[str, Any]) -> Iterator[tuple[Mapping[str, Any], tuple[str | int, ...]]]:
    """Every leaf (``{field: ..., op: ...}``) with its path inside the condition."""
    stack: list[tuple[Mapping[str, Any], tuple[str | int, ...]]] = [(condition, ())]
    while stack:
        node, path = stack.pop()
        if "all" in node or "any" in node:
            key = "all" if "all" in node else "any"
            for i, child in enumerate(node[key]):
                stack.append((child, (*path, key, i)))
        elif "not" in node:
            stack.append((node["not"], (*path, "not")))
        else:
            yield node, path


def _same(a: Any, b: Any) -> bool:
    # bool is an int in Python; a yes/no answer never equals the number 1.
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    number_a, number_b = _number(a), _number(b)
    if number_a is not None and number_b is not None:
        return number_a == number_b
    return a == b


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if isinstance(value, str):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def _compare(op: str, value: Any, target: Any) -> bool:
    a, b = _number(value), _number(target)
    left: Any
    right: Any
    if a is not None and b is not None:
        left, right = a, b
    elif isinstance(value, str) and isinstance(target, str):
        left, right = value, target  # ISO dates compare correctly as text
    else:
        return False
    if op == "gt":
        return bool(left > right)
    if op == "gte":
        return bool(left >= right)
    if op == "lt":
        return bool(left < right)
    return bool(left <= right)


def evaluate(condition: Mapping[str, Any], lookup: Lookup, _depth: int = 0) -> bool:
    """Whether ``condition`` holds for the answers behind ``lookup``."""
    if _depth > MAX_DEPTH:
        raise ConditionError(f"conditions nest deeper than {MAX_DEPTH} levels")
    if not isinstance(condition, Mapping):
        raise ConditionError("a condition must be a mapping")
    if "all" in condition:
        return all(evaluate(c, lookup, _depth + 1) for c in condition["all"])
    if "any" in condition:
        return any(evaluate(c, lookup, _depth + 1) for c in condition["any"])
    if "not" in condition:
        return not evaluate(condition["not"], lookup, _depth + 1)
    if "field" not in condition:
        raise ConditionError("a condition needs 'field', 'all', 'any' or 'not'")
    op = _operator(condition)
    target = condition[op]
    value = lookup(condition["field"])
    if op == "is_set":
        return (value is not None) == bool(target)
    if value is None:
        return False
    if op == "equals":
        return _same(value, target)
    if op == "not_equals":
        return not _same(value, target)
    if op == "in":
        return any(_same(value, t) for t in target)
    if op == "not_in":
        return not any(_same(value, t) for t in target)
    if op == "contains":
        return isinstance(value, list | tuple) and any(_same(v, target) for v in value)
    return _compare(op, value, target)
