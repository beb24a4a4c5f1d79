"""QR codes for receipts and tickets, as a matrix of dark modules.

Always a full QR code (``segno.make_qr``), never Micro QR, which ``segno.make`` picks for
short text and which common scanners (pyzbar, OpenCV) cannot read. Error correction M,
raised by segno when the version has room; a 4-module quiet zone is part of the matrix.
"""

from __future__ import annotations

from functools import lru_cache

import segno

QUIET_ZONE = 4


@lru_cache(maxsize=32)
def qr_matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    """Rows of modules (``True`` = dark) for ``data``, quiet zone included."""
    code = segno.make_qr(data, error="m")
    return tuple(tuple(bool(v) for v in row) for row in code.matrix_iter(scale=1, border=QUIET_ZONE))


def dark_runs(row: tuple[bool, ...]) -> list[tuple[int, int]]:
    """``(start, length)`` of each run of dark modules in a row (fewer, larger rectangles)."""
    runs: list[tuple[int, int]] = []
    start = None
    for i, dark in enumerate((*row, False)):
        if dark and start is None:
            start = i
        elif not dark and start is not None:
            runs.append((start, i - start))
            start = None
    return runs
