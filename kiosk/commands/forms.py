"""``kiosk forms``: check definition files, and print a service's payload schema or example."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from forms import DefinitionInvalid, example_answers, load_definition, payload_schema
from kiosk.cli import CliContext, print_json
from kiosk.commands.catalog import find, load


def register(sub: Any) -> None:
    """Add ``forms validate``, ``forms schema`` and ``forms example``."""
    parser = sub.add_parser("forms", help="check service definitions; payload schemas and examples")
    forms_sub = parser.add_subparsers(dest="forms_command", metavar="ACTION", required=True)

    p = forms_sub.add_parser("validate", help="check definition files (exit 1 listing every error)")
    p.add_argument("paths", nargs="+", metavar="PATH", help="definition files or folders of them")
    p.set_defaults(handler=validate)

    p = forms_sub.add_parser("schema", help="print the JSON Schema of a service's payload")
    p.add_argument("service_id", metavar="SERVICE_ID")
    p.set_defaults(handler=schema)

    p = forms_sub.add_parser("example", help="print a service's example answers as a payload")
    p.add_argument("service_id", metavar="SERVICE_ID")
    p.set_defaults(handler=example)


def _files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = sorted(path.glob("*.yaml")) or sorted(path.glob("services/*.yaml"))
            files.extend(found)
        else:
            files.append(path)
    return files


def validate(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk forms validate PATH...``: every error as ``file: path: reason``."""
    files = _files(args.paths)
    if not files:
        sys.stderr.write("kiosk: no definition files (*.yaml) found in " + ", ".join(args.paths) + "\n")
        return 1
    errors = 0
    for path in files:
        try:
            load_definition(path)
        except DefinitionInvalid as exc:
            for error in exc.errors:
                sys.stdout.write(f"{error}\n")
            errors += len(exc.errors)
    if errors:
        sys.stdout.write(f"{errors} error(s) in {len(files)} file(s)\n")
        return 1
    sys.stdout.write(f"{len(files)} definition(s) valid\n")
    return 0


def schema(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk forms schema SERVICE_ID``."""
    print_json(payload_schema(find(load(ctx), args.service_id)))
    return 0


def example(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk forms example SERVICE_ID``."""
    print_json(example_answers(find(load(ctx), args.service_id)))
    return 0
