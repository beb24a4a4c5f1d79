"""Loading service definitions and catalogs, with errors a technician can act on.

A definition is checked in two passes: against the JSON Schema of the format
(``definition.schema.json``), then by semantic checks the schema cannot express (duplicate
ids, conditions naming unknown or later fields, examples that fail their own constraints,
prefill sources that do not fit the field...). Every problem becomes a
:class:`DefinitionError` naming the file, the path inside it and what is wrong; all of them
are collected, not just the first.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import fastjsonschema
import jsonschema
import yaml

from forms.computed import FUNCTIONS
from forms.conditions import ORDER_OPERATORS, leaves
from forms.model import Catalog, Category, ServiceDefinition
from forms.payload import example_answers, validate_answers
from forms.validation import RELATIVE_DATE_RE, check_value, resolve_date_bound

MAX_DEFINITION_BYTES = 1_000_000  # a definition is a few tens of KB; refuse anything absurd
MAX_NESTING = 64  # real definitions nest about 10 levels (conditions inside steps inside...)
MAX_VALUES = 200_000  # values in one definition once aliases are expanded; real ones hold ~2,000
_DEPTH_BOUND_SAFE = 5_000  # libyaml loads this deep without trouble; Python checks the rest
SERVICES_FOLDER = "services"
CATEGORIES_FILE = "categories.yaml"

PathPart = str | int


def format_path(parts: Iterable[PathPart]) -> str:
    """``("steps", 2, "fields", 0, "id")`` as ``steps[2].fields[0].id``; the root is ``(root)``."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "(root)"


@dataclass(frozen=True)
class DefinitionError:
    """One problem in one definition file."""

    file: str
    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.reason}"


