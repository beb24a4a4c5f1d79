"""Benchmark: the kiosk's cold start and its memory over many citizen sessions.

    .venv/bin/python bench/bench_ui.py [--starts 5] [--sessions 1000] [--append docs/benchmarks.md]

Measured in the same run, offscreen (``QT_QPA_PLATFORM=offscreen``):

* **cold start to the first painted home screen**: ``kiosk run --windowed`` in a new
  process (config, store, catalog, theme, fonts, every screen) until the home screen's
  first paint, against a **baseline** of a bare PySide6 process that shows one empty
  QWidget and waits for its first paint. Both are timed from just before the process is
  started until the child writes its "painted" marker (interpreter start included).
* **memory over sessions**: one kiosk window drives N scripted sessions like a citizen
  (catalog, guide, ID card prefill, every form step with the example answers and a scanned
  page, review, submit, the receipt printed as a PDF, rating, back home), and the resident
  set size (RSS), the number of live QObjects under the window and of Python objects are
  sampled after 10 sessions (the baseline) and then every 100.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

BARE = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QEvent, QObject
    from PySide6.QtWidgets import QApplication, QWidget

    class Painted(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                open(sys.argv[1], "w").write("painted")
                QApplication.instance().quit()
            return False

    app = QApplication(sys.argv[:1])
    w = QWidget()
    w.resize(1920, 1080)
    f = Painted()
    w.installEventFilter(f)
    w.show()
    app.exec()
""")

KIOSK = textwrap.dedent("""
    import sys
    from PySide6.QtCore import QEvent, QObject, QTimer
    from PySide6.QtWidgets import QApplication
    import kiosk.ui.app as app_module

    marker = sys.argv[1]
    original = app_module.KioskWindow.go

    class Painted(QObject):
        def eventFilter(self, obj, event):
            if event.type() == QEvent.Type.Paint:
                open(marker, "w").write("painted")
                QTimer.singleShot(0, QApplication.instance().quit)
            return False

    painted = Painted()

    def go(self, name):
        original(self, name)
        if name == "home" and not getattr(self, "_bench_hooked", False):
            self._bench_hooked = True
            self.screens["home"].installEventFilter(painted)

    app_module.KioskWindow.go = go
    from kiosk.cli import main
    sys.exit(main(["--data-dir", sys.argv[2], "run", "--windowed"]))
""")


