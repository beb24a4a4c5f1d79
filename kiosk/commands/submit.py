"""``kiosk submit``: submit a form from a JSON file, or a service's example, as the UI would.

The answers are checked by the forms engine exactly as the kiosk's wizard checks them
(:func:`forms.validate_answers`, then :func:`forms.build_payload`), then committed with
:meth:`sync.store.Store.enqueue`: sealed, queued and given a receipt number in one
transaction. The receipt number is printed only after that commit.

Attachments in ``--data``: an answer for an attachment or signature field refers to a file
by ``{"path": "scan.jpg"}`` (relative to the JSON file; ``mime`` is guessed from the
extension when missing and ``name`` defaults to the file name). The command reads the file
and fills in ``sha256`` and ``size``; if they are given they must match the file.

``--example`` submits the definition's example answers as a *test* submission
(``is_test``). Examples name files that do not exist, so each example reference is
replaced by a small, real placeholder file of the same type (a valid JPEG, PNG or PDF
carrying a note that it is a placeholder) whose hash and size then go into the answers.
The placeholders are sealed, uploaded and verified like real scans, so a smoke test
exercises the whole attachment path end to end.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import struct
import sys
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from forms import ServiceDefinition, build_payload, example_answers, validate_answers
from kiosk.catalog_source import active_catalog_dir as _catalog_dir
from kiosk.cli import CliContext, CommandError, print_json
from kiosk.commands.catalog import find, load
from kiosk.commands.queue import open_terminal_store
from sync.enrolment import NotEnrolled
from sync.outbox import AttachmentMismatch
from sync.store import StoreError
from sync.submission import Attachment, is_attachment_ref


def register(sub: Any) -> None:
    """Add ``submit``."""
    p = sub.add_parser(
        "submit",
        help="validate answers like the kiosk does, then queue them with a receipt number",
    )
    p.add_argument("--service", required=True, metavar="ID", help="service id (kiosk catalog list)")
    source = p.add_mutually_exclusive_group(required=True)
    source.add_argument(
        "--data",
        metavar="FILE.json",
        type=Path,
        help='answers as JSON ({"field": value, ...}); attachments as {"path": "scan.jpg"}',
    )
    source.add_argument(
        "--example",
        action="store_true",
        help="submit the service's example answers as a test submission",
    )
    p.add_argument(
        "--json",
        action="store_true",
        help='print {"submission_id", "receipt_no", "service_id"} (or {"errors": [...]})',
    )
    p.set_defaults(handler=submit)


def active_catalog_dir(ctx: CliContext) -> Path:
    """The catalog folder submissions are validated against: the same one the UI uses.

    The signed catalog pulled from central wins, then ``[catalog] path`` from the config,
    then the catalog bundled with the software (see :mod:`kiosk.catalog_source`).
    """
    return _catalog_dir(ctx.data_dir, ctx.config)


def submit(args: argparse.Namespace, ctx: CliContext) -> int:
    """``kiosk submit --service ID (--data FILE.json | --example) [--json]``."""
    definition = find(load(ctx), args.service)
    if args.example:
        answers, files = _example_with_placeholders(definition)
    else:
        answers, files = _answers_from_file(args.data)

    problems = validate_answers(definition, answers)
    if problems:
        lang = ctx.config.terminal.language
        if args.json:
            print_json(
                {
                    "errors": [
                        {"field_id": p.field_id, "code": p.code, "message": p.text(lang)}
                        for p in problems
                    ]
                }
            )
            return 1
        listing = "\n".join(f"  {p.field_id or '(answers)'}: {p.text(lang)} [{p.code}]" for p in problems)
        raise CommandError(f"the answers for {definition.id} are not valid:\n{listing}", 1)
    payload = build_payload(definition, answers)

    with open_terminal_store(ctx) as store:
        try:
            result = store.enqueue(
                definition.id,
                definition.version,
                payload,
                attachments=files,
                is_test=bool(args.example),
                service_name={"zh_CN": definition.name.zh_CN, "en": definition.name.en},
                actor="cli",
            )
        except NotEnrolled as exc:
            raise CommandError(str(exc), 2) from exc
        except AttachmentMismatch as exc:
            raise CommandError(f"attachments do not match the answers: {exc}") from exc
        except StoreError as exc:
            raise CommandError(str(exc), 2) from exc

    if args.json:
        print_json(
            {
                "submission_id": result.submission_id,
                "receipt_no": result.receipt_no,
                "service_id": result.service_id,
                "is_test": result.is_test,
            }
        )
    else:
        sys.stdout.write(f"{result.receipt_no}\n")
    return 0


# --- answers from a file --------------------------------------------------------------------


def _answers_from_file(path: Path) -> tuple[dict[str, Any], list[Attachment]]:
    """Read answers (``{...}`` or ``{"answers": {...}}``) and the files they refer to."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError(f"cannot read {path}: {exc.strerror or exc}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CommandError(f"{path} is not UTF-8 JSON: {exc}") from exc
    if isinstance(data, dict) and set(data) == {"answers"} and isinstance(data["answers"], dict):
        data = data["answers"]
    if not isinstance(data, dict):
        raise CommandError(f"{path} must hold a JSON object of answers (field id -> value)")
    files: list[Attachment] = []
    answers: dict[str, Any] = {}
    for field_id, value in data.items():
        if isinstance(value, list):
            answers[field_id] = [
                _file_ref(path.parent, field_id, v, files) if isinstance(v, Mapping) else v
                for v in value
            ]
        elif isinstance(value, Mapping) and ("path" in value or is_attachment_ref(value)):
            answers[field_id] = _file_ref(path.parent, field_id, value, files)
        else:
            answers[field_id] = value
    return answers, files


