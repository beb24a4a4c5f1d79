"""The compiled definition check (the fast path of the catalog loader) against jsonschema."""

from __future__ import annotations

import pytest


def test_the_compiled_definition_check_agrees_with_jsonschema_on_the_bundled_catalog() -> None:
    """The fast path must accept exactly what jsonschema accepts, and refuse a broken definition."""
    import copy

    import fastjsonschema
    import jsonschema
    import yaml

    from catalog import DEFAULT_CATALOG_DIR
    from forms.loader import _definition_check, definition_schema

    reference = jsonschema.Draft202012Validator(definition_schema())
    for path in sorted((DEFAULT_CATALOG_DIR / "services").glob("*.yaml")):
        data = yaml.safe_load(path.read_text("utf-8"))
        assert reference.is_valid(data), path.name
        _definition_check()(data)  # raises if it disagrees
        broken = copy.deepcopy(data)
        broken["steps"][0]["fields"][0]["type"] = "telepathy"
        assert not reference.is_valid(broken)
        with pytest.raises(fastjsonschema.JsonSchemaException):
            _definition_check()(broken)