def time_start(script: str, *args: str) -> float:
    """Seconds from starting ``script`` in a new Python until it writes its marker file."""
    with tempfile.TemporaryDirectory() as tmp:
        marker = Path(tmp) / "painted"
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
        started = time.perf_counter()
        proc = subprocess.Popen([sys.executable, "-c", script, str(marker), *args], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        while not marker.exists():
            if proc.poll() is not None and not marker.exists():
                raise RuntimeError(f"the child exited with {proc.returncode} before painting")
            time.sleep(0.002)
        elapsed = time.perf_counter() - started
        proc.terminate()
        proc.wait(timeout=30)
        return elapsed


def cold_starts(count: int) -> tuple[list[float], list[float]]:
    """``count`` bare and ``count`` kiosk starts, interleaved (the first of each warms the disk cache)."""
    bare: list[float] = []
    kiosk: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        time_start(BARE)
        time_start(KIOSK, str(Path(tmp) / "warm"))
        for i in range(count):
            bare.append(time_start(BARE))
            kiosk.append(time_start(KIOSK, str(Path(tmp) / f"d{i}")))  # a fresh data folder: migrations included
    return bare, kiosk


def sessions(count: int) -> list[tuple[int, float, int, int]]:
    """Run ``count`` scripted sessions; (sessions done, RSS MB, QObjects under the window, Python objects)."""
    from bench.ui_driver import KioskRig
    from sync.enrolment import Enrolment
    from sync.sealing import generate_keypair
    from sync.store import database_path, open_store

    samples: list[tuple[int, float, int, int]] = []
    type_counts: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        _, public = generate_keypair()
        with open_store(database_path(data_dir)) as store:
            store.save_enrolment(Enrolment(
                device_id="00000000-0000-4000-8000-000000000001", device_code="B01", site_code="BENCH",
                token="bench", sealing_public_key=public, catalog_signing_key=bytes(32),
                central_url="http://127.0.0.1:9", enrolled_at=datetime.now(UTC)))
        rig = KioskRig(data_dir, demo=True)
        for n in range(1, count + 1):
            rig.session()
            if n in (10, 20, 50) or n % 100 == 0:
                if os.environ.get("BENCH_UI_TYPES"):  # which object types grow (investigating a leak)
                    gc.collect()
                    counts = Counter(type(o).__name__ for o in gc.get_objects())
                    if n > 10:
                        growth = sorted(((counts[k] - type_counts.get(k, 0), k) for k in counts), reverse=True)[:12]
                        print(f"  growth since the last sample: {growth}", file=sys.stderr)
                    type_counts = counts
                sample = rig.sample()
                samples.append((n, sample.rss_mb, sample.qobjects, sample.pyobjects))
                print(f"  {n:5d} sessions: RSS {sample.rss_mb:.1f} MB", file=sys.stderr)
        rig.close()
    return samples


def report(bare: list[float], kiosk: list[float], samples: list[tuple[int, float, int, int]], args: argparse.Namespace
           ) -> str:
    """The Markdown section for docs/benchmarks.md."""
    b, k = statistics.median(bare) * 1000, statistics.median(kiosk) * 1000
    base = samples[0]
    last = samples[-1]
    lines = [
        "## Kiosk UI: cold start and memory over sessions (`bench/bench_ui.py`)",
        "",
        f"Run on {datetime.now(UTC):%Y-%m-%d} ({platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, Qt offscreen) with:",
        "",
        "```",
        f".venv/bin/python bench/bench_ui.py --starts {args.starts} --sessions {args.sessions}",
        "```",
        "",
        "Cold start, from starting the process to the first paint (median of "
        f"{len(bare)} starts each, interleaved):",
        "",
        "| | median | min | max |",
        "|---|---|---|---|",
        f"| baseline: bare PySide6 window | {b:.0f} ms | {min(bare) * 1000:.0f} ms | {max(bare) * 1000:.0f} ms |",
        f"| `kiosk run --windowed`, fresh data folder, home screen | {k:.0f} ms | {min(kiosk) * 1000:.0f} ms | "
        f"{max(kiosk) * 1000:.0f} ms |",
        "",
        f"The kiosk costs {k - b:.0f} ms more than an empty Qt window ({k / b:.1f}x).",
        "",
        f"Memory over {last[0]} scripted sessions (each: catalog, guide, ID card, every form step with a scanned "
        "page, review, submit with the receipt printed to PDF, rating, wipe); the baseline is after 10 sessions:",
        "",
        "| sessions | RSS | vs. after 10 | QObjects under the window | Python objects |",
        "|---|---|---|---|---|",
    ]
    for n, rss, qobjects, pyobjects in samples:
        lines.append(f"| {n} | {rss:.1f} MB | {rss - base[1]:+.1f} MB | {qobjects} | {pyobjects} |")
    lines += ["", f"After {last[0]} sessions the kiosk holds {last[1] - base[1]:+.1f} MB of RSS, "
              f"{last[2] - base[2]:+d} QObjects and {last[3] - base[3]:+d} Python objects compared with after 10.", ""]
    return "\n".join(lines)


def main() -> int:
    """Run both measurements and print (or append) the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=5)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--append", type=Path, help="append the report to this Markdown file")
    args = parser.parse_args()
    if args.sessions < 10 or args.starts < 1:
        parser.error("--sessions must be at least 10 and --starts at least 1")
    print("cold starts...", file=sys.stderr)
    bare, kiosk = cold_starts(args.starts)
    print("sessions...", file=sys.stderr)
    samples = sessions(args.sessions)
    text = report(bare, kiosk, samples, args)
    sys.stdout.write(text + "\n")
    if args.append:
        with args.append.open("a", encoding="utf-8") as out:
            out.write("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
