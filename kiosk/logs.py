"""Logging for the kiosk: a rotating UTF-8 log file in the data folder, and stderr.

The file gets everything at the configured level. Stderr gets only warnings and errors
(so CLI output stays readable) unless the level is DEBUG.
"""

import logging
import logging.handlers
import sys
from pathlib import Path

from kiosk.errors import SetupError

logger = logging.getLogger(__name__)

LOG_FILE_NAME = "kiosk.log"
FILE_FORMAT = "%(asctime)s %(levelname)-8s %(name)s: %(message)s"
STDERR_FORMAT = "%(levelname)s %(name)s: %(message)s"

# Names marking the handlers we own, so a second call replaces them instead of adding more.
_FILE_HANDLER_NAME = "tongban-file"
_STDERR_HANDLER_NAME = "tongban-stderr"


def log_dir(data_dir: Path) -> Path:
    """Return the folder holding logs and crash reports inside ``data_dir``."""
    return data_dir / "logs"


def setup_logging(
    data_dir: Path,
    level: str = "INFO",
    max_bytes: int = 5_000_000,
    backup_count: int = 5,
    stderr: bool = True,
) -> Path:
    """Send the root logger to ``data_dir/logs/kiosk.log`` (rotating) and to stderr.

    Calling it again replaces the handlers it installed earlier (for example once the
    config file has been read), so nothing is logged twice.

    Args:
        data_dir: the kiosk's data folder.
        level: "DEBUG", "INFO", "WARNING" or "ERROR"; the least severe message kept.
        max_bytes: size at which kiosk.log is rotated to kiosk.log.1.
        backup_count: how many rotated files are kept (at least 1).
        stderr: also write to stderr (WARNING and above, or everything at DEBUG).

    Returns:
        The path of the log file.

    Raises:
        SetupError: the logs folder cannot be created or the log file cannot be opened.
        ValueError: ``level`` is not a known level name.
    """
    numeric_level = logging.getLevelName(level.upper())
    if not isinstance(numeric_level, int):
        raise ValueError(f"unknown log level {level!r}")

    log_path = log_dir(data_dir) / LOG_FILE_NAME
    try:
        log_path.parent.mkdir(parents=True, exist_ok=True)
        file_handler = logging.handlers.RotatingFileHandler(
            log_path, maxBytes=max_bytes, backupCount=backup_count, encoding="utf-8"
        )
    except OSError as exc:
        raise SetupError(
            f"cannot write the log file {log_path} ({exc.strerror or exc}). Fix: give the "
            "kiosk's user account write access to the data folder, or choose another one "
            "with --data-dir or KIOSK_DATA_DIR."
        ) from exc
    file_handler.set_name(_FILE_HANDLER_NAME)
    file_handler.setLevel(numeric_level)
    file_handler.setFormatter(logging.Formatter(FILE_FORMAT))

    root = logging.getLogger()
    _remove_our_handlers(root)
    root.setLevel(numeric_level)
    root.addHandler(file_handler)

    # A windowed (no console) build has no stderr at all.
    if stderr and sys.stderr is not None:
        stderr_handler = logging.StreamHandler(sys.stderr)
        stderr_handler.set_name(_STDERR_HANDLER_NAME)
        stderr_level = logging.DEBUG if numeric_level <= logging.DEBUG else logging.WARNING
        stderr_handler.setLevel(max(stderr_level, numeric_level))
        stderr_handler.setFormatter(logging.Formatter(STDERR_FORMAT))
        root.addHandler(stderr_handler)

    # Python's warnings (deprecations in libraries) go to the log file too.
    logging.captureWarnings(True)
    logger.debug("Logging to %s at level %s", log_path, logging.getLevelName(numeric_level))
    return log_path


def _remove_our_handlers(root: logging.Logger) -> None:
    for handler in list(root.handlers):
        if handler.get_name() in (_FILE_HANDLER_NAME, _STDERR_HANDLER_NAME):
            root.removeHandler(handler)
            handler.close()
