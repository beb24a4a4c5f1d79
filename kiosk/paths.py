"""Where the kiosk keeps its data and finds its config file.

The data folder holds the config file, the local database, logs and crash reports.
Technicians choose it with ``--data-dir`` or ``KIOSK_DATA_DIR``; otherwise it is the
per-user data folder of the operating system.
"""

import logging
import os
import tempfile
from pathlib import Path

import platformdirs

from kiosk.errors import SetupError

logger = logging.getLogger(__name__)

DATA_DIR_ENV = "KIOSK_DATA_DIR"
CONFIG_ENV = "KIOSK_CONFIG"
CONFIG_FILE_NAME = "kiosk.toml"

_HOW_TO_CHOOSE = f"or choose another folder with --data-dir or {DATA_DIR_ENV}"


def resolve_data_dir(cli_value: str | None) -> Path:
    """Return the data folder, created if needed and checked to be writable.

    Precedence: the ``--data-dir`` value, then ``KIOSK_DATA_DIR``, then the operating
    system's per-user data folder for "tongban". Empty values count as not given.

    Raises:
        SetupError: the folder cannot be created or written; the message names the
            folder, where it came from and the fix.
    """
    env_value = os.environ.get(DATA_DIR_ENV)
    if cli_value:
        raw, source = cli_value, "--data-dir"
    elif env_value:
        raw, source = env_value, DATA_DIR_ENV
    else:
        raw = platformdirs.user_data_dir("tongban", appauthor=False)
        source = "the system default"
    path = Path(raw).expanduser().absolute()
    _ensure_usable_folder(path, source)
    logger.debug("Data folder %s (from %s)", path, source)
    return path


def resolve_config_path(data_dir: Path) -> Path:
    """Return the config file to read: ``KIOSK_CONFIG`` if set, else data_dir/kiosk.toml.

    The file need not exist (a missing file means all defaults).
    """
    env_value = os.environ.get(CONFIG_ENV)
    if env_value:
        return Path(env_value).expanduser()
    return data_dir / CONFIG_FILE_NAME


def _ensure_usable_folder(path: Path, source: str) -> None:
    """Create ``path`` (with parents) and prove we can write a file in it."""
    blocker = _file_in_the_way(path)
    if blocker is not None:
        raise SetupError(
            f"data folder {path} (from {source}) cannot be used: {blocker} is a file, "
            f"not a folder. Fix: move or rename that file, {_HOW_TO_CHOOSE}."
        )
    try:
        path.mkdir(parents=True, exist_ok=True)
        # A real write catches read-only mounts and ACLs that os.access misses.
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise SetupError(
            f"data folder {path} (from {source}) cannot be created or written ({reason}). "
            f"Fix: give the kiosk's user account write access to it, {_HOW_TO_CHOOSE}."
        ) from exc


def _file_in_the_way(path: Path) -> Path | None:
    """Return the first of ``path`` and its parents that exists but is not a folder."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None
