"""Bad input never crashes or hangs a terminal, and every refusal says what was wrong.

Every fuzz target of ``tests/support/fuzz_targets.py`` runs here with a modest number of
inputs (``bench/fuzz.py`` runs the same targets at scale). Below them, the failures the
fuzzing found, each pinned as an explicit example.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings

from catalog import DEFAULT_CATALOG_DIR
from devices.payload import PayloadKind, classify
from forms import DefinitionInvalid, load_catalog, load_definition
from tests.support.cli import run_cli
from tests.support.fuzz_targets import (
    APPOINTMENT,
    APPOINTMENT_PUBLIC,
    CATEGORIES,
    NOW,
    TARGETS,
    TOKEN,
    FuzzTarget,
    check_appointment,
    mutated_text,
    resigned_token,
    run_target,
)

SUITE_EXAMPLES = 100


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_fuzz_target_finds_no_crash_hang_or_unclear_error(target: FuzzTarget) -> None:
    report = run_target(target, max(10, SUITE_EXAMPLES // target.cost), seed=0)
    assert report.tried >= 10
    assert not report.failures, report.describe_failures()


# --- regressions found by the fuzzing ----------------------------------------------------

# Non-ASCII in the claims part of a token escaped as UnicodeEncodeError (the signed bytes
# are ASCII), so classify() of such a QR code crashed the scan instead of refusing it.
NON_ASCII_TOKEN = TOKEN[:60] + "\U000debf1" + TOKEN[61:]


@given(mutated_text([TOKEN], "é中"))
@example(NON_ASCII_TOKEN)
@example(TOKEN.replace(".", ".中", 1))
@settings(max_examples=50)
def test_a_token_with_any_character_changed_is_refused_as_an_appointment_error(text: str) -> None:
    check_appointment(text)


def test_a_qr_code_with_a_non_ascii_token_is_an_appointment_with_a_problem() -> None:
    payload = classify(NON_ASCII_TOKEN, appointment_key=APPOINTMENT_PUBLIC, now=NOW)
    assert payload.kind is PayloadKind.APPOINTMENT and payload.appointment is None
    assert payload.problem == "the appointment token's claims are not base64url"


# A validly signed token whose exp lay outside what a datetime holds raised OverflowError
# or OSError from expires_at (shown to the citizen) instead of being refused.
@pytest.mark.parametrize("exp", [-(10**20), -(2**62), -1, 10**20, 253_402_300_800])
def test_a_signed_token_with_an_impossible_expiry_is_refused(exp: int) -> None:
    token = resigned_token({**APPOINTMENT.__dict__, "exp": exp})
    payload = classify(token, appointment_key=APPOINTMENT_PUBLIC, now=NOW)
    assert payload.kind is PayloadKind.APPOINTMENT and payload.appointment is None
    assert payload.problem == "the appointment token's exp is not a time between 1970 and 9999"


# A category whose id was a mapping or a list made load_catalog raise TypeError
# ("unhashable type") instead of naming the category; a bundle from the platform with
# such a category was refused with only "unhashable type: 'dict'" as the reason.
def _definition() -> dict[str, object]:
    data: dict[str, object] = yaml.safe_load((DEFAULT_CATALOG_DIR / "services" / "residence-permit.yaml").read_text())
    return data


@pytest.mark.parametrize("bad_id", [{"id": "business"}, ["a", "b"], 7, None, ""])
def test_a_category_id_that_is_not_text_is_named_in_the_error(tmp_path: Path, bad_id: object) -> None:
    listed = [*CATEGORIES["categories"], {"id": bad_id, "name": {"zh_CN": "甲", "en": "A"}}]
    folder = _write_catalog(tmp_path, {"format": 1, "categories": listed})
    with pytest.raises(DefinitionInvalid) as refused:
        load_catalog(folder)
    assert [(e.path, e.reason) for e in refused.value.errors] == [
        (f"categories[{len(listed) - 1}].id", "needs an id (text) and a name in zh_CN and en")
    ]


def _write_catalog(folder: Path, categories: dict[str, object]) -> Path:
    (folder / "services").mkdir(parents=True)
    (folder / "categories.yaml").write_text(yaml.safe_dump(categories, allow_unicode=True), "utf-8")
    (folder / "services" / "residence-permit.yaml").write_text(
        yaml.safe_dump(_definition(), allow_unicode=True), "utf-8"
    )
    return folder


# A definition nested 50,000 levels deep (100 KB of "[" or "- - - ...") crashed the whole
# process with a segmentation fault inside libyaml; one with YAML aliases that multiply
# (a "billion laughs" inside a condition) kept the checks busy for minutes.
def test_validating_a_definition_nested_too_deep_says_so_instead_of_crashing(tmp_path: Path, data_dir: Path) -> None:
    catalog = _write_catalog(tmp_path / "catalog", CATEGORIES)
    (catalog / "services" / "deep.yaml").write_text("id: " + "[" * 50_000 + "]" * 50_000 + "\n")
    (catalog / "services" / "compact.yaml").write_text("- " * 50_000 + "x\n")
    deep, compact = catalog / "services" / "deep.yaml", catalog / "services" / "compact.yaml"
    result = run_cli("forms", "validate", str(deep), str(compact), data_dir=data_dir)
    assert result.returncode == 1, (result.returncode, result.stderr[-500:])
    assert "Traceback" not in result.stderr
    output = result.stdout
    assert f"{deep}: (file): nested more than 64 levels deep" in output
    assert f"{compact}: (file): nested more than 64 levels deep" in output


def _alias_bomb(levels: int = 8) -> str:
    """The reference definition with a condition that expands to 9**levels leaves."""
    anchors = ["x_a0: &a0 {field: name, equals: x}"]
    for i in range(1, levels + 1):
        anchors.append(f"x_a{i}: &a{i} {{any: [" + ", ".join([f"*a{i - 1}"] * 9) + "]}")
    body = yaml.safe_dump(_definition(), allow_unicode=True, sort_keys=False)
    body = body.replace("\n- id: ", f"\n- show_if: *a{levels - 1}\n  id: ", 2)
    return "\n".join(anchors) + "\n" + body


@pytest.mark.timeout(60)
def test_a_definition_whose_aliases_multiply_is_refused_quickly(tmp_path: Path) -> None:
    path = tmp_path / "residence-permit.yaml"
    path.write_text(_alias_bomb(), "utf-8")
    started = time.perf_counter()
    with pytest.raises(DefinitionInvalid) as refused:
        load_definition(path)
    assert time.perf_counter() - started < 10
    assert [e.reason for e in refused.value.errors] == [
        "holds more than 200000 values (YAML aliases that repeat or refer to themselves?)"
    ]


def test_a_definition_that_refers_to_itself_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("id: &loop [*loop]\n", "utf-8")
    with pytest.raises(DefinitionInvalid, match="nested more than 64 levels deep"):
        load_definition(path)
