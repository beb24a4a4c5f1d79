"""A real, small filesystem for disk-full tests: a tmpfs of a few MB mounted on a folder.

    with small_disk(tmp_path / "disk", size_mb=4) as folder:
        ...  # everything written under folder counts against its 4 MB

Mounting needs root (CI and the build machines run as root). Where the mount is refused,
:class:`SmallDiskUnavailable` says why, and tests skip with that reason.
:func:`fill_up` writes a filler file until the disk is full, leaving ``leave_bytes`` free.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class SmallDiskUnavailable(Exception):
    """A tmpfs cannot be mounted here (not root, or no mount permission in a container)."""


@contextmanager
def small_disk(folder: Path, size_mb: int = 4) -> Iterator[Path]:
    """Mount a ``size_mb`` tmpfs on ``folder`` for the ``with`` block; unmount after."""
    folder.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_mb}m,mode=0700", "tmpfs", str(folder)],
        capture_output=True, text=True, check=False,
    )
    if done.returncode != 0:
        raise SmallDiskUnavailable(
            f"cannot mount a {size_mb} MB tmpfs on {folder}: {done.stderr.strip() or done.returncode}"
        )
    try:
        yield folder
    finally:
        # Lazy unmount: a process killed by the test may still hold a file open for a moment.
        subprocess.run(["umount", "-l", str(folder)], capture_output=True, check=False)


def free_bytes(folder: Path) -> int:
    """Free space on the disk holding ``folder``."""
    return shutil.disk_usage(folder).free


def fill_up(folder: Path, leave_bytes: int = 0, name: str = "filler.bin") -> Path:
    """Write ``folder/name`` until at most ``leave_bytes`` are free on the disk; returns it."""
    path = folder / name
    chunk = b"\0" * 65536
    with open(path, "ab", buffering=0) as handle:
        while (room := free_bytes(folder) - leave_bytes) > 0:
            try:
                if not handle.write(chunk[: min(len(chunk), room)]):
                    break
            except OSError:  # ENOSPC: full
                break
    return path


def free_up(path: Path) -> None:
    """Delete a filler file made by :func:`fill_up`."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
