"""The ``kiosk`` command: the terminal application and its technician commands."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from kiosk.errors import CommandError, SetupError

__all__ = ["CliContext", "CommandError", "main", "print_json"]

log = logging.getLogger(__name__)

# Modules under kiosk.commands that add sub-commands, in the order `--help` lists them.
COMMAND_MODULES = (
    "catalog", "forms", "enroll", "submit", "queue", "sync", "receipt", "printers", "scan", "run", "doctor",
    "hall", "staff", "audit", "report",
)


@dataclass
class CliContext:
    """What every command gets: resolved folders and configuration, made on first use."""

    data_dir_arg: str | None
    _data_dir: Path | None = field(default=None, repr=False)
    _config: Any = field(default=None, repr=False)

    @property
    def data_dir(self) -> Path:
        """The terminal's data folder (``--data-dir``, ``KIOSK_DATA_DIR`` or the OS default)."""
        if self._data_dir is None:
            from kiosk.paths import resolve_data_dir

            self._data_dir = resolve_data_dir(self.data_dir_arg)
        return self._data_dir

    @property
    def config(self) -> Any:
        """The loaded configuration (``KIOSK_CONFIG`` or ``kiosk.toml`` in the data folder)."""
        if self._config is None:
            from kiosk.config import load_config
            from kiosk.paths import resolve_config_path

            self._config = load_config(resolve_config_path(self.data_dir))
        return self._config

    def start_logging(self) -> None:
        """Log to the rotating file in the data folder and install the crash handler."""
        from kiosk.crash import install_crash_handler
        from kiosk.logs import setup_logging

        cfg = self.config
        setup_logging(
            self.data_dir,
            level=cfg.logging.level,
            max_bytes=cfg.logging.max_bytes,
            backup_count=cfg.logging.backup_count,
        )
        install_crash_handler(self.data_dir)


def version() -> str:
    """The installed version of Tongban."""
    try:
        return metadata.version("tongban")
    except metadata.PackageNotFoundError:  # running from a source tree without install
        return "0+unknown"


def print_json(value: Any) -> None:
    """Write ``value`` as JSON to stdout, keeping Chinese readable."""
    sys.stdout.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")


def _command_in(argv: Sequence[str]) -> str | None:
    """The sub-command named in ``argv`` (the first word that is not a global option)."""
    words = iter(argv)
    for word in words:
        if word == "--data-dir":
            next(words, None)
        elif word == "--":
            return next(words, None)
        elif not word.startswith("-"):
            return word
    return None


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The argument parser. Each command lives in the module of its name under
    ``kiosk.commands``; when ``argv`` names one, only that module is imported (the others
    pull in HTTP, crypto and PDF libraries: a second and a half at every start), otherwise
    all of them, so ``--help`` and a mistyped command list every command."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="kiosk",
        description="Tongban (通办) self-service kiosk and hall terminal.",
    )
    parser.add_argument("--version", action="version", version=f"tongban {version()}")
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        help="data folder (database, logs, config); default: $KIOSK_DATA_DIR or the OS default",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    wanted = _command_in(sys.argv[1:] if argv is None else argv)
    for name in (wanted,) if wanted in COMMAND_MODULES else COMMAND_MODULES:
        module = importlib.import_module(f"kiosk.commands.{name}")
        module.register(sub)
    return parser


Handler = Callable[[argparse.Namespace, CliContext], int]


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kiosk`` console script."""
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    handler: Handler | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return 2
    from kiosk.config import ConfigError

    ctx = CliContext(data_dir_arg=args.data_dir)
    try:
        try:
            ctx.start_logging()
        except ConfigError:
            # `kiosk doctor` reports a broken config file itself instead of stopping at it.
            if not getattr(args, "survives_bad_config", False):
                raise
            from kiosk.config import default_config

            ctx._config = default_config()
            ctx.start_logging()
        log.info("kiosk %s: %s", version(), args.command)
        return handler(args, ctx)
    except CommandError as exc:
        sys.stderr.write(f"kiosk: {exc}\n")
        return exc.code
    except (SetupError, ConfigError) as exc:
        sys.stderr.write(f"kiosk: {exc}\n")
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":  # pragma: no cover - `python -m kiosk.cli`
    sys.exit(main())
