"""Soak: thousands of citizen sessions through the real kiosk UI while the platform and the printer fail.

    .venv/bin/python bench/soak.py --sessions 5000 [--sample-every 100] [--outage-every 500]
        [--outage-length 40] [--printer-every 300] [--printer-length 4] [--minutes M]
        [--report docs/soak-report.md] [--samples soak-samples.csv]

One kiosk process (this one): the real ``KioskWindow`` offscreen with its store, print queue
and its own background sync worker (``[central] sync_interval_seconds = 5``), enrolled at
the real central platform (``kiosk-central serve`` on 127.0.0.1, a separate process started
as demo mode starts it). Each session is a whole citizen visit (see ``bench/ui_driver.py``).

Faults, on a schedule of session numbers:

* **central outages**: every ``--outage-every`` sessions the platform process is killed
  (SIGKILL and SIGTERM alternately) and started again ``--outage-length`` sessions later on
  the same port; the kiosk keeps taking submissions meanwhile.
* **printer failures**: the receipt printer is the PDF-folder backend (the kiosk's default);
  every ``--printer-every`` sessions its folder is replaced by a plain file for
  ``--printer-length`` sessions (what a removed USB stick or a mount gone wrong looks like:
  ``mkdir`` fails), so receipts fail with the backend's real error, then the folder is back.

At the end the platform and printer are left healthy and the kiosk drains on its own (its
sync worker; its print retries), then every submission the kiosk committed is checked on
the platform: present exactly once, same id, same receipt number; and every receipt a
citizen was shown has a print job that printed exactly once or waits for staff. RSS, open
file descriptors, OS threads, live QObjects under the window and Python objects are sampled
every ``--sample-every`` sessions. ``--minutes`` stops starting sessions after that long (the
checks still run). The suite runs the same :func:`run_soak` at small scale.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform
import shutil
import signal
import socket
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench.ui_driver import KioskRig, Sample, SessionResult  # noqa: E402

log = logging.getLogger("soak")


@dataclass(frozen=True)
class Schedule:
    """When things fail, in session numbers (a session ``n`` runs with the state set before it)."""

    sessions: int
    outage_every: int = 500
    outage_length: int = 40
    printer_every: int = 300
    printer_length: int = 4
    sample_every: int = 100
    first_sample: int = 10

    def central_down(self, n: int) -> bool:
        """Whether the platform is down during session ``n``."""
        return self.outage_every > 0 and n > self.outage_every // 2 and \
            (n - self.outage_every // 2 - 1) % self.outage_every < self.outage_length

    def printer_broken(self, n: int) -> bool:
        """Whether the printer's folder is broken during session ``n``."""
        return self.printer_every > 0 and n > self.printer_every // 3 and \
            (n - self.printer_every // 3 - 1) % self.printer_every < self.printer_length

    def sample_at(self, n: int) -> bool:
        """Whether to sample after session ``n``."""
        return n == self.first_sample or (n % self.sample_every == 0) or n == self.sessions


@dataclass
class SoakResult:
    """What the soak saw and checked."""

    sessions: int = 0
    seconds: float = 0.0
    outages: int = 0
    printer_failures: int = 0
    samples: list[Sample] = field(default_factory=list)
    shown: list[SessionResult] = field(default_factory=list)
    committed: int = 0
    on_central: int = 0
    lost: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)
    duplicated: list[str] = field(default_factory=list)
    receipt_mismatch: list[str] = field(default_factory=list)
    outbox: dict[str, int] = field(default_factory=dict)
    drain_seconds: float = 0.0
    print_failed_at_once: int = 0
    printed_later: int = 0
    print_waiting_for_staff: int = 0
    receipts_without_job: list[str] = field(default_factory=list)
    receipts_printed_twice: list[str] = field(default_factory=list)
    pdf_files: int = 0
    threads_at_end: list[str] = field(default_factory=list)

    @property
    def exactly_once(self) -> bool:
        """Every committed submission on the platform exactly once, nothing else, receipts matching."""
        return (self.committed == self.on_central == len(self.shown) and not self.lost and not self.unexpected
                and not self.duplicated and not self.receipt_mismatch)


class Platform:
    """The central platform process for the soak: started, killed, started again on the same port."""

    def __init__(self, kiosk_dir: Path, config: object) -> None:
        from kiosk.ui.demo_central import DemoCentral

        self.central = DemoCentral(kiosk_dir, config)
        self.kills = 0
        self.up = False

    def start(self) -> str:
        """Start (or restart) the platform on the configured port; its URL.

        Raises:
            RuntimeError: the port was taken meanwhile (the terminal's enrolment names it).
        """
        url = self.central.start()
        wanted = str(self.central.config.central.url).rstrip("/")
        if url.rstrip("/") != wanted:
            self.central.stop()
            raise RuntimeError(f"the platform came up at {url}, not {wanted}: the port was taken")
        self.up = True
        return url

    def kill(self) -> None:
        """Take the platform down: SIGKILL and SIGTERM alternately."""
        proc = self.central._proc
        self.kills += 1
        if proc is not None:
            if self.kills % 2:
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
            self.central.stop()  # SIGTERM (when still running) and reap
        self.up = False

    def stop(self) -> None:
        """Stop it for good."""
        self.central.stop()
        self.up = False


