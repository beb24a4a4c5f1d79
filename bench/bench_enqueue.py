"""Benchmark: commit a submission durably (``Store.enqueue``), FULL vs NORMAL sync.

    .venv/bin/python bench/bench_enqueue.py [--count 2000] [--warmup 50]

Each enqueue is one transaction that seals the payload and each attachment, writes the
submission, its attachments, its outbox row and an audit entry, and allocates a receipt
number: exactly what the kiosk does when a citizen presses "submit". It is measured with
the store's own setting, ``PRAGMA synchronous = FULL`` (an fsync of the WAL on every
commit: what survives a power cut), against ``NORMAL`` (the WAL is synced only at
checkpoints) as the baseline, in the same run, on the same disk (the system temp folder
unless ``--dir`` says otherwise). Reported: commits per second, p50 / p99 / max latency.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey  # noqa: E402
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat  # noqa: E402

from catalog import DEFAULT_CATALOG_DIR  # noqa: E402
from forms import load_catalog  # noqa: E402
from forms.payload import build_payload, example_answers  # noqa: E402
from sync.enrolment import Enrolment  # noqa: E402
from sync.sealing import generate_keypair  # noqa: E402
from sync.store import Store, open_store  # noqa: E402
from sync.submission import Attachment, is_attachment_ref  # noqa: E402

SERVICE_ID = "residence-permit"


def example(attachment_bytes: int) -> tuple[str, dict[str, Any], list[Attachment]]:
    """The reference service's example answers with real attachments of the given size."""
    definition = load_catalog(DEFAULT_CATALOG_DIR).get(SERVICE_ID)
    answers = example_answers(definition)
    files: list[Attachment] = []

    def real_file(key: str, ref: dict[str, Any]) -> dict[str, Any]:
        seed = hashlib.sha256(f"{key}/{len(files)}".encode()).digest()
        content = (seed * (attachment_bytes // 32 + 1))[:attachment_bytes]
        attachment = Attachment(content, str(ref["mime"]), str(ref.get("name") or ""))
        files.append(attachment)
        return attachment.ref()

    for key, value in list(answers.items()):
        if is_attachment_ref(value):
            answers[key] = real_file(key, value)
        elif isinstance(value, list) and value and all(is_attachment_ref(v) for v in value):
            answers[key] = [real_file(key, v) for v in value]
    return definition.version, build_payload(definition, answers), files


def enrolled_store(path: Path, synchronous: str) -> Store:
    store = open_store(path)
    signing = Ed25519PrivateKey.generate().public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw
    )
    store.save_enrolment(Enrolment(
        device_id="bench", device_code="B01", site_code="BN01", token="bench",
        sealing_public_key=generate_keypair()[1], catalog_signing_key=signing,
        central_url="http://127.0.0.1:1", enrolled_at=datetime.now(UTC),
    ))
    store.db.execute(f"PRAGMA synchronous = {synchronous}")
    return store


def measure(folder: Path, synchronous: str, count: int, warmup: int,
            version: str, answers: dict[str, Any], files: list[Attachment]) -> dict[str, float]:
    store = enrolled_store(folder / f"{synchronous.lower()}.db", synchronous)
    try:
        for _ in range(warmup):
            store.enqueue(SERVICE_ID, version, answers, attachments=files)
        latencies = []
        started = time.perf_counter()
        for _ in range(count):
            t0 = time.perf_counter()
            store.enqueue(SERVICE_ID, version, answers, attachments=files)
            latencies.append(time.perf_counter() - t0)
        elapsed = time.perf_counter() - started
        mode = store.db.execute("PRAGMA synchronous").fetchone()[0]
        assert mode == {"FULL": 2, "NORMAL": 1}[synchronous], mode
    finally:
        store.close()
    latencies.sort()
    return {
        "rate": count / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "max": latencies[-1] * 1000,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--attachment-bytes", type=int, default=20_000,
                        help="size of each attachment (default 20 KB; a phone-camera scan is 100-500 KB)")
    parser.add_argument("--dir", type=Path, default=None, help="folder for the databases")
    args = parser.parse_args()

    version, answers, files = example(args.attachment_bytes)
    with tempfile.TemporaryDirectory(prefix="tongban-enqueue-", dir=args.dir) as tmp:
        folder = Path(tmp)
        normal = measure(folder, "NORMAL", args.count, args.warmup, version, answers, files)
        full = measure(folder, "FULL", args.count, args.warmup, version, answers, files)

    print(f"# enqueue benchmark ({platform.python_implementation()} "
          f"{platform.python_version()}, {os.cpu_count()} CPUs, {platform.system()}; "
          f"{args.count} submissions, {len(files)} attachments of {args.attachment_bytes} "
          f"bytes each, databases in {args.dir or tempfile.gettempdir()})")
    for name, result in (("NORMAL (baseline)", normal), ("FULL (the store)", full)):
        print(f"{name:<18} {result['rate']:8.1f} commits/s   p50 {result['p50']:6.2f} ms   "
              f"p99 {result['p99']:6.2f} ms   max {result['max']:7.2f} ms")
    print(f"FULL/NORMAL: {full['rate'] / normal['rate']:.2f}x the commit rate, "
          f"p99 {full['p99'] / normal['p99']:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
