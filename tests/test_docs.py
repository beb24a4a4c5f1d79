"""The documentation a technician reads says what the code does."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from catalog import DEFAULT_CATALOG_DIR
from kiosk.config_docs import config_markdown

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_config_reference_is_generated_from_the_declared_keys() -> None:
    assert (DOCS / "config.md").read_text("utf-8") == config_markdown(), "run: python -m kiosk.config_docs"


def test_forms_doc_example_is_the_reference_definition() -> None:
    text = (DOCS / "forms.md").read_text("utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    example = yaml.safe_load(blocks[-1])
    reference = yaml.safe_load((DEFAULT_CATALOG_DIR / "services" / "residence-permit.yaml").read_text("utf-8"))
    assert example == reference


def test_every_test_the_threat_model_names_exists() -> None:
    """docs/security.md proves each control with a named test; a renamed or removed test
    would leave a control unproved without anyone noticing."""
    text = (DOCS / "security.md").read_text("utf-8")
    refs = re.findall(r"`(tests/[\w/]+\.py)::(\w+)`", text)
    assert len(refs) >= 40, "the threat model names its tests as `tests/file.py::test_name`"
    repo = DOCS.parent
    missing = [f"{path}::{name}" for path, name in refs
               if not re.search(rf"^def {name}\(", (repo / path).read_text("utf-8"), flags=re.M)]
    assert not missing, f"named in docs/security.md but not found: {missing}"