class Printer:
    """Breaks and mends the PDF folder the kiosk prints receipts into."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.away = folder.with_name(folder.name + ".away")
        self.broken = False

    def break_(self) -> None:
        """The folder is gone and a plain file sits in its place: every print fails (mkdir fails)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        self.folder.rename(self.away)
        self.folder.write_text("not a folder\n", "utf-8")
        self.broken = True

    def mend(self) -> None:
        """The folder is back with everything printed before."""
        self.folder.unlink()
        self.away.rename(self.folder)
        self.broken = False


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_config(kiosk_dir: Path) -> Path:
    """The soak kiosk's config: the platform's own port, sync every 5 s, receipts as PDFs in ``<data>/receipts``.

    The platform is started on that port every time (as demo mode does with a loopback
    ``[central] url``), so the enrolment stays valid across restarts; never the default 8700,
    which a demo or another soak may hold.
    """
    kiosk_dir.mkdir(parents=True, exist_ok=True)
    path = kiosk_dir / "kiosk.toml"
    path.write_text(
        "[central]\n"
        f'url = "http://127.0.0.1:{free_port()}"\n'
        "sync_interval_seconds = 5\n"
        "[printing]\n"
        'backend = "pdf"\n'
        f'pdf_folder = "{(kiosk_dir / "receipts").as_posix()}"\n',
        "utf-8",
    )
    return path


def run_soak(
    root: Path,
    schedule: Schedule,
    *,
    minutes: float | None = None,
    drain_timeout: float = 900.0,
    on_sample: Callable[[Sample], None] | None = None,
    print_retry_delays: Sequence[timedelta] | None = None,
) -> SoakResult:
    """Run the soak in ``root`` (a fresh folder); the result with every check's findings.

    ``print_retry_delays`` shortens the print queue's pauses before retrying a failed receipt
    (the suite's small soak; the kiosk's own are 30 s, 2 min and 10 min).
    """
    from kiosk.config import load_config

    kiosk_dir = root / "kiosk"
    config_path = write_config(kiosk_dir)
    config = load_config(config_path)
    central = Platform(kiosk_dir, config)
    central.start()
    result = SoakResult()
    rig: KioskRig | None = None
    printer = Printer(kiosk_dir / "receipts")
    try:
        enrolment = central.central.enrol_terminal()
        rig = KioskRig(kiosk_dir, config_path=config_path, print_retry_delays=print_retry_delays)
        rig.start_sync_worker()
        stop_at = time.monotonic() + minutes * 60 if minutes else None
        started = time.perf_counter()
        for n in range(1, schedule.sessions + 1):
            if stop_at is not None and time.monotonic() > stop_at:
                log.warning("time is up after %d sessions", n - 1)
                break
            down = schedule.central_down(n)
            if down and central.up:
                central.kill()
                log.info("session %d: central platform down", n)
            elif not down and not central.up:
                central.start()
                log.info("session %d: central platform up again", n)
            broken = schedule.printer_broken(n)
            if broken and not printer.broken:
                printer.break_()
                result.printer_failures += 1
            elif not broken and printer.broken:
                printer.mend()
            shown = rig.session()
            result.shown.append(shown)
            if not shown.printed:
                result.print_failed_at_once += 1
            if schedule.sample_at(n):
                result.samples.append(rig.sample())
                if on_sample is not None:
                    on_sample(result.samples[-1])
        result.sessions = rig.done
        result.outages = central.kills
        result.seconds = time.perf_counter() - started
        if printer.broken:
            printer.mend()
        if not central.up:
            central.start()
        result.drain_seconds = drain(rig, drain_timeout)
        result.samples.append(rig.sample())
        check(result, rig, central.central.central_dir, enrolment.device_id, printer.folder)
    finally:
        if rig is not None:
            rig.close()
            from bench.ui_driver import python_threads

            result.threads_at_end = python_threads()
        central.stop()
    return result


def drain(rig: KioskRig, timeout: float) -> float:
    """Let the kiosk empty its outbox and retry its failed receipts on its own; seconds it took."""
    from printing.queue import FAILED

    started = time.monotonic()
    store = rig.backend.store()
    while time.monotonic() - started < timeout:
        counts = store.counts()
        with store.transaction() as db:
            retrying = db.execute(
                "SELECT COUNT(*) FROM print_jobs WHERE state = ? AND next_attempt_at IS NOT NULL", (FAILED,)
            ).fetchone()[0]
        if counts["pending"] + counts["sending"] == 0 and retrying == 0:
            break
        rig.sync_worker.wake()
        rig.turn(1.0)
    return time.monotonic() - started


