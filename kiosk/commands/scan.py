"""``kiosk scan IMAGE...``: decode barcodes in image files and say what each one is.

For each file: every code found, with its format, its text and its classification
(receipt, appointment, id_number, mrz, enrolment, url, unknown). ``--json`` prints one
array of ``{"file", "format", "text", "kind"}`` objects, one per code; a file that could
not be read or holds no code adds ``{"file", "error"}`` instead. The exit status is 1 when
any file failed, 0 otherwise. A technician uses it to check a printed receipt, a phone's
appointment code or a camera snapshot, and to compare the two decoders.

Appointment tokens are recognised but not verified here (that needs the platform's key).
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import Any

from devices.decoder import DECODERS, DEFAULT_DECODER, Decoder, DecoderError, make_decoder
from devices.scan import ScanResult, ScanSource
from kiosk.cli import CliContext, CommandError, print_json

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    """Add ``scan``."""
    parser = sub.add_parser("scan", help="decode barcodes in image files and classify them")
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="image files (PNG, JPEG, BMP, ...)")
    parser.add_argument(
        "--decoder", choices=DECODERS, default=DEFAULT_DECODER, help=f"barcode decoder (default: {DEFAULT_DECODER})"
    )
    parser.add_argument("--json", action="store_true", help="print a JSON array of {file, format, text, kind}")
    parser.set_defaults(handler=scan)


class _ImageError(Exception):
    """A file that cannot be read as an image."""


def _load(path: Path) -> Any:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except FileNotFoundError as exc:
        raise _ImageError("no such file") from exc
    except IsADirectoryError as exc:
        raise _ImageError("is a folder, not an image") from exc
    except PermissionError as exc:
        raise _ImageError("permission denied") from exc
    except UnidentifiedImageError as exc:
        raise _ImageError("not an image file this program can read") from exc
    except Image.DecompressionBombError as exc:
        raise _ImageError("the image is too large to decode safely") from exc
    except (OSError, ValueError, SyntaxError) as exc:  # truncated or corrupt image data
        raise _ImageError(f"the image is damaged ({exc})") from exc


def _decode_file(decoder: Decoder, path: Path) -> list[ScanResult]:
    results = decoder.decode(_load(path), source=ScanSource.IMAGE)
    if not results:
        raise _ImageError("no code found")
    return results


def _printable(text: str) -> str:
    """``text`` on one line: control characters shown as escapes, Chinese left readable."""
    return "".join(c if c.isprintable() else f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}" for c in text)


def scan(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk scan IMAGE... [--decoder zxing|zbar] [--json]``."""
    try:
        decoder = make_decoder(args.decoder)
    except DecoderError as exc:
        raise CommandError(str(exc), 2) from exc
    rows: list[dict[str, str]] = []
    failed = 0
    for name in args.images:
        try:
            results = _decode_file(decoder, Path(name))
        except _ImageError as exc:
            failed += 1
            log.info("kiosk scan: %s: %s", name, exc)
            if args.json:
                rows.append({"file": name, "error": str(exc)})
            else:
                sys.stderr.write(f"kiosk: {name}: {exc}\n")
            continue
        for result in results:
            if args.json:
                rows.append({"file": name, **result.as_json()})
            else:
                problem = f" ({result.payload.problem})" if result.payload.problem else ""
                line = f"{name}: {result.format.value} {result.kind.value}{problem}: {_printable(result.text)}\n"
                sys.stdout.write(line)
    if args.json:
        print_json(rows)
    return 1 if failed else 0