class DefinitionInvalid(Exception):
    """One or more definitions are not valid; ``errors`` lists every problem found."""

    def __init__(self, errors: list[DefinitionError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


# libyaml's parser when PyYAML was built with it (the wheels are): 20x faster than pure Python
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(definition_schema())


@cache
def definition_schema() -> dict[str, Any]:
    """The JSON Schema of the definition format itself."""
    text = resources.files("forms").joinpath("definition.schema.json").read_text("utf-8")
    return json.loads(text)


def _read_yaml(path: Path) -> tuple[Any, list[DefinitionError]]:
    name = str(path)
    try:
        if path.stat().st_size > MAX_DEFINITION_BYTES:
            return None, [DefinitionError(name, "(file)", f"larger than {MAX_DEFINITION_BYTES} bytes")]
        text = path.read_text("utf-8")
    except FileNotFoundError:
        return None, [DefinitionError(name, "(file)", "file not found")]
    except UnicodeDecodeError as exc:
        return None, [DefinitionError(name, "(file)", f"not UTF-8 text (byte {exc.start})")]
    except OSError as exc:
        return None, [DefinitionError(name, "(file)", f"cannot be read: {exc.strerror}")]
    try:
        problem = _nesting_problem(text)
        data = None if problem else yaml.load(text, Loader=_SAFE_LOADER)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "(file)"
        problem = getattr(exc, "problem", None) or str(exc)
        return None, [DefinitionError(name, where, f"not valid YAML: {problem}")]
    problem = problem or _size_problem(data)
    if problem:
        return None, [DefinitionError(name, "(file)", problem)]
    return data, []


def _nesting_problem(text: str) -> str | None:
    """Refuse YAML nested so deeply that loading it would overflow the C stack (a crash).

    libyaml's composer recurses once per level and crashes the process somewhere past
    20,000 levels, which a 100 KB file of brackets or "- - - ..." reaches. A cheap upper
    bound on the depth (flow brackets plus the longest run of indentation and block
    markers) clears every real definition; only above it are the parser's events counted,
    which takes no recursion.
    """
    bound = text.count("[") + text.count("{")
    bound += max((len(line) - len(line.lstrip(" -?:")) for line in text.splitlines()), default=0)
    if bound <= _DEPTH_BOUND_SAFE:
        return None
    depth = 0
    for event in yaml.parse(text, Loader=_SAFE_LOADER):
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_NESTING:
                return f"nested more than {MAX_NESTING} levels deep"
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
    return None


def _size_problem(data: Any) -> str | None:
    """Refuse a loaded document too deep or too large once YAML aliases are expanded.

    Aliases let a small file stand for an exponentially large (or, referring to itself,
    endless) tree that every later check would walk; counted here without recursion.
    """
    stack: list[tuple[Any, int]] = [(data, 1)]
    values = 0
    while stack:
        value, depth = stack.pop()
        values += 1
        if values > MAX_VALUES:
            return f"holds more than {MAX_VALUES} values (YAML aliases that repeat or refer to themselves?)"
        if depth > MAX_NESTING:
            return f"nested more than {MAX_NESTING} levels deep"
        if isinstance(value, dict):
            stack.extend((item, depth + 1) for pair in value.items() for item in pair)
        elif isinstance(value, list):
            stack.extend((item, depth + 1) for item in value)
    return None


@cache
def _definition_check() -> Callable[[Any], Any]:
    """A compiled validator of the definition format (fastjsonschema): fast for the usual, valid file.

    jsonschema walks the schema anew for every file (about 0.1 s per definition, most of a
    kiosk's cold start); fastjsonschema compiles it to Python once. It only says yes or no:
    the messages for an invalid file still come from jsonschema. The schema is read under
    the draft-07 dialect, which fastjsonschema knows; it uses nothing newer
    (``tests/forms/test_definition_check.py`` checks both agree on the bundled catalog).
    """
    schema = {**definition_schema(), "$schema": "http://json-schema.org/draft-07/schema#"}
    return fastjsonschema.compile(schema)


def _schema_errors(file: str, data: Any) -> list[DefinitionError]:
    try:
        _definition_check()(data)
        return []
    except fastjsonschema.JsonSchemaException:
        pass  # invalid: jsonschema says exactly where and why
    validator = _validator()
    errors: list[DefinitionError] = []
    for error in sorted(validator.iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        # For oneOf/anyOf the most specific sub-error says more than "is not valid under any".
        best = jsonschema.exceptions.best_match([error])
        reason = best.message
        if best.validator == "required":
            missing = re.search(r"'([^']+)' is a required property", best.message)
            if missing and missing.group(1) in ("zh_CN", "en"):
                reason = f"missing translation: {missing.group(1)}"
        elif best.validator == "additionalProperties":
            reason = best.message.replace("Additional properties are not allowed", "unknown key(s)")
        errors.append(DefinitionError(file, format_path(best.absolute_path), reason))
    return errors


class _Checker:
    """Semantic checks of one schema-valid definition."""

    def __init__(self, file: str, data: Mapping[str, Any], today: dt.date) -> None:
        self.file = file
        self.data = data
        self.today = today
        self.errors: list[DefinitionError] = []

    def error(self, path: Iterable[PathPart], reason: str) -> None:
        self.errors.append(DefinitionError(self.file, format_path(path), reason))

    def run(self) -> list[DefinitionError]:
        fields = self._fields()
        self._unique_ids(fields)
        self._computed(fields)
        self._conditions(fields)
        self._constraints(fields)
        if not self.errors:  # examples are only meaningful against sound constraints
            self._examples()
        self._materials(fields)
        return self.errors

    def _fields(self) -> list[tuple[tuple[PathPart, ...], dict[str, Any], int]]:
        """Every field with its path and its step index."""
        return [
            (("steps", si, "fields", fi), f, si)
            for si, step in enumerate(self.data["steps"])
            for fi, f in enumerate(step["fields"])
        ]

    def _unique_ids(self, fields: list[tuple[tuple[PathPart, ...], dict[str, Any], int]]) -> None:
        seen: dict[str, str] = {}
        for path, f, _ in fields:
            where = format_path(path)
            if f["id"] in seen:
                self.error((*path, "id"), f"duplicate field id {f['id']!r} (also at {seen[f['id']]})")
            seen.setdefault(f["id"], where)
            values = [o["value"] for o in f.get("options", ())]
            for oi, value in enumerate(values):
                if value in values[:oi]:
                    self.error((*path, "options", oi, "value"), f"duplicate option value {value!r}")
        for ci, c in enumerate(self.data.get("computed", ())):
            if c["id"] in seen:
                self.error(("computed", ci, "id"), f"computed id {c['id']!r} is also a field id")
            seen.setdefault(c["id"], format_path(("computed", ci)))
        step_ids: set[str] = set()
        for si, step in enumerate(self.data["steps"]):
            if step["id"] in step_ids:
                self.error(("steps", si, "id"), f"duplicate step id {step['id']!r}")
            step_ids.add(step["id"])
        material_ids: set[str] = set()
        for mi, m in enumerate(self.data["guide"]["materials"]):
            if m["id"] in material_ids:
                self.error(("guide", "materials", mi, "id"), f"duplicate material id {m['id']!r}")
            material_ids.add(m["id"])

    def _computed(self, fields: list[tuple[tuple[PathPart, ...], dict[str, Any], int]]) -> None:
        by_id = {f["id"]: f for _, f, _ in fields}
        for ci, c in enumerate(self.data.get("computed", ())):
            source = by_id.get(c["field"])
            wanted = FUNCTIONS[c["fn"]][0]
            if source is None:
                self.error(("computed", ci, "field"), f"unknown field {c['field']!r}")
            elif source["type"] != wanted:
                self.error(
                    ("computed", ci, "field"),
                    f"{c['fn']} needs a field of type {wanted}, {c['field']!r} is {source['type']}",
                )

    def _value_kind(self, name: str, by_id: Mapping[str, Mapping[str, Any]]) -> tuple[str, Any]:
        """The type a condition compares against: a field type, or a computed result type."""
        for c in self.data.get("computed", ()):
            if c["id"] == name:
                return FUNCTIONS[c["fn"]][1], None
        f = by_id[name]
        return f["type"], f

    def _check_condition(
        self,
        condition: Mapping[str, Any],
        path: tuple[PathPart, ...],
        allowed: set[str],
        by_id: Mapping[str, Mapping[str, Any]],
        owner: str | None,
    ) -> None:
        computed_sources = {c["id"]: c["field"] for c in self.data.get("computed", ())}
        for leaf, leaf_path in leaves(condition):
            name = leaf["field"]
            at = (*path, *leaf_path)
            if name == owner:
                self.error((*at, "field"), f"a condition cannot refer to its own field {name!r}")
                continue
            if name not in by_id and name not in computed_sources:
                self.error((*at, "field"), f"unknown field {name!r}")
                continue
            source = computed_sources.get(name, name)
            if source not in allowed:
                self.error(
                    (*at, "field"),
                    f"{name!r} is not answered before this point; conditions may only refer to earlier fields",
                )
                continue
            op = next(k for k in leaf if k != "field")
            self._check_operand(leaf, op, at, *self._value_kind(name, by_id))

    def _check_operand(
        self,
        leaf: Mapping[str, Any],
        op: str,
        at: tuple[PathPart, ...],
        kind: str,
        f: Mapping[str, Any] | None,
    ) -> None:
        target = leaf[op]
        name = leaf["field"]
        if op == "is_set":
            return
        if op in ORDER_OPERATORS:
            if kind in ("integer", "decimal"):
                if isinstance(target, bool) or not isinstance(target, int | float):
                    self.error((*at, op), f"{name!r} is a number; compare it with a number")
            elif kind == "date":
                if not isinstance(target, str) or not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", target):
                    self.error((*at, op), f"{name!r} is a date; compare it with YYYY-MM-DD")
            else:
                self.error((*at, op), f"{op} cannot compare {name!r} of type {kind}")
            return
        if op == "contains":
            if kind != "multi_choice":
                self.error((*at, op), f"contains needs a multi_choice field, {name!r} is {kind}")
            elif f is not None and target not in [o["value"] for o in f["options"]]:
                self.error((*at, op), f"{target!r} is not an option of {name!r}")
            return
        targets = target if op in ("in", "not_in") else [target]
        if kind in ("choice", "multi_choice") and f is not None:
            options = [o["value"] for o in f["options"]]
            for t in targets:
                if t not in options:
                    self.error((*at, op), f"{t!r} is not an option of {name!r} ({', '.join(options)})")
        elif kind == "yes_no":
            if not all(isinstance(t, bool) for t in targets):
                self.error((*at, op), f"{name!r} is yes/no; compare it with true or false")
        elif kind == "sex":
            if not all(t in ("male", "female") for t in targets):
                self.error((*at, op), f"{name!r} is male or female")

    def _conditions(self, fields: list[tuple[tuple[PathPart, ...], dict[str, Any], int]]) -> None:
        by_id = {f["id"]: f for _, f, _ in fields}
        answered: set[str] = set()
        for si, step in enumerate(self.data["steps"]):
            if "show_if" in step:
                self._check_condition(step["show_if"], ("steps", si, "show_if"), set(answered), by_id, None)
            for fi, f in enumerate(step["fields"]):
                path: tuple[PathPart, ...] = ("steps", si, "fields", fi)
                for key in ("show_if", "required"):
                    value = f.get(key)
                    if isinstance(value, Mapping):
                        self._check_condition(value, (*path, key), set(answered), by_id, f["id"])
                answered.add(f["id"])
        for mi, m in enumerate(self.data["guide"]["materials"]):
            if isinstance(m.get("required"), Mapping):
                path = ("guide", "materials", mi, "required")
                self._check_condition(m["required"], path, set(by_id), by_id, None)

    def _constraints(self, fields: list[tuple[tuple[PathPart, ...], dict[str, Any], int]]) -> None:
        for path, f, _ in fields:
            lo_len, hi_len = f.get("min_length"), f.get("max_length")
            if lo_len is not None and hi_len is not None and lo_len > hi_len:
                self.error((*path, "min_length"), f"min_length {lo_len} is greater than max_length {hi_len}")
            if f.get("pattern") is not None:
                try:
                    re.compile(f["pattern"])
                except re.error as exc:
                    self.error((*path, "pattern"), f"not a valid regular expression: {exc}")
            lo, hi = f.get("min"), f.get("max")
            if lo is not None and hi is not None:
                if f["type"] == "date":
                    lo_d, hi_d = resolve_date_bound(lo, self.today), resolve_date_bound(hi, self.today)
                    if lo_d > hi_d:
                        self.error((*path, "min"), f"min {lo} is after max {hi}")
                elif float(lo) > float(hi):
                    self.error((*path, "min"), f"min {lo} is greater than max {hi}")
            if f["type"] == "date":
                for key in ("min", "max"):
                    bound = f.get(key)
                    if bound is not None and not RELATIVE_DATE_RE.match(bound):
                        try:
                            dt.date.fromisoformat(bound)
                        except ValueError:
                            self.error((*path, key), f"{bound!r} is not a real date")
            options = f.get("options", ())
            lo_sel, hi_sel = f.get("min_selected"), f.get("max_selected")
            if hi_sel is not None and hi_sel > len(options):
                self.error((*path, "max_selected"), f"max_selected {hi_sel} exceeds the {len(options)} options")
            if lo_sel is not None and hi_sel is not None and lo_sel > hi_sel:
                self.error((*path, "min_selected"), f"min_selected {lo_sel} is greater than max_selected {hi_sel}")
            if f["type"] in ("choice", "multi_choice") and f.get("prefill") not in (None, "sex"):
                self.error((*path, "prefill"), f"a choice can only be prefilled from sex, not {f['prefill']!r}")
            self._prefill(path, f)

    def _prefill(self, path: tuple[PathPart, ...], f: Mapping[str, Any]) -> None:
        source = f.get("prefill")
        if source is None:
            return
        fits = {
            "name": ("text",),
            "ethnicity": ("text", "choice"),
            "address": ("text", "multiline"),
            "issuing_authority": ("text",),
            "id_number": ("id_number",),
            "birth_date": ("date",),
            "valid_from": ("date",),
            "valid_until": ("date", "text"),  # text, because cards may say 长期 (no expiry)
            "sex": ("choice",),
        }[source]
        if f["type"] not in fits:
            self.error((*path, "prefill"), f"prefill {source!r} does not fit a {f['type']} field")
        if source == "sex" and f["type"] == "choice":
            values = {o["value"] for o in f["options"]}
            if not {"male", "female"} <= values:
                self.error((*path, "prefill"), "prefill 'sex' needs options with values male and female")

    def _examples(self) -> None:
        try:
            definition = ServiceDefinition.from_raw(self.data)
        except Exception as exc:
            self.error((), f"cannot be read as a service: {exc}")
            return
        for si, step in enumerate(definition.steps):
            for fi, f in enumerate(step.fields):
                _, problem = check_value(f, f.example, self.today)
                if problem is not None:
                    self.error(
                        ("steps", si, "fields", fi, "example"),
                        f"example {f.example!r} fails its own constraints: {problem.text('en')}",
                    )
        if self.errors:
            return
        # The examples together must make a complete submission, as smoke tests submit them.
        for problem in validate_answers(definition, example_answers(definition, today=self.today), today=self.today):
            step = definition.step_of(problem.field_id) if problem.field_id else None
            si = definition.steps.index(step) if step else 0
            fi = [f.id for f in step.fields].index(problem.field_id) if step else 0
            self.error(
                ("steps", si, "fields", fi),
                f"the examples do not make a complete submission: {problem.text('en')}",
            )

    def _materials(self, fields: list[tuple[tuple[PathPart, ...], dict[str, Any], int]]) -> None:
        materials = {m["id"] for m in self.data["guide"]["materials"]}
        for path, f, _ in fields:
            if f.get("material") is not None and f["material"] not in materials:
                self.error((*path, "material"), f"unknown material {f['material']!r} (not in guide.materials)")


def check_definition(data: Any, file: str = "<definition>", *, today: dt.date | None = None) -> list[DefinitionError]:
    """Every problem with one parsed definition: schema first, then semantics."""
    errors = _schema_errors(file, data)
    if errors:
        return errors
    return _Checker(file, data, today or dt.date.today()).run()


def load_definition(path: Path, *, today: dt.date | None = None) -> ServiceDefinition:
    """Load and check one definition file; raises :class:`DefinitionInvalid`."""
    path = Path(path)
    data, errors = _read_yaml(path)
    if not errors:
        errors = check_definition(data, str(path), today=today)
    if errors:
        raise DefinitionInvalid(errors)
    return ServiceDefinition.from_raw(data, source=path)


def _load_categories(path: Path) -> tuple[tuple[Category, ...], list[DefinitionError]]:
    data, errors = _read_yaml(path)
    if errors:
        return (), errors
    name = str(path)
    if not isinstance(data, Mapping) or not isinstance(data.get("categories"), list):
        return (), [DefinitionError(name, "categories", "must be a list of {id, name}")]
    categories: list[Category] = []
    for i, raw in enumerate(data["categories"]):
        if not isinstance(raw, Mapping) or not isinstance(raw.get("id"), str) or not raw["id"]:
            errors.append(DefinitionError(name, f"categories[{i}].id", "needs an id (text) and a name in zh_CN and en"))
            continue
        try:
            categories.append(Category(raw["id"], _i18n_strict(raw["name"])))
        except (KeyError, TypeError, ValueError) as exc:
            errors.append(DefinitionError(name, f"categories[{i}]", f"needs id and name in zh_CN and en ({exc})"))
    ids = [c.id for c in categories]
    for i, cid in enumerate(ids):
        if cid in ids[:i]:
            errors.append(DefinitionError(name, f"categories[{i}].id", f"duplicate category id {cid!r}"))
    return tuple(categories), errors


def _i18n_strict(value: Any) -> Any:
    from forms.i18n import I18nText

    if not isinstance(value, Mapping) or not all(
        isinstance(value.get(k), str) and value[k].strip() for k in ("zh_CN", "en")
    ):
        raise ValueError("missing translation")
    return I18nText.from_mapping(value)


def load_catalog(folder: Path, *, today: dt.date | None = None) -> Catalog:
    """Load a catalog folder: ``categories.yaml`` and ``services/*.yaml``.

    Every file is checked and every problem collected; raises :class:`DefinitionInvalid`.
    """
    folder = Path(folder)
    errors: list[DefinitionError] = []
    categories, cat_errors = _load_categories(folder / CATEGORIES_FILE)
    errors.extend(cat_errors)
    services: list[ServiceDefinition] = []
    files = sorted((folder / SERVICES_FOLDER).glob("*.yaml"))
    if not files:
        errors.append(DefinitionError(str(folder / SERVICES_FOLDER), "(folder)", "no service definitions (*.yaml)"))
    category_ids = {c.id for c in categories}
    for path in files:
        try:
            service = load_definition(path, today=today)
        except DefinitionInvalid as exc:
            errors.extend(exc.errors)
            continue
        if path.stem != service.id:
            errors.append(
                DefinitionError(str(path), "id", f"id {service.id!r} does not match the file name {path.name!r}")
            )
        if categories and service.category not in category_ids:
            errors.append(
                DefinitionError(str(path), "category", f"unknown category {service.category!r} (see {CATEGORIES_FILE})")
            )
        services.append(service)
    if errors:
        raise DefinitionInvalid(errors)
    order = {c.id: i for i, c in enumerate(categories)}
    services.sort(key=lambda s: (order.get(s.category, len(order)), s.id))
    return Catalog(categories=categories, services=tuple(services), folder=folder)