def check(result: SoakResult, rig: KioskRig, central_dir: Path, device_id: str, receipts: Path) -> None:
    """Compare the kiosk's store, what citizens were shown, the platform's database and the printed receipts."""
    from bench.crash_consistency import central_submissions
    from printing.queue import FAILED, PRINTED, RECEIPT

    store = rig.backend.store()
    result.outbox = store.counts()
    with store.transaction() as db:
        kiosk = dict(db.execute("SELECT id, receipt_no FROM submissions").fetchall())
        job_rows = db.execute("SELECT ref, state FROM print_jobs WHERE kind = ?",
                              (RECEIPT,)).fetchall()
    result.committed = len(kiosk)
    rows = [(sid, receipt) for sid, receipt, _ in central_submissions(central_dir, device_id)]
    result.on_central = len(rows)
    central_ids = Counter(sid for sid, _ in rows)
    central_receipts = dict(rows)
    result.duplicated = sorted(sid for sid, count in central_ids.items() if count > 1)
    result.lost = sorted(set(kiosk) - set(central_ids))
    result.unexpected = sorted(set(central_ids) - set(kiosk))
    result.receipt_mismatch = sorted(sid for sid, receipt in kiosk.items()
                                     if sid in central_receipts and central_receipts[sid] != receipt)
    shown = {r.submission_id: r.receipt_no for r in result.shown}
    result.lost += sorted(sid for sid in shown if sid not in kiosk)  # shown on screen, never committed
    result.receipt_mismatch += sorted(sid for sid, receipt in shown.items() if kiosk.get(sid, receipt) != receipt)

    jobs: dict[str, list[str]] = {}
    for ref, state in job_rows:
        jobs.setdefault(ref, []).append(state)
    for receipt in shown.values():
        states = jobs.get(receipt, [])
        printed = sum(1 for state in states if state == PRINTED)
        if not states:
            result.receipts_without_job.append(receipt)
        elif printed > 1:
            result.receipts_printed_twice.append(receipt)
        elif printed == 0 and FAILED in states:
            result.print_waiting_for_staff += 1
    failed_first = {r.receipt_no for r in result.shown if not r.printed}
    result.printed_later = sum(1 for receipt in failed_first
                               if PRINTED in jobs.get(receipt, []))
    result.pdf_files = sum(1 for _ in receipts.rglob("receipt-*.pdf")) if receipts.is_dir() else 0


# --- the report ---------------------------------------------------------------------------------


def slope_kb_per_session(samples: list[Sample], skip_fraction: float = 0.2) -> float:
    """Least-squares slope of RSS over sessions, in KB per session, over the samples after the first 20%."""
    last = samples[-1].sessions
    points = [(s.sessions, s.rss_mb * 1000) for s in samples if s.sessions >= last * skip_fraction]
    if len(points) < 2:
        return 0.0
    mean_x = sum(x for x, _ in points) / len(points)
    mean_y = sum(y for _, y in points) / len(points)
    denominator = sum((x - mean_x) ** 2 for x, _ in points)
    if denominator == 0:
        return 0.0
    return sum((x - mean_x) * (y - mean_y) for x, y in points) / denominator


FLAT_KB_PER_SESSION = 5.0  # 5 KB/session = 5 MB over 1,000 sessions, about 1% of the kiosk's RSS


