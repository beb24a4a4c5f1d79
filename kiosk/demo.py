"""The README's demo: a short walk through the terminal's commands, headless.

Runs against a throw-away data folder so it never touches a real terminal's data, and only
uses what the bundled catalog provides, so it works on a fresh machine with no network.
"""

from __future__ import annotations

import json
import sys
import tempfile
from contextlib import redirect_stdout
from io import StringIO

import jsonschema

from catalog import DEFAULT_CATALOG_DIR
from kiosk.cli import main as kiosk_main
from kiosk.cli import version

DEMO_SERVICE = "residence-permit"


def _kiosk(data_dir: str, *args: str, echo: bool = True) -> str:
    """Run one ``kiosk`` command like a terminal session; its output, or exit on failure."""
    buffer = StringIO()
    with redirect_stdout(buffer):
        code = kiosk_main(["--data-dir", data_dir, *args])
    if echo:
        sys.stdout.write(f"\n$ kiosk {' '.join(args)}\n{buffer.getvalue()}")
    if code != 0:
        raise SystemExit(f"demo: 'kiosk {' '.join(args)}' failed with exit status {code}")
    return buffer.getvalue()


def main() -> int:
    """Catalog, one service guide, and the example answers checked against the payload schema."""
    with tempfile.TemporaryDirectory(prefix="tongban-demo-") as data_dir:
        sys.stdout.write(f"Tongban (通办) {version()}: service catalog and forms engine demo\n")
        _kiosk(data_dir, "forms", "validate", str(DEFAULT_CATALOG_DIR / "services"))
        _kiosk(data_dir, "catalog", "list")
        _kiosk(data_dir, "catalog", "show", DEMO_SERVICE)
        _kiosk(data_dir, "catalog", "show", DEMO_SERVICE, "--lang", "en")
        example = json.loads(_kiosk(data_dir, "forms", "example", DEMO_SERVICE))
        schema = json.loads(_kiosk(data_dir, "forms", "schema", DEMO_SERVICE, echo=False))
        validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
        validator.validate(example)
        sys.stdout.write(
            f"\nThe example answers of {DEMO_SERVICE} validate against "
            f"`kiosk forms schema {DEMO_SERVICE}` ({len(example)} answers).\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
