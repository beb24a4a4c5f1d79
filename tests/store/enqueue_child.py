"""Child process for the crash test: enqueue submissions in a loop until killed.

Usage: python enqueue_child.py DB_PATH START_INDEX

After each commit it prints the receipt number and flushes, so the parent knows exactly
which submissions the store promised to keep. Not a test module (no ``test_`` prefix).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from sync.store import open_store
from sync.submission import Attachment


def main() -> None:
    path, start = Path(sys.argv[1]), int(sys.argv[2])
    store = open_store(path)
    out = sys.stdout
    for index in range(start, start + 1_000_000):
        scan = Attachment(os.urandom(4096) + str(index).encode(), "image/jpeg", f"scan-{index}.jpg")
        signature = Attachment(os.urandom(256), "image/png", "signature.png")
        answers = {
            "name": f"测试{index}",
            "id_number": "11010519491231002X",
            "mobile": "13800138000",
            "index": index,
            "residence_proof": [scan.ref()],
            "signature": signature.ref(),
        }
        result = store.enqueue(
            "residence-permit", "1.0.0", answers, attachments=[scan, signature]
        )
        out.write(f"{result.receipt_no} {result.submission_id}\n")
        out.flush()


if __name__ == "__main__":
    main()