def _file_ref(
    base: Path, field_id: str, ref: Mapping[str, Any], files: list[Attachment]
) -> dict[str, Any] | Mapping[str, Any]:
    if "path" not in ref:
        if is_attachment_ref(ref):
            raise CommandError(
                f"answer {field_id!r} refers to attachment {ref.get('sha256')} without a file; "
                'add "path": "FILE" (relative to the JSON file) so it can be sealed and sent'
            )
        return ref  # some other object (an address): the forms engine judges it
    file_path = base / str(ref["path"])
    try:
        content = file_path.read_bytes()
    except OSError as exc:
        raise CommandError(
            f"answer {field_id!r}: cannot read attachment {file_path}: {exc.strerror or exc}"
        ) from exc
    mime = ref.get("mime") or mimetypes.guess_type(file_path.name)[0] or "application/octet-stream"
    attachment = Attachment(content, str(mime), str(ref.get("name") or file_path.name))
    for key in ("sha256", "size"):
        if key in ref and ref[key] != getattr(attachment, key):
            raise CommandError(
                f"answer {field_id!r}: {key} {ref[key]!r} does not match the file {file_path}"
            )
    files.append(attachment)
    return attachment.ref()


# --- example answers with real placeholder files ----------------------------------------------


def _example_with_placeholders(
    definition: ServiceDefinition,
) -> tuple[dict[str, Any], list[Attachment]]:
    """The example answers, each attachment reference replaced by a real placeholder file."""
    answers = example_answers(definition)
    files: list[Attachment] = []
    for field_id, value in list(answers.items()):
        if is_attachment_ref(value):
            answers[field_id] = _placeholder_ref(definition.id, field_id, 1, value, files)
        elif isinstance(value, list) and value and all(is_attachment_ref(v) for v in value):
            answers[field_id] = [
                _placeholder_ref(definition.id, field_id, n, v, files)
                for n, v in enumerate(value, start=1)
            ]
    return answers, files


def _placeholder_ref(
    service_id: str, field_id: str, number: int, ref: Mapping[str, Any], files: list[Attachment]
) -> dict[str, Any]:
    label = f"Tongban example placeholder: {service_id} {field_id} #{number}"
    mime = str(ref["mime"])
    attachment = Attachment(placeholder_file(mime, label), mime, str(ref.get("name") or ""))
    files.append(attachment)
    return attachment.ref()


def placeholder_file(mime: str, label: str) -> bytes:
    """A tiny valid file of type ``mime`` whose bytes carry ``label`` (ASCII).

    JPEG, PNG and PDF are real, viewable files; any other type gets the label as text.
    """
    text = label.encode("ascii", "replace")
    if mime == "image/png":
        return _png(text)
    if mime == "image/jpeg":
        # A white 8x8 baseline JPEG with the label as a comment (COM) segment after SOI.
        return _JPEG[:2] + b"\xff\xfe" + struct.pack(">H", len(text) + 2) + text + _JPEG[2:]
    if mime == "application/pdf":
        return _pdf(text)
    return text + b"\n"


def _png(text: bytes) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)  # 1x1, 8-bit grey
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", b"Comment\x00" + text)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff"))
        + chunk(b"IEND", b"")
    )


def _pdf(text: bytes) -> bytes:
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%" + text + b"\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010101006400640000ffdb004300100b0c0e0c0a100e0d0e1211101318281a18"
    "1616183123251d283a333d3c3933383740485c4e404457453738506d51575f626768673e4d71797064785c"
    "656763ffdb0043011112121815182f1a1a2f63423842636363636363636363636363636363636363636363"
    "6363636363636363636363636363636363636363636363636363636363ffc0001108000800080301220002"
    "1101031101ffc4001f0000010501010101010100000000000000000102030405060708090a0bffc400b510"
    "0002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1"
    "c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a5354555657"
    "58595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8"
    "a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4"
    "f5f6f7f8f9faffc4001f0100030101010101010101010000000000000102030405060708090a0bffc400b5"
    "1100020102040403040705040400010277000102031104052131061241510761711322328108144291a1b1"
    "c109233352f0156272d10a162434e125f11718191a262728292a35363738393a434445464748494a535455"
    "565758595a636465666768696a737475767778797a82838485868788898a92939495969798999aa2a3a4a5"
    "a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3"
    "f4f5f6f7f8f9faffda000c03010002110311003f00f40a28a2803fffd9"
)