def report(result: SoakResult, schedule: Schedule, command: str) -> str:
    """The Markdown section for docs/reliability.md."""
    samples = result.samples
    slope = slope_kb_per_session(samples[:-1] or samples)
    first, last = samples[0], samples[-2] if len(samples) > 1 else samples[-1]
    lines = [
        f"Run on {datetime.now(UTC):%Y-%m-%d} ({platform.machine()}, {os.cpu_count()} CPUs shared with other "
        f"work, Python {platform.python_version()}, Qt offscreen) with:",
        "",
        "```",
        command,
        "```",
        "",
        f"{result.sessions} sessions in {result.seconds / 60:.1f} min "
        f"({result.seconds / max(1, result.sessions):.2f} s per session); the platform was taken down "
        f"{result.outages} times (SIGKILL and SIGTERM alternately, {schedule.outage_length} sessions each), the "
        f"printer's folder broken {result.printer_failures} times ({schedule.printer_length} sessions each). "
        f"Drain after the last session: {result.drain_seconds:.0f} s.",
        "",
        "| check | result |",
        "|---|---|",
        f"| submissions committed by the kiosk | {result.committed} |",
        f"| receipt numbers shown to citizens | {len(result.shown)} |",
        f"| on the central platform (this terminal) | {result.on_central} |",
        f"| lost (committed or shown, not on central) | {len(result.lost)} |",
        f"| duplicated on central | {len(result.duplicated)} |",
        f"| on central but never committed here | {len(result.unexpected)} |",
        f"| receipt number differs | {len(result.receipt_mismatch)} |",
        f"| outbox after the drain | {', '.join(f'{k} {v}' for k, v in result.outbox.items())} |",
        f"| receipts that failed to print at once | {result.print_failed_at_once} |",
        f"| ... printed later by the kiosk's automatic retry | {result.printed_later} |",
        f"| ... waiting for staff to reprint | {result.print_waiting_for_staff} |",
        f"| receipts without a print job | {len(result.receipts_without_job)} |",
        f"| receipts printed twice | {len(result.receipts_printed_twice)} |",
        f"| receipt PDFs in the folder | {result.pdf_files} |",
        "",
        "The kiosk process over the run (after a full garbage collection; the last row is after the drain):",
        "",
        "| sessions | minutes | RSS | vs. first | open fds | threads | QObjects under the window | Python objects |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in samples:
        lines.append(f"| {s.sessions} | {s.seconds / 60:.1f} | {s.rss_mb:.1f} MB | {s.rss_mb - first.rss_mb:+.1f} MB | "
                     f"{s.fds} | {s.threads} | {s.qobjects} | {s.pyobjects} |")
    flat = abs(slope) <= FLAT_KB_PER_SESSION
    lines += [
        "",
        f"RSS slope over the last 80% of sessions: **{slope:+.2f} KB/session** (least squares over the samples "
        f"from session {int(samples[-1].sessions * 0.2)} on); the criterion for flat is at most "
        f"{FLAT_KB_PER_SESSION:.0f} KB/session: **{'flat' if flat else 'not flat'}**. Open fds "
        f"{first.fds} -> {last.fds}, threads {first.threads} -> {last.threads}, QObjects under the window "
        f"{first.qobjects} -> {last.qobjects} (first sample after {first.sessions} sessions, last after "
        f"{last.sessions}).",
        "",
    ]
    return "\n".join(lines)


def main() -> int:
    """Run the soak and print (or write) the report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--sample-every", type=int, default=100)
    parser.add_argument("--outage-every", type=int, default=500)
    parser.add_argument("--outage-length", type=int, default=40)
    parser.add_argument("--printer-every", type=int, default=300)
    parser.add_argument("--printer-length", type=int, default=4)
    parser.add_argument("--minutes", type=float, help="stop starting sessions after this long")
    parser.add_argument("--drain-timeout", type=float, default=900.0)
    parser.add_argument("--report", type=Path, help="write the Markdown report here too")
    parser.add_argument("--samples", type=Path, help="append each sample to this CSV as it is taken")
    parser.add_argument("--keep", type=Path, help="run in this folder and keep it (default: a temporary one)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    log.setLevel(logging.INFO)
    schedule = Schedule(args.sessions, args.outage_every, args.outage_length, args.printer_every,
                        args.printer_length, args.sample_every)
    command = ".venv/bin/python bench/soak.py " + " ".join(sys.argv[1:])

    def on_sample(s: Sample) -> None:
        print(f"  {s.sessions:5d} sessions {s.seconds / 60:6.1f} min: RSS {s.rss_mb:.1f} MB, fds {s.fds}, "
              f"threads {s.threads}, QObjects {s.qobjects}, Python objects {s.pyobjects}", file=sys.stderr,
              flush=True)
        if args.samples:
            new = not args.samples.exists()
            with args.samples.open("a", encoding="utf-8") as out:
                if new:
                    out.write("sessions,seconds,rss_mb,fds,threads,qobjects,pyobjects\n")
                out.write(f"{s.sessions},{s.seconds:.1f},{s.rss_mb:.2f},{s.fds},{s.threads},{s.qobjects},"
                          f"{s.pyobjects}\n")

    if args.keep:
        if args.keep.exists():
            shutil.rmtree(args.keep)
        args.keep.mkdir(parents=True)
        result = run_soak(args.keep, schedule, minutes=args.minutes, drain_timeout=args.drain_timeout,
                          on_sample=on_sample)
    else:
        import tempfile

        with tempfile.TemporaryDirectory(prefix="tongban-soak-") as tmp:
            result = run_soak(Path(tmp), schedule, minutes=args.minutes, drain_timeout=args.drain_timeout,
                              on_sample=on_sample)
    text = report(result, schedule, command)
    sys.stdout.write(text + "\n")
    if args.report:
        args.report.write_text(text + "\n", "utf-8")
    return 0 if result.exactly_once and not result.receipts_without_job else 1


if __name__ == "__main__":
    sys.exit(main())
