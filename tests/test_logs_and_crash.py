"""Logs and crash reports land in the data folder where a technician looks for them."""

import logging
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.logs import setup_logging

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def restore_root_logger() -> Iterator[None]:
    """setup_logging changes the process-wide root logger; put it back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    logging.captureWarnings(False)


def our_handlers() -> list[logging.Handler]:
    return [h for h in logging.getLogger().handlers if (h.get_name() or "").startswith("tongban")]


# --- logging ------------------------------------------------------------------------------


def test_log_file_is_written_in_utf8_with_time_level_and_logger(tmp_path: Path) -> None:
    log_path = setup_logging(tmp_path, stderr=False)

    logging.getLogger("kiosk.demo").info("受理编号 %s", "A-001")
    for handler in our_handlers():
        handler.flush()

    assert log_path == tmp_path / "logs" / "kiosk.log"
    line = log_path.read_text(encoding="utf-8").splitlines()[-1]
    assert "INFO" in line
    assert "kiosk.demo" in line
    assert "受理编号 A-001" in line
    assert line[:4].isdigit()  # starts with the date


def test_log_file_is_rotated_at_max_bytes(tmp_path: Path) -> None:
    log_path = setup_logging(tmp_path, max_bytes=500, backup_count=2, stderr=False)

    for n in range(100):
        logging.getLogger("kiosk.demo").info("message number %03d", n)

    assert log_path.exists()
    assert (tmp_path / "logs" / "kiosk.log.1").exists()
    assert (tmp_path / "logs" / "kiosk.log.2").exists()
    assert not (tmp_path / "logs" / "kiosk.log.3").exists()
    assert log_path.stat().st_size <= 500
    assert "message number 099" in log_path.read_text(encoding="utf-8")


def test_calling_twice_does_not_duplicate_lines(tmp_path: Path) -> None:
    setup_logging(tmp_path, stderr=True)
    log_path = setup_logging(tmp_path, stderr=True)

    logging.getLogger("kiosk.demo").warning("only once")
    for handler in our_handlers():
        handler.flush()

    assert len(our_handlers()) == 2
    assert log_path.read_text(encoding="utf-8").count("only once") == 1


def test_stderr_gets_warnings_but_not_info(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(tmp_path, level="INFO")

    logging.getLogger("kiosk.demo").info("routine detail")
    logging.getLogger("kiosk.demo").warning("printer out of paper")

    err = capsys.readouterr().err
    assert "printer out of paper" in err
    assert "routine detail" not in err


def test_debug_level_shows_everything_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    setup_logging(tmp_path, level="DEBUG")

    logging.getLogger("kiosk.demo").debug("scanner frame decoded")

    assert "scanner frame decoded" in capsys.readouterr().err


def test_level_filters_the_file(tmp_path: Path) -> None:
    log_path = setup_logging(tmp_path, level="WARNING", stderr=False)

    logging.getLogger("kiosk.demo").info("hidden")
    logging.getLogger("kiosk.demo").error("shown")
    for handler in our_handlers():
        handler.flush()

    text = log_path.read_text(encoding="utf-8")
    assert "shown" in text
    assert "hidden" not in text


def test_unknown_level_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="VERBOSE"):
        setup_logging(tmp_path, level="VERBOSE")


# --- crashes (in a child process, so the test runner's own hooks stay untouched) ----------


def run_child(code: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh Python with kiosk importable and DATA set to data_dir."""
    prelude = "from pathlib import Path\nimport sys\nDATA = Path(sys.argv[1])\n"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "PYTHONIOENCODING": "utf-8"}
    return subprocess.run(
        [sys.executable, "-c", prelude + textwrap.dedent(code), str(data_dir)],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=env,
        cwd=data_dir,
        timeout=60,
        # No core dump from the deliberate segfault below.
        preexec_fn=_no_core_dumps if os.name == "posix" else None,
    )


def _no_core_dumps() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def test_uncaught_exception_is_written_to_crash_log(tmp_path: Path) -> None:
    result = run_child(
        """
        from kiosk.crash import install_crash_handler
        install_crash_handler(DATA)
        raise RuntimeError("打印机 boom")
        """,
        tmp_path,
    )

    assert result.returncode == 1
    crash_log = (tmp_path / "logs" / "crash.log").read_text(encoding="utf-8")
    assert "RuntimeError: 打印机 boom" in crash_log
    assert "Traceback" in crash_log
    assert "uncaught exception in main thread" in crash_log
    # The previous hook still ran: the traceback reached stderr as usual.
    assert "RuntimeError: 打印机 boom" in result.stderr


def test_crash_is_also_logged_to_kiosk_log(tmp_path: Path) -> None:
    run_child(
        """
        from kiosk.crash import install_crash_handler
        from kiosk.logs import setup_logging
        setup_logging(DATA, stderr=False)
        install_crash_handler(DATA)
        raise KeyError("missing-field")
        """,
        tmp_path,
    )

    log_text = (tmp_path / "logs" / "kiosk.log").read_text(encoding="utf-8")
    assert "CRITICAL" in log_text
    assert "KeyError: 'missing-field'" in log_text


def test_exception_in_a_thread_is_written_to_crash_log(tmp_path: Path) -> None:
    result = run_child(
        """
        import threading
        from kiosk.crash import install_crash_handler
        install_crash_handler(DATA)
        def work():
            raise ValueError("bad frame from camera")
        t = threading.Thread(target=work, name="scanner")
        t.start()
        t.join()
        """,
        tmp_path,
    )

    assert result.returncode == 0
    crash_log = (tmp_path / "logs" / "crash.log").read_text(encoding="utf-8")
    assert "ValueError: bad frame from camera" in crash_log
    assert "thread scanner" in crash_log
    assert "bad frame from camera" in result.stderr


def test_crashes_are_appended_not_overwritten(tmp_path: Path) -> None:
    for word in ("first", "second"):
        run_child(
            f"""
            from kiosk.crash import install_crash_handler
            install_crash_handler(DATA)
            raise RuntimeError("{word} crash")
            """,
            tmp_path,
        )

    crash_log = (tmp_path / "logs" / "crash.log").read_text(encoding="utf-8")
    assert "first crash" in crash_log
    assert "second crash" in crash_log


def test_installing_twice_records_a_crash_once(tmp_path: Path) -> None:
    run_child(
        """
        from kiosk.crash import install_crash_handler
        install_crash_handler(DATA)
        install_crash_handler(DATA)
        raise RuntimeError("once")
        """,
        tmp_path,
    )

    crash_log = (tmp_path / "logs" / "crash.log").read_text(encoding="utf-8")
    assert crash_log.count("RuntimeError: once") == 1


def test_faulthandler_file_is_created(tmp_path: Path) -> None:
    result = run_child(
        """
        from kiosk.crash import install_crash_handler
        install_crash_handler(DATA)
        """,
        tmp_path,
    )

    assert result.returncode == 0
    assert (tmp_path / "logs" / "crash-faulthandler.log").exists()


@pytest.mark.skipif(os.name != "posix", reason="deliberate segfault is POSIX-only here")
def test_hard_crash_leaves_stacks_in_faulthandler_log(tmp_path: Path) -> None:
    result = run_child(
        """
        import faulthandler
        from kiosk.crash import install_crash_handler
        install_crash_handler(DATA)
        faulthandler._sigsegv()
        """,
        tmp_path,
    )

    assert result.returncode != 0
    text = (tmp_path / "logs" / "crash-faulthandler.log").read_text(encoding="utf-8")
    assert "Segmentation fault" in text
    assert not list(tmp_path.glob("core*"))
