"""A definition with a mistake is refused with the file, the path inside it and the reason."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from catalog import DEFAULT_CATALOG_DIR
from forms import DefinitionInvalid, load_catalog, load_definition
from tests.support.cli import run_cli

REFERENCE = DEFAULT_CATALOG_DIR / "services" / "residence-permit.yaml"


def reference() -> dict[str, Any]:
    return yaml.safe_load(REFERENCE.read_text("utf-8"))


def field_path(data: dict[str, Any], field_id: str) -> tuple[int, int]:
    for si, step in enumerate(data["steps"]):
        for fi, f in enumerate(step["fields"]):
            if f["id"] == field_id:
                return si, fi
    raise KeyError(field_id)


def mutate(fn: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    data = copy.deepcopy(reference())
    fn(data)
    return data


def set_field(field_id: str, key: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def apply(data: dict[str, Any]) -> None:
        si, fi = field_path(data, field_id)
        data["steps"][si]["fields"][fi][key] = value

    return apply


CASES = [
    # (description, mutation, expected path, words expected in the reason)
    (
        "condition names an unknown field",
        set_field("employer", "show_if", {"field": "basis_typo", "equals": "x"}),
        "steps[2].fields[4].show_if.field",
        "unknown field 'basis_typo'",
    ),
    (
        "condition names a later field",
        set_field("name", "show_if", {"field": "basis", "equals": "study"}),
        "steps[0].fields[0].show_if.field",
        "earlier fields",
    ),
    (
        "condition compares with a value that is not an option",
        set_field("school", "show_if", {"field": "basis", "equals": "studying"}),
        "steps[2].fields[5].show_if.equals",
        "not an option of 'basis'",
    ),
    (
        "example fails its own constraint",
        set_field("mobile", "example", "1380013800"),
        "steps[0].fields[4].example",
        "fails its own constraints",
    ),
    (
        "example ID number with a wrong check digit",
        set_field("id_number", "example", "110105194912310021"),
        "steps[0].fields[2].example",
        "ID number is not valid",
    ),
    ("missing English translation", lambda d: d["name"].pop("en"), "name", "missing translation: en"),
    ("blank Chinese translation", lambda d: d["description"].update(zh_CN="  "), "description.zh_CN", "does not match"),
    ("duplicate field id", set_field("school", "id", "employer"), "steps[2].fields[5].id", "duplicate field id"),
    ("unknown field type", set_field("mobile", "type", "phone"), "steps[0].fields[4].type", "is not one of"),
    ("unknown key", set_field("mobile", "requird", True), "steps[0].fields[4]", "requird"),
    (
        "attachment names a material not in the guide",
        set_field("residence_proof", "material", "lease"),
        "steps[3].fields[0].material",
        "unknown material 'lease'",
    ),
    (
        "regular expression that does not compile",
        set_field("employer", "pattern", "([a-z]"),
        "steps[2].fields[4].pattern",
        "not a valid regular expression",
    ),
    (
        "prefill that does not fit the field",
        set_field("mobile", "prefill", "birth_date"),
        "steps[0].fields[4].prefill",
        "does not fit",
    ),
    (
        "computed value from a field of the wrong type",
        lambda d: d["computed"][0].update(field="mobile"),
        "computed[0].field",
        "needs a field of type id_number",
    ),
    (
        "min greater than max",
        set_field("employer", "min_length", 500),
        "steps[2].fields[4].min_length",
        "greater than max_length",
    ),
    (
        "condition that is code, not data",
        set_field("school", "show_if", "basis == 'study'"),
        "steps[2].fields[5].show_if",
        "is not valid",
    ),
]


@pytest.mark.parametrize(("what", "change", "path", "reason"), CASES, ids=[c[0] for c in CASES])
def test_broken_definition_is_rejected_with_file_path_and_reason(
    tmp_path: Path, what: str, change: Callable[[dict[str, Any]], None], path: str, reason: str
) -> None:
    target = tmp_path / "residence-permit.yaml"
    target.write_text(yaml.safe_dump(mutate(change), allow_unicode=True), "utf-8")
    with pytest.raises(DefinitionInvalid) as caught:
        load_definition(target)
    matches = [e for e in caught.value.errors if e.path == path]
    assert matches, f"{what}: expected an error at {path}, got {[str(e) for e in caught.value.errors]}"
    assert any(reason in e.reason for e in matches), [e.reason for e in matches]
    assert all(e.file == str(target) for e in caught.value.errors)


def test_yaml_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    target = tmp_path / "broken.yaml"
    target.write_text("format: 1\nid: broken\nname: {zh_CN: 名称, en: [unclosed\n", "utf-8")
    with pytest.raises(DefinitionInvalid) as caught:
        load_definition(target)
    (error,) = caught.value.errors
    assert error.file == str(target)
    assert error.path.startswith("line ")
    assert "not valid YAML" in error.reason


def test_every_error_is_reported_not_just_the_first(tmp_path: Path) -> None:
    data = mutate(set_field("mobile", "example", "123"))
    si, fi = field_path(data, "employer")
    data["steps"][si]["fields"][fi]["material"] = "nope"  # not allowed on text: schema error
    data["steps"][0]["fields"][0]["show_if"] = {"field": "zzz", "equals": 1}
    target = tmp_path / "residence-permit.yaml"
    target.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(DefinitionInvalid) as caught:
        load_definition(target)
    assert len(caught.value.errors) >= 1
    paths = {e.path for e in caught.value.errors}
    assert "steps[2].fields[4]" in paths  # schema errors come first and stop semantic checks


def test_catalog_refuses_a_file_whose_name_is_not_its_id(tmp_path: Path) -> None:
    (tmp_path / "services").mkdir()
    (tmp_path / "categories.yaml").write_text((DEFAULT_CATALOG_DIR / "categories.yaml").read_text("utf-8"), "utf-8")
    (tmp_path / "services" / "permit.yaml").write_text(REFERENCE.read_text("utf-8"), "utf-8")
    with pytest.raises(DefinitionInvalid) as caught:
        load_catalog(tmp_path)
    assert any(e.path == "id" and "does not match the file name" in e.reason for e in caught.value.errors)


def test_catalog_refuses_an_unknown_category(tmp_path: Path) -> None:
    (tmp_path / "services").mkdir()
    (tmp_path / "categories.yaml").write_text(
        "format: 1\ncategories:\n  - id: other\n    name: {zh_CN: 其他, en: Other}\n", "utf-8"
    )
    (tmp_path / "services" / "residence-permit.yaml").write_text(REFERENCE.read_text("utf-8"), "utf-8")
    with pytest.raises(DefinitionInvalid) as caught:
        load_catalog(tmp_path)
    assert any(e.path == "category" and "household-residence" in e.reason for e in caught.value.errors)


def test_cli_validate_lists_every_error_and_exits_1(tmp_path: Path, data_dir: Path) -> None:
    good = tmp_path / "residence-permit.yaml"
    good.write_text(REFERENCE.read_text("utf-8"), "utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(mutate(set_field("mobile", "example", "12")), allow_unicode=True), "utf-8")
    result = run_cli("forms", "validate", str(good), str(bad), data_dir=data_dir)
    assert result.returncode == 1
    assert f"{bad}: steps[0].fields[4].example: example '12' fails its own constraints" in result.stdout
    assert str(good) not in result.stdout
    assert "Traceback" not in result.stderr


def test_cli_validate_accepts_the_bundled_catalog(data_dir: Path) -> None:
    result = run_cli("forms", "validate", str(DEFAULT_CATALOG_DIR / "services"), data_dir=data_dir)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout
