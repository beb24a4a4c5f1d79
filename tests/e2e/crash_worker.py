"""A terminal that submits, syncs or updates its catalog until it is killed (crash tests).

    python tests/e2e/crash_worker.py DATA_DIR ANSWERS.json SECONDS [--mode MODE]
                                     [--marker-field FIELD] [--tag TAG] [--batch-size N]

What it does, by ``--mode`` (the real store, engine and catalog code, nothing simulated):

* ``loop`` (default): each round enqueues one submission and every third round runs one
  sync cycle (the mixed load of ``test_e2e_crash.py``).
* ``enqueue``: enqueues submissions back to back.
* ``sync``: runs sync cycles (batches of ``--batch-size``), queueing three submissions
  whenever the outbox is empty so there is always something in flight.
* ``catalog``: first drains the outbox, then runs one sync cycle that pulls, verifies and
  applies the platform's signed catalog into ``DATA_DIR/catalog`` and exits.

It reports on stdout, one flushed line each, so the killer knows where it was:

* ``READY`` once the store is open;
* ``PHASE enqueue|sync|catalog`` just before each step, ``DONE <phase> <seconds>`` after;
* ``COMMITTED <submission_id> <receipt_no> <sha256 of the sealed payload> <marker>`` only
  after the enqueue's commit returned, as the kiosk prints a receipt. With
  ``--marker-field``, that answer of each submission is set to a unique marker
  (``TAG-n``) so its content can be recognised on the platform after decryption.

The killer sends SIGKILL at a random moment; the worker stops by itself after SECONDS.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
import time
from pathlib import Path
from typing import Any

from sync.engine import SyncOptions, client_for, run_once
from sync.store import Store, database_path, open_store
from sync.submission import Attachment


def _say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class _Worker:
    def __init__(self, args: argparse.Namespace) -> None:
        spec = json.loads(Path(args.answers).read_text("utf-8"))
        self.spec = spec
        self.files = [
            Attachment(base64.b64decode(f["content"]), f["mime"], f["name"])
            for f in spec["files"]
        ]
        self.data_dir = Path(args.data_dir)
        self.marker_field: str | None = args.marker_field
        self.tag: str = args.tag
        self.batch_size: int = args.batch_size
        # Crashed workers' items are due at once in the focused modes (more in flight to kill).
        self.ignore_backoff = args.mode != "loop"
        self.store: Store = open_store(database_path(self.data_dir), min_free_mb=0)
        self.enrolment = self.store.require_enrolment()
        self.count = 0

    def enqueue(self) -> None:
        answers: dict[str, Any] = dict(self.spec["answers"])
        marker = "-"
        if self.marker_field:
            marker = f"{self.tag}-{self.count}"
            answers[self.marker_field] = marker
        self.count += 1
        started = time.monotonic()
        _say("PHASE enqueue")
        result = self.store.enqueue(
            self.spec["service_id"], self.spec["form_version"], answers, attachments=self.files
        )
        sealed = self.store.db.execute(
            "SELECT sealed_payload FROM submissions WHERE id = ?", (result.submission_id,)
        ).fetchone()[0]
        _say(f"COMMITTED {result.submission_id} {result.receipt_no} "
             f"{hashlib.sha256(sealed).hexdigest()} {marker}")
        _say(f"DONE enqueue {time.monotonic() - started:.4f}")

    def sync(self, *, catalog: bool = False) -> None:
        phase = "catalog" if catalog else "sync"
        options = SyncOptions(batch_size=self.batch_size, ignore_backoff=self.ignore_backoff)
        if catalog:
            # Imported only here: the other modes start as fast as before (the kill timing).
            from forms import load_catalog
            from kiosk.commands.sync import catalog_root

            options = SyncOptions(
                batch_size=self.batch_size,
                ignore_backoff=self.ignore_backoff,
                catalog_root=catalog_root(self.data_dir),
                validate_catalog=load_catalog,
                pull_status=False,
                sync_hall=False,
            )
        started = time.monotonic()
        _say(f"PHASE {phase}")
        with client_for(self.enrolment, read_timeout=5.0) as client:
            report = run_once(self.store, client, options=options)
        _say(f"DONE {phase} {time.monotonic() - started:.4f} {report.catalog} {report.pending}")

    def pending(self) -> int:
        counts = self.store.counts()
        return counts["pending"] + counts["sending"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir")
    parser.add_argument("answers")
    parser.add_argument("seconds", type=float)
    parser.add_argument("--mode", choices=("loop", "enqueue", "sync", "catalog"), default="loop")
    parser.add_argument("--marker-field", default=None)
    parser.add_argument("--tag", default="w")
    parser.add_argument("--batch-size", type=int, default=2)
    args = parser.parse_args()

    worker = _Worker(args)
    deadline = time.monotonic() + args.seconds
    _say("READY")
    rounds = 0
    if args.mode == "catalog":
        while worker.pending() and time.monotonic() < deadline:
            worker.sync()
        worker.sync(catalog=True)
    while args.mode != "catalog" and time.monotonic() < deadline:
        if args.mode == "sync":
            if worker.pending() == 0:
                for _ in range(3):
                    worker.enqueue()
            worker.sync()
            continue
        worker.enqueue()
        rounds += 1
        if args.mode == "loop" and rounds % 3 == 0:
            worker.sync()
    worker.store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
