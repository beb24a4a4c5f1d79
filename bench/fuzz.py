"""Bad input at scale: every fuzz target, and schemathesis against the central API.

    .venv/bin/python bench/fuzz.py [--examples 100000] [--targets MRZ,wedge]
                                   [--atheris-runs 200000] [--api-examples 500]
                                   [--seed N] [--report docs/fuzz-report.md]

For each target of ``tests/support/fuzz_targets.py`` (scan payloads, receipt numbers,
appointment tokens, enrolment QR codes, MRZ, the ID card reader's answers, the keyboard
wedge, form definitions, catalog folders and signed catalog bundles) hypothesis feeds
``--examples`` inputs (divided by the target's cost: the disk-bound ones are slower),
built by breaking valid inputs one piece at a time. Every input must end in a result or
the module's own error with a clear message, within the target's deadline. Failures are
counted, not stopped at: the table says how many *distinct* failures (exception type and
the line it came from) each target met.

With ``--atheris-runs`` (also divided by the cost) the text and byte targets also run under
atheris (coverage-guided, libFuzzer), each in its own process with our packages instrumented. ``--api-examples``
runs schemathesis over every operation of the central platform's OpenAPI (in-process
ASGI, enrolled device token), positive and negative requests.

The report (markdown) goes to stdout and, with ``--report``, to a file. The suite runs the
same targets with a hundred or so inputs each (``tests/test_fuzz.py``,
``tests/central/test_api_fuzz.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def _atheris_child(index: int, runs: int, out: Path) -> None:
    """Run one target under atheris; write what it tried and found to ``out``."""
    import atheris

    with atheris.instrument_imports(include=["devices", "forms", "sync"]):
        from tests.support.fuzz_targets import TARGETS, TargetReport, record

    target = TARGETS[index]
    assert target.from_bytes is not None
    report = TargetReport(target.name)
    convert = target.from_bytes
    started = time.perf_counter()

    def save() -> None:
        report.seconds = time.perf_counter() - started
        data = {
            "tried": report.tried,
            "seconds": report.seconds,
            "slowest": report.slowest,
            "failures": dict(report.failures),
            "examples": report.examples,
        }
        out.write_text(json.dumps(data), "utf-8")

    def one_input(data: bytes) -> None:
        known = len(report.failures)
        record(report, target.check, convert(data), target.deadline)
        if len(report.failures) != known or report.tried % 500 == 0:
            save()

    atheris.Setup([sys.argv[0], f"-runs={runs}", "-max_len=4096", "-rss_limit_mb=2048"], one_input)
    atheris.Fuzz()


def run_atheris(index: int, runs: int) -> dict[str, Any]:
    """One target under atheris in a child process; its report."""
    with tempfile.TemporaryDirectory(prefix="fuzz-atheris-") as folder:
        out = Path(folder) / "report.json"
        started = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, __file__, "--atheris-child", str(index), "--atheris-runs", str(runs), "--out", str(out)],
            cwd=REPO,
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        elapsed = time.perf_counter() - started
        data: dict[str, Any] = json.loads(out.read_text("utf-8")) if out.exists() else {}
    done = re.search(r"Done (\d+) runs", proc.stderr)
    data.setdefault("failures", {})
    data.setdefault("examples", {})
    data["tried"] = int(done.group(1)) if done else data.get("tried", 0)
    data["seconds"] = elapsed
    if proc.returncode != 0:  # the process itself died: a crash no Python handler saw
        key = f"process exited with {proc.returncode}"
        data["failures"][key] = 1
        data["examples"][key] = proc.stderr[-400:]
    return data


def _api(examples: int, seed: int | None) -> Any:
    from fastapi.testclient import TestClient

    from central.app import create_app
    from central.enrolment import issue_code
    from tests.support.api_fuzz import fuzz_api

    with tempfile.TemporaryDirectory(prefix="fuzz-central-") as folder:
        app = create_app(Path(folder) / "central")
        with TestClient(app) as client:
            code = issue_code(app.state.platform.store, "SZ01").code
            token = client.post("/v1/enrol", json={"code": code, "device_name": "fuzz"}).json()["token"]
        return fuzz_api(app, token, examples=examples, seed=seed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=100_000, help="hypothesis inputs per target (0: none)")
    parser.add_argument("--targets", default="", help="comma-separated parts of target names (default: all)")
    parser.add_argument("--atheris-runs", type=int, default=0, help="atheris runs per text/byte target (0: none)")
    parser.add_argument("--api-examples", type=int, default=0, help="schemathesis examples per operation and mode")
    parser.add_argument("--seed", type=int, default=None, help="the same seed gives the same hypothesis inputs")
    parser.add_argument("--report", type=Path, default=None, help="also write the markdown report here")
    parser.add_argument("--atheris-child", type=int, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.atheris_child is not None:
        _atheris_child(args.atheris_child, args.atheris_runs, args.out)
        return 0

    import logging

    logging.disable(logging.WARNING)  # the platform logs every refused audit chain; the table says enough
    from tests.support.fuzz_targets import TARGETS, run_target

    wanted = [w.strip().lower() for w in args.targets.split(",") if w.strip()]
    targets = [(i, t) for i, t in enumerate(TARGETS) if not wanted or any(w in t.name.lower() for w in wanted)]
    lines = [
        f"# fuzz run {datetime.now(UTC):%Y-%m-%d %H:%M} UTC ({platform.python_implementation()} "
        f"{platform.python_version()}, {os.cpu_count()} cores, {platform.machine()})",
        "",
        f"command: `{' '.join(['bench/fuzz.py', *sys.argv[1:]])}`",
        "",
        "| target | engine | inputs tried | distinct failures | time (s) | slowest input (CPU ms) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    details: list[str] = []
    print("\n".join(lines), flush=True)

    def row(name: str, engine: str, tried: int, failures: dict[str, int], seconds: float, slowest: float) -> None:
        line = f"| {name} | {engine} | {tried:,} | {len(failures)} | {seconds:.0f} | {slowest * 1000:.1f} |"
        lines.append(line)
        print(line, flush=True)

    for index, target in targets:
        if args.examples > 0:
            report = run_target(target, max(1, args.examples // target.cost), seed=args.seed)
            row(target.name, "hypothesis", report.tried, report.failures, report.seconds, report.slowest)
            found = report.failures.items()
            details += [f"- {target.name} (hypothesis): {k} x{n}: {report.examples[k]}" for k, n in found]
        if args.atheris_runs > 0 and target.from_bytes is not None:
            data = run_atheris(index, max(1, args.atheris_runs // target.cost))
            row(target.name, "atheris", data["tried"], data["failures"], data["seconds"], data.get("slowest", 0.0))
            found = data["failures"].items()
            details += [f"- {target.name} (atheris): {k} x{n}: {data['examples'].get(k, '')}" for k, n in found]

    if args.api_examples > 0:
        api = _api(args.api_examples, args.seed)
        lines += [
            "",
            "| central API (schemathesis) | operations | requests sent | distinct failures | time (s) |",
            "|---|---:|---:|---:|---:|",
            f"| positive + negative, {args.api_examples} examples each | {api.operations} | {api.requests:,} | "
            f"{len(api.failures)} | {api.seconds:.0f} |",
        ]
        print("\n".join(lines[-4:]), flush=True)
        details += [f"- API: {key} x{n}: {api.examples[key][:300]!r}" for key, n in api.failures.items()]

    tail = ["", "Failures:" if details else "No failures.", *details]
    print("\n".join(tail))
    if args.report:
        args.report.write_text("\n".join(lines + tail) + "\n", "utf-8")
    return 1 if details else 0


if __name__ == "__main__":
    sys.exit(main())
