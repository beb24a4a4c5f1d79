"""A terminal that submits and syncs in a loop until it is killed (for the crash test).

    python tests/e2e/crash_worker.py DATA_DIR ANSWERS.json SECONDS

Each round enqueues one submission through the real store (printing
``COMMITTED <submission_id> <receipt_no>`` only after the commit returned, as the kiosk
prints a receipt) and every third round runs one real sync cycle. The test kills it with
SIGKILL at a random moment; it stops by itself after SECONDS in any case.
"""

from __future__ import annotations

import base64
import json
import sys
import time
from pathlib import Path

from sync.engine import SyncOptions, client_for, run_once
from sync.store import database_path, open_store
from sync.submission import Attachment


def main() -> int:
    data_dir, answers_file, seconds = Path(sys.argv[1]), Path(sys.argv[2]), float(sys.argv[3])
    spec = json.loads(answers_file.read_text("utf-8"))
    files = [
        Attachment(base64.b64decode(f["content"]), f["mime"], f["name"]) for f in spec["files"]
    ]
    deadline = time.monotonic() + seconds
    store = open_store(database_path(data_dir))
    enrolment = store.require_enrolment()
    rounds = 0
    while time.monotonic() < deadline:
        result = store.enqueue(
            spec["service_id"], spec["form_version"], spec["answers"], attachments=files
        )
        sys.stdout.write(f"COMMITTED {result.submission_id} {result.receipt_no}\n")
        sys.stdout.flush()
        rounds += 1
        if rounds % 3 == 0:
            with client_for(enrolment, read_timeout=5.0) as client:
                run_once(store, client, options=SyncOptions(batch_size=2))
    store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
