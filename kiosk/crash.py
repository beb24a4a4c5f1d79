"""Crashes leave a trace in the data folder.

Two files in ``data_dir/logs``:

- ``crash.log``: every uncaught Python exception (main thread or any other thread), with
  a timestamp and the full traceback, appended.
- ``crash-faulthandler.log``: what Python's faulthandler writes when the process dies
  hard (segmentation fault in Qt or a driver, abort), with the stacks of all threads.

The exception is also logged at CRITICAL, and the hook that was installed before ours
still runs (so the traceback still reaches stderr).
"""

import datetime
import faulthandler
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import IO, Any

from kiosk.logs import log_dir

logger = logging.getLogger(__name__)

CRASH_LOG_NAME = "crash.log"
FAULTHANDLER_LOG_NAME = "crash-faulthandler.log"


class _State:
    """What the installed hooks need; one per process."""

    crash_log: Path | None = None
    # faulthandler writes to the file descriptor, so the file object must stay open.
    fault_file: IO[str] | None = None
    previous_excepthook: Callable[..., Any] | None = None
    previous_threading_excepthook: Callable[[threading.ExceptHookArgs], Any] | None = None


_state = _State()


def install_crash_handler(data_dir: Path) -> None:
    """Record crashes in ``data_dir/logs``: faulthandler plus exception hooks.

    Calling it again (e.g. with another data folder) moves the files; the hooks are not
    chained twice.
    """
    folder = log_dir(data_dir)
    folder.mkdir(parents=True, exist_ok=True)

    fault_file = open(folder / FAULTHANDLER_LOG_NAME, "a", encoding="utf-8")
    faulthandler.enable(file=fault_file, all_threads=True)
    if _state.fault_file is not None:
        _state.fault_file.close()
    _state.fault_file = fault_file
    _state.crash_log = folder / CRASH_LOG_NAME

    if sys.excepthook is not _excepthook:
        _state.previous_excepthook = sys.excepthook
        sys.excepthook = _excepthook
    if threading.excepthook is not _threading_excepthook:
        _state.previous_threading_excepthook = threading.excepthook
        threading.excepthook = _threading_excepthook
    logger.debug("Crash reports go to %s", folder)


def _excepthook(
    exc_type: type[BaseException],
    exc_value: BaseException,
    exc_traceback: TracebackType | None,
) -> None:
    """sys.excepthook: record the crash, then run the previous hook."""
    if not issubclass(exc_type, KeyboardInterrupt):
        _record(exc_type, exc_value, exc_traceback, where="main thread")
    previous = _state.previous_excepthook or sys.__excepthook__
    previous(exc_type, exc_value, exc_traceback)


def _threading_excepthook(args: threading.ExceptHookArgs) -> None:
    """threading.excepthook: record the crash, then run the previous hook."""
    # The default hook ignores SystemExit in threads; so do we.
    if not issubclass(args.exc_type, SystemExit):
        name = args.thread.name if args.thread is not None else "unknown"
        _record(args.exc_type, args.exc_value, args.exc_traceback, where=f"thread {name}")
    previous = _state.previous_threading_excepthook or threading.__excepthook__
    previous(args)


def _record(
    exc_type: type[BaseException],
    exc_value: BaseException | None,
    exc_traceback: TracebackType | None,
    where: str,
) -> None:
    """Append the traceback to crash.log and log it; never raise from inside a hook."""
    text = "".join(traceback.format_exception(exc_type, exc_value, exc_traceback))
    stamp = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
    if _state.crash_log is not None:
        try:
            with open(_state.crash_log, "a", encoding="utf-8") as f:
                f.write(f"=== {stamp} pid {os.getpid()} uncaught exception in {where}\n")
                f.write(text)
                f.write("\n")
        except OSError:
            logger.exception("Could not write %s", _state.crash_log)
    logger.critical(
        "Uncaught exception in %s", where, exc_info=(exc_type, exc_value, exc_traceback)
    )
