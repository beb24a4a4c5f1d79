"""Fuzz targets for everything that reads untrusted input on a terminal, and a runner.

A target is a hypothesis strategy and a ``check`` that feeds one input to the real parser.
The rule every check enforces:

- no crash: the parser returns, or raises only its module's documented error type;
  anything else (KeyError, IndexError, UnicodeError, RecursionError, TypeError...) escapes
  the check and is a failure;
- no hang: the runner times every input (CPU time); one slower than the deadline is a failure;
- clear errors: an error's message is a sentence that says what was wrong, not empty and
  not just a repr.

The strategies start from real, valid inputs (a signed appointment token, a receipt number,
an ICAO specimen MRZ, the simulator's card answer, the bundled catalog's definitions, a
signed catalog bundle) and break one thing at a time, so they reach the checks deep inside
a parser, not only its first "is this the right shape" test; plain random input is mixed
in too.

``tests/test_fuzz.py`` runs every target with a few hundred inputs; ``bench/fuzz.py`` runs
them at scale (hypothesis, and atheris where it is installed).
"""

from __future__ import annotations

import base64
import copy
import datetime as dt
import json
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from catalog import DEFAULT_CATALOG_DIR
from devices.appointment import Appointment, AppointmentTokenError, sign_appointment_token, verify_appointment_token
from devices.enrolment_qr import EnrolmentCode, EnrolmentQrError, make_enrolment_qr, parse_enrolment_qr
from devices.idcard import (
    PHOTO_LENGTH,
    SW_OK,
    TEXT_LENGTH,
    IdCardError,
    IdCardReader,
    build_frame,
    decode_identity,
    encode_identity,
)
from devices.idcard_simulator import demo_identity
from devices.mrz import MrzError, check_digit, parse_mrz
from devices.payload import MAX_PAYLOAD_BYTES, Payload, PayloadKind, classify
from devices.scan import ScanResult
from devices.wedge import TypedKeys, WedgeDetector
from forms import DefinitionInvalid, load_catalog
from forms.idnumber import is_valid_id_number
from forms.loader import check_definition
from sync.catalog_update import CatalogRejected, apply_bundle, verify_bundle
from sync.protocol import CatalogBundle, b64encode, canonical_json, catalog_content_version
from sync.receipt import InvalidReceiptNumber, ReceiptNumber

TODAY = dt.date(2026, 11, 23)
NOW = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC).timestamp()
DEADLINE = 1.0  # seconds one input may take; a parser needs microseconds to milliseconds

# --- the valid inputs the strategies start from ------------------------------------------

APPOINTMENT_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
APPOINTMENT_PUBLIC = APPOINTMENT_KEY.public_key()
CATALOG_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(100, 132)))
CATALOG_PUBLIC = CATALOG_KEY.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)

APPOINTMENT = Appointment(
    appointment_id="apt-0001",
    service="residence-permit",
    slot="2026-11-23T10:30",
    masked_name="张*三",
    hall="SZ01",
    exp=int(NOW) + 3600,
)
TOKEN = sign_appointment_token(APPOINTMENT, APPOINTMENT_KEY)
RECEIPTS = [
    str(ReceiptNumber.issue("SZ01", "K7M", dt.date(2026, 11, 23), 42)),
    str(ReceiptNumber.issue("GZTH0001", "00A", dt.date(2025, 2, 28), 99999)),
    str(ReceiptNumber.issue("11", "ZZZ", dt.date(2024, 2, 29), 1)),
]
ID_NUMBERS = ["11010519491231002X", "31011519900307451X", "650102197001011248"]
TD3 = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C36UTO7408122F1204159ZE184226B<<<<<10"
TD1 = "I<UTOD231458907<<<<<<<<<<<<<<<\n7408122F1204159UTO<<<<<<<<<<<6\nERIKSSON<<ANNA<MARIA<<<<<<<<<<"
ENROLMENT_QR = make_enrolment_qr(EnrolmentCode(url="https://central.example.gov.cn:8443/t", code="K7M2-9QXD"))
SEEDS = [TOKEN, *RECEIPTS, *ID_NUMBERS, TD3, TD1, ENROLMENT_QR, "https://gov.cn/a?b=c", "hello"]

MRZ_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<"
NASTY_CHARS = "\x00\r\n\t \u3000\ufeff\ud800\U0001f600０Ａー—–<{}[]\":,.-_=/\\%"


# --- strategies: a valid input with a few things broken -----------------------------------


def _apply_text_edits(seed: str, edits: list[tuple[int, int, str, int]]) -> str:
    text = seed
    for op, position, chars, count in edits:
        at = position % (len(text) + 1)
        if op == 0:  # substitute
            text = text[:at] + chars + text[at + len(chars) :]
        elif op == 1:  # insert
            text = text[:at] + chars + text[at:]
        elif op == 2:  # delete
            text = text[:at] + text[at + count :]
        elif op == 3:  # cut short
            text = text[:at]
        else:  # repeat a slice
            text = text[:at] + text[at : at + count] * (count % 50 + 1) + text[at:]
    return text


def _edits(alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[list[tuple[int, int, str, int]]]:
    edit = st.tuples(
        st.integers(0, 4), st.integers(0, 4096), alphabet, st.integers(1, 200)
    )
    return st.lists(edit, min_size=1, max_size=4)


def mutated_text(seeds: list[str], alphabet: str = "") -> st.SearchStrategy[str]:
    """One of ``seeds`` with 1-4 edits (substitutions, insertions, deletions, cuts, repeats)."""
    chars = st.one_of(
        st.text(alphabet=alphabet + NASTY_CHARS, min_size=1, max_size=6) if alphabet else st.nothing(),
        st.text(alphabet=NASTY_CHARS, min_size=1, max_size=4),
        st.text(min_size=1, max_size=4),
    )
    return st.builds(_apply_text_edits, st.sampled_from(seeds), _edits(chars))


def _apply_byte_edits(seed: bytes, edits: list[tuple[int, int, bytes, int]]) -> bytes:
    data = bytearray(seed)
    for op, position, chunk, count in edits:
        at = position % (len(data) + 1)
        if op == 0:
            data[at : at + len(chunk)] = chunk
        elif op == 1:
            data[at:at] = chunk
        elif op == 2:
            del data[at : at + count]
        elif op == 3:
            del data[at:]
        else:  # flip bits of one byte
            if data:
                data[at % len(data)] ^= count % 255 + 1
    return bytes(data)


def mutated_bytes(seeds: list[bytes]) -> st.SearchStrategy[bytes]:
    """One of ``seeds`` with 1-4 byte edits (overwrite, insert, delete, cut, bit flips)."""
    edit = st.tuples(st.integers(0, 4), st.integers(0, 1 << 16), st.binary(min_size=1, max_size=8), st.integers(1, 300))
    return st.builds(_apply_byte_edits, st.sampled_from(seeds), st.lists(edit, min_size=1, max_size=4))


JSON_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.sampled_from(["", "text", "choice", "date", "male", "{today}", "-18y", "2026-02-30", "zh_CN", "id", "$ref"]),
)
JSON_VALUES = st.recursive(
    JSON_LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["id", "en", "zh_CN", "type", "x"]), inner, max_size=3),
    ),
    max_leaves=6,
)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


def _mutate_document(document: Any, paths: list[tuple[Any, ...]], edits: list[tuple[int, int, Any]]) -> Any:
    data = copy.deepcopy(document)
    for path_index, op, value in edits:
        path = paths[path_index % len(paths)]
        if not path:
            data = value if op == 0 else data
            continue
        try:
            parent = data
            for part in path[:-1]:
                parent = parent[part]
            key = path[-1]
            if op == 0:  # replace with anything
                parent[key] = value
            elif op == 1:  # delete
                del parent[key]
            elif op == 2:  # duplicate (a list item twice, or a mapping's value under another key)
                if isinstance(parent, list):
                    parent.insert(key, copy.deepcopy(parent[key]))
                else:
                    parent[f"{key}_copy"] = copy.deepcopy(parent[key])
            elif op == 3:  # the same value as text, or a string as a number
                old = parent[key]
                parent[key] = str(old) if not isinstance(old, str) else (len(old) if old else None)
            else:  # graft another part of the document here
                donor = data
                for part in paths[(path_index * 7 + 3) % len(paths)]:
                    donor = donor[part]
                parent[key] = copy.deepcopy(donor)
        except (KeyError, IndexError, TypeError):  # an earlier edit removed this path
            continue
    return data


def mutated_document(documents: list[Any]) -> st.SearchStrategy[Any]:
    """One of ``documents`` (JSON-like) with 1-3 edits at random places in its tree."""
    indexed = [(doc, list(_paths(doc))) for doc in documents]
    edit = st.tuples(st.integers(0, 1 << 16), st.integers(0, 4), JSON_VALUES)
    return st.builds(
        lambda pick, edits: _mutate_document(indexed[pick][0], indexed[pick][1], edits),
        st.integers(0, len(indexed) - 1),
        st.lists(edit, min_size=1, max_size=3),
    )


# --- the rule ----------------------------------------------------------------------------


class UnclearError(AssertionError):
    """A documented error whose message does not say what was wrong."""


def assert_clear(exc: BaseException) -> None:
    """An error message is a sentence: not empty, not just the input echoed."""
    message = str(exc).strip()
    if len(message) < 12 or " " not in message:
        raise UnclearError(f"{type(exc).__name__} with an unclear message: {message!r}")


# --- scan payloads -----------------------------------------------------------------------


def check_classify(text: str) -> None:
    """classify() never raises, and what it answers is consistent."""
    payload = classify(text, appointment_key=APPOINTMENT_PUBLIC, now=NOW, today=TODAY)
    assert isinstance(payload, Payload) and isinstance(payload.kind, PayloadKind)
    assert len(payload.text) <= MAX_PAYLOAD_BYTES
    values = [payload.receipt, payload.appointment, payload.id_number, payload.mrz, payload.enrolment, payload.url]
    set_values = sum(v is not None for v in values)
    if payload.problem is not None:
        assert set_values == 0, "a payload with a problem must carry no parsed value"
        if payload.kind is not PayloadKind.UNKNOWN:
            assert_clear(ValueError(payload.problem))
    elif payload.kind is not PayloadKind.UNKNOWN:
        assert set_values == 1, f"a valid {payload.kind} payload carries exactly one value"


def check_receipt(text: str) -> None:
    """ReceiptNumber.parse raises only InvalidReceiptNumber; a parsed number round-trips."""
    try:
        receipt = ReceiptNumber.parse(text)
    except InvalidReceiptNumber as exc:
        assert_clear(exc)
        return
    assert ReceiptNumber.parse(str(receipt)) == receipt


def _verified(text: str) -> Appointment | None:
    """The appointment ``text`` verifies to, or None after a clear AppointmentTokenError."""
    try:
        return verify_appointment_token(text, APPOINTMENT_PUBLIC, now=NOW)
    except AppointmentTokenError as exc:
        assert_clear(exc)
        return None


def check_appointment(text: str) -> None:
    """Tokens verify or fail with AppointmentTokenError; a verified one is the one we signed
    (fuzzed text cannot carry a valid signature over other claims)."""
    appointment = _verified(text)
    assert appointment is None or appointment == APPOINTMENT


def resigned_token(claims: Any) -> str:
    """A token with ``claims`` correctly signed: reaches the claim checks behind the signature."""
    raw = json.dumps(claims, ensure_ascii=False, allow_nan=False).encode("utf-8", "surrogatepass")
    body = "TBA1." + base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")
    return body + "." + base64.urlsafe_b64encode(APPOINTMENT_KEY.sign(body.encode("ascii"))).rstrip(b"=").decode()


def check_signed_claims(claims: Any) -> None:
    """Signed but malformed claims fail with AppointmentTokenError, never anything else."""
    try:
        text = resigned_token(claims)
    except (ValueError, UnicodeEncodeError):  # not representable as JSON: nothing to test
        return
    appointment = _verified(text)
    # Signed claims that pass the checks come back exactly as signed.
    assert appointment is None or {name: getattr(appointment, name) for name in claims} == claims


def check_enrolment_qr(text: str) -> None:
    """parse_enrolment_qr raises only EnrolmentQrError."""
    try:
        parse_enrolment_qr(text)
    except EnrolmentQrError as exc:
        assert_clear(exc)


# --- MRZ -----------------------------------------------------------------------------------


def _fix_check_digits(text: str) -> str:
    """Recompute every check digit of a TD3 MRZ, so the date and name parsing is reached."""
    lines = text.split("\n")
    if len(lines) != 2 or any(len(line) != 44 for line in lines) or any(c not in MRZ_CHARS for c in lines[1]):
        return text
    two = list(lines[1])
    for start, end in ((0, 9), (13, 19), (21, 27), (28, 42)):
        two[end] = check_digit("".join(two[start:end]))
    joined = "".join(two)
    two[43] = check_digit(joined[0:10] + joined[13:20] + joined[21:43])
    return lines[0] + "\n" + "".join(two)


def check_mrz(text: str) -> None:
    """parse_mrz raises only MrzError (with the field named)."""
    try:
        document = parse_mrz(text, today=TODAY)
    except MrzError as exc:
        assert_clear(exc)
        return
    assert document.layout in ("TD3", "TD1")
    for date in (document.birth_date, document.expiry_date):
        assert date is None or dt.date.fromisoformat(date)


def check_mrz_fixed(text: str) -> None:
    """As :func:`check_mrz`, with valid check digits: the fields behind them are parsed."""
    check_mrz(_fix_check_digits(text))


# --- the ID card reader protocol --------------------------------------------------------


class _Line:
    """The bytes a reader sends, as pyserial's ``read`` hands them out (b"" once drained)."""

    def __init__(self, data: bytes) -> None:
        self.data = data

    def reset_input_buffer(self) -> None:
        """Nothing to drop: every answer is exactly what the fuzzer made."""

    def write(self, data: bytes) -> int:
        return len(data)

    def read(self, count: int) -> bytes:
        if not self.data:
            time.sleep(0.0005)  # like a serial timeout: nothing came
            return b""
        chunk, self.data = self.data[:count], self.data[count:]
        return chunk

    def close(self) -> None:
        """The line has nothing to close."""


PERSON = demo_identity()
CARD_TEXT = encode_identity(PERSON)
CARD_PHOTO = PERSON.photo_bytes.ljust(PHOTO_LENGTH, b"\x00")[:PHOTO_LENGTH]
BASE_ANSWER = build_frame(
    bytes([0, 0, SW_OK]) + TEXT_LENGTH.to_bytes(2, "big") + PHOTO_LENGTH.to_bytes(2, "big") + CARD_TEXT + CARD_PHOTO
)
FRAME_SEEDS = [
    BASE_ANSWER,
    b"\x00\xff" + BASE_ANSWER,  # line noise before the answer
    build_frame(bytes([0, 0, 0x41])),  # "the card left the reader"
    build_frame(bytes([0, 0, SW_OK])),  # success without data
]


def check_reader_answer(stream: bytes) -> None:
    """A reader's answer to "read base message", as bytes on the line, read by the driver.

    The driver (``IdCardReader.read_base_message`` and ``decode_identity``) must end in an
    :class:`Identity` or an :class:`IdCardError` subclass, within the reader's timeout.
    """
    reader = IdCardReader("/dev/fuzz", timeout=0.002)  # a cut-short answer waits this long
    reader._serial = _Line(stream)  # type: ignore[assignment]  # the bytes replace the port
    try:
        text, photo = reader.read_base_message()
        identity = decode_identity(text, photo, today=TODAY)
    except IdCardError as exc:
        assert_clear(exc)
        return
    assert is_valid_id_number(identity.id_number, today=TODAY)


def check_card_text(text: bytes) -> None:
    """decode_identity raises only CardDataError for a damaged 256-byte text block."""
    try:
        identity = decode_identity(text, CARD_PHOTO, today=TODAY)
    except IdCardError as exc:
        assert_clear(exc)
        return
    assert is_valid_id_number(identity.id_number, today=TODAY)


def _card_text_with(field_index: int, value: str) -> bytes:
    """The demo card's text block with one field (by its place in the layout) replaced."""
    from devices.idcard import TEXT_LAYOUT

    chars = CARD_TEXT.decode("utf-16-le")
    start = sum(width for _, width in TEXT_LAYOUT[:field_index])
    width = TEXT_LAYOUT[field_index][1]
    chars = chars[:start] + value[:width].ljust(width) + chars[start + width :]
    return chars.encode("utf-16-le", "surrogatepass")


# --- the keyboard wedge ------------------------------------------------------------------


def check_wedge(events: list[tuple[str, float]]) -> None:
    """Every key comes out exactly once, in order, as typing or inside a scan."""
    detector = WedgeDetector()
    now = 0.0
    out: list[str] = []
    for char, gap in events:
        now += gap
        for event in detector.feed(char, now):
            if isinstance(event, TypedKeys):
                out.append(event.text)
            else:
                assert isinstance(event, ScanResult)
                assert char in detector.terminators, "a scan ends only at a terminator"
                assert len(event.text) >= detector.min_length
                out.append(event.text + char)  # the scan consumed this terminator
    for event in detector.poll(now + 10):
        assert isinstance(event, TypedKeys)
        out.append(event.text)
    assert not detector.holding
    assert "".join(out) == "".join(char for char, _ in events), "keys were lost, duplicated or reordered"


def _burst(text: str, gap: float) -> list[tuple[str, float]]:
    return [(c, gap) for c in text] + [("\r", gap)]


WEDGE_EVENTS = st.lists(
    st.one_of(
        # a scanner: a payload typed 2-15 ms apart, then Enter
        st.builds(_burst, mutated_text(SEEDS), st.floats(0.001, 0.015)),
        # a person: a few keys 80-400 ms apart
        st.lists(st.tuples(st.text(min_size=1, max_size=1), st.floats(0.08, 0.4)), max_size=6),
        # anything: any key, any gap (including 0 and the boundary 40 ms)
        st.lists(
            st.tuples(
                st.one_of(st.sampled_from(["\r", "\n", "\t", "a", "1"]), st.text(min_size=1, max_size=1)),
                st.one_of(st.sampled_from([0.0, 0.04, 0.0400001]), st.floats(0, 1)),
            ),
            max_size=20,
        ),
    ),
    max_size=6,
).map(lambda groups: [event for group in groups for event in group])


# --- form definitions and catalogs -------------------------------------------------------

DEFINITION_FILES = sorted((DEFAULT_CATALOG_DIR / "services").glob("*.yaml"))
DEFINITIONS = [yaml.safe_load(path.read_text("utf-8")) for path in DEFINITION_FILES]
CATEGORIES = yaml.safe_load((DEFAULT_CATALOG_DIR / "categories.yaml").read_text("utf-8"))


def check_definition_data(data: Any) -> None:
    """check_definition returns problems (file, path, reason), never raises."""
    errors = check_definition(data, "fuzz.yaml", today=TODAY)
    for error in errors:
        assert error.file == "fuzz.yaml" and error.path and error.reason, error
        assert_clear(ValueError(error.reason))


def _load_folder(categories_text: bytes, service_texts: list[tuple[str, bytes]]) -> None:
    with tempfile.TemporaryDirectory(prefix="fuzz-catalog-") as folder:
        root = Path(folder)
        (root / "services").mkdir()
        (root / "categories.yaml").write_bytes(categories_text)
        for name, text in service_texts:
            (root / "services" / name).write_bytes(text)
        try:
            load_catalog(root, today=TODAY)
        except DefinitionInvalid as exc:
            assert exc.errors
            for error in exc.errors:
                assert error.path and error.reason, error
                assert_clear(ValueError(error.reason))


def check_catalog_folder(case: tuple[Any, Any]) -> None:
    """load_catalog on a folder whose categories.yaml and one definition are mutated."""
    categories, definition = case
    dump = lambda value: yaml.safe_dump(value, allow_unicode=True).encode("utf-8")  # noqa: E731
    service_id = definition.get("id") if isinstance(definition, dict) else None
    name = f"{service_id}.yaml" if isinstance(service_id, str) and service_id.isidentifier() else "fuzz.yaml"
    _load_folder(dump(categories), [(name, dump(definition))])


def check_yaml_bytes(text: bytes) -> None:
    """load_catalog on a definition file whose bytes are damaged (encoding, YAML syntax)."""
    _load_folder(yaml.safe_dump(CATEGORIES, allow_unicode=True).encode(), [("residence-permit.yaml", text)])


YAML_SEEDS = [path.read_bytes() for path in DEFINITION_FILES[:3]]


def signed_envelope(content: dict[str, Any]) -> CatalogBundle:
    """A catalog envelope around ``content``, signed with the fuzzers' catalog key."""
    raw = canonical_json(content)
    return CatalogBundle(
        version=str(content.get("version", "")),
        bundle=b64encode(raw),
        signature=b64encode(CATALOG_KEY.sign(raw)),
    )


def _content(categories: Any, services: Any) -> dict[str, Any]:
    version = catalog_content_version(1, categories, services)
    return {
        "format": 1,
        "version": version,
        "created_at": "2026-11-23T08:00:00+00:00",
        "categories": categories,
        "services": services,
    }


CATALOG_CONTENT = _content(CATEGORIES["categories"], DEFINITIONS)
CATALOG_ENVELOPE = signed_envelope(CATALOG_CONTENT)
ENVELOPE_JSON = CATALOG_ENVELOPE.model_dump_json().encode()


def check_envelope_bytes(raw: bytes) -> None:
    """An envelope as received (JSON bytes), damaged: parsed, then verified, or refused."""
    from pydantic import ValidationError

    try:
        envelope = CatalogBundle.model_validate_json(raw)
    except ValidationError:
        return  # the sync client refuses it as not a catalog envelope (its own test)
    try:
        verify_bundle(envelope, CATALOG_PUBLIC)
    except CatalogRejected as exc:
        assert_clear(exc)


def check_signed_content(content: Any) -> None:
    """Signed content with anything changed inside: verify_bundle raises only CatalogRejected.

    The version is recomputed when the content still has the parts it is made from, so
    a well-formed but odd catalog gets past the hash check to the rest.
    """
    try:
        if isinstance(content, dict) and isinstance(content.get("categories"), list) and isinstance(
            content.get("services"), list
        ):
            content = {**content, "version": catalog_content_version(1, content["categories"], content["services"])}
        envelope = signed_envelope(content) if isinstance(content, dict) else None
    except (TypeError, ValueError):  # not canonical-JSON-able (e.g. a float NaN): cannot be sent
        return
    if envelope is None:
        return
    try:
        verify_bundle(envelope, CATALOG_PUBLIC)
    except CatalogRejected as exc:
        assert_clear(exc)


def check_apply_bundle(content: Any) -> None:
    """A signed, hash-consistent catalog with a mutated definition, applied for real.

    apply_bundle writes it, loads it with the forms engine and either switches to it or
    raises CatalogRejected; the catalog in use is then still the previous one.
    """
    if not isinstance(content, dict):
        return
    try:
        categories, services = content.get("categories"), content.get("services")
        if not isinstance(categories, list) or not isinstance(services, list):
            return
        envelope = signed_envelope(_content(categories, services))
    except (TypeError, ValueError):
        return
    with tempfile.TemporaryDirectory(prefix="fuzz-apply-") as folder:
        root = Path(folder)
        try:
            apply_bundle(envelope, CATALOG_PUBLIC, root, validate=lambda path: load_catalog(path, today=TODAY))
        except CatalogRejected as exc:
            assert_clear(exc)
            assert not (root / "current").exists(), "a refused catalog must not become current"


# --- targets and the runner --------------------------------------------------------------


@dataclass(frozen=True)
class FuzzTarget:
    """One parser under fuzzing: ``check(input)`` for inputs drawn from ``strategy``.

    ``from_bytes`` turns raw fuzzer bytes into an input (for atheris; None where raw bytes
    would not get past JSON parsing, so only the structured strategy reaches deep); ``cost`` scales the
    example count down for slow targets; ``deadline`` is the time one input may take
    (generous: the machine is shared, and a hang takes far longer).
    """

    name: str
    what: str
    strategy: st.SearchStrategy[Any]
    check: Callable[[Any], None]
    from_bytes: Callable[[bytes], Any] | None = None
    cost: int = 1
    deadline: float = DEADLINE


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogateescape")


TARGETS = [
    FuzzTarget(
        "scan payload (classify)",
        "devices.payload.classify: every kind, mutated and random",
        st.one_of(mutated_text(SEEDS, MRZ_CHARS), st.text(max_size=300), st.binary(max_size=300).map(_text)),
        check_classify,
        _text,
    ),
    FuzzTarget(
        "receipt number",
        "sync.receipt.ReceiptNumber.parse",
        st.one_of(mutated_text(RECEIPTS, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*-‐ "), st.text(max_size=40)),
        check_receipt,
        _text,
    ),
    FuzzTarget(
        "appointment token",
        "devices.appointment.verify_appointment_token: mutated tokens",
        mutated_text([TOKEN], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.="),
        check_appointment,
        _text,
    ),
    FuzzTarget(
        "appointment claims (signed)",
        "devices.appointment: validly signed tokens with mutated claims",
        mutated_document([{**APPOINTMENT.__dict__}]),
        check_signed_claims,
    ),
    FuzzTarget(
        "enrolment QR",
        "devices.enrolment_qr.parse_enrolment_qr",
        mutated_text([ENROLMENT_QR], '{}":,/.-:'),
        check_enrolment_qr,
        _text,
    ),
    FuzzTarget(
        "MRZ",
        "devices.mrz.parse_mrz: TD3/TD1 specimens mutated",
        mutated_text([TD3, TD1], MRZ_CHARS),
        check_mrz,
        _text,
    ),
    FuzzTarget(
        "MRZ (check digits fixed)",
        "devices.mrz.parse_mrz: mutated TD3 with correct check digits (dates, names)",
        mutated_text([TD3], MRZ_CHARS),
        check_mrz_fixed,
        _text,
    ),
    FuzzTarget(
        "ID card reader answer",
        "devices.idcard: read_frame + read_base_message + decode_identity on the line's bytes",
        st.one_of(mutated_bytes(FRAME_SEEDS), st.binary(max_size=400)),
        check_reader_answer,
        bytes,
    ),
    FuzzTarget(
        "ID card text block",
        "devices.idcard.decode_identity: one field replaced, or bytes damaged",
        st.one_of(
            st.builds(_card_text_with, st.integers(0, 9), st.text(max_size=36)),
            st.builds(_card_text_with, st.integers(0, 9), st.text(alphabet="0123456789X 长期", max_size=18)),
            mutated_bytes([CARD_TEXT]),
        ),
        check_card_text,
        bytes,
    ),
    FuzzTarget(
        "keyboard wedge",
        "devices.wedge.WedgeDetector: scanner bursts, typing and odd timing",
        WEDGE_EVENTS,
        check_wedge,
        None,
    ),
    FuzzTarget(
        "form definition",
        "forms.loader.check_definition: the bundled definitions mutated",
        mutated_document(DEFINITIONS),
        check_definition_data,
        None,
        cost=4,
        deadline=3.0,
    ),
    FuzzTarget(
        "catalog folder",
        "forms.load_catalog: categories.yaml and a definition mutated, from files",
        st.tuples(mutated_document([CATEGORIES]), mutated_document(DEFINITIONS[:2])),
        check_catalog_folder,
        None,
        cost=10,
        deadline=3.0,
    ),
    FuzzTarget(
        "definition file bytes",
        "forms.load_catalog: a definition file's bytes damaged",
        mutated_bytes(YAML_SEEDS),
        check_yaml_bytes,
        bytes,
        cost=4,
        deadline=3.0,
    ),
    FuzzTarget(
        "catalog envelope",
        "sync.catalog_update.verify_bundle: the envelope JSON with bytes flipped",
        mutated_bytes([ENVELOPE_JSON]),
        check_envelope_bytes,
        bytes,
    ),
    FuzzTarget(
        "catalog content (signed)",
        "sync.catalog_update.verify_bundle: validly signed content mutated",
        mutated_document([CATALOG_CONTENT]),
        check_signed_content,
        None,
        cost=2,
        deadline=3.0,
    ),
    FuzzTarget(
        "catalog apply",
        "sync.catalog_update.apply_bundle + forms.load_catalog: signed, mutated, written",
        mutated_document([{"categories": CATEGORIES["categories"], "services": DEFINITIONS[:2]}]),
        check_apply_bundle,
        None,
        cost=20,
        deadline=10.0,
    ),
]


@dataclass
class TargetReport:
    """What one target was fed and what went wrong."""

    name: str
    tried: int = 0
    seconds: float = 0.0
    slowest: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def describe_failures(self) -> str:
        """Every distinct failure with one input that caused it."""
        return "\n".join(f"{key} (x{count}): {self.examples[key]}" for key, count in self.failures.items())


def failure_key(exc: BaseException) -> str:
    """Distinct failures: the exception type and where in our code it was raised."""
    tb = exc.__traceback__
    where = ""
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if "/site-packages/" not in filename and "fuzz_targets" not in filename:
            where = f"{Path(filename).name}:{tb.tb_lineno}"
        tb = tb.tb_next
    return f"{type(exc).__name__} at {where or 'fuzz check'}"


def record(report: TargetReport, check: Callable[[Any], None], value: Any, deadline: float = DEADLINE) -> None:
    """Run ``check(value)``, timing its CPU; a failure or a slow input goes into ``report``."""
    report.tried += 1
    started = time.process_time()
    try:
        check(value)
    except Exception as exc:  # every escape is a finding, whatever its type
        key = failure_key(exc)
        report.failures[key] += 1
        report.examples.setdefault(key, f"{str(exc)[:200]!r} for input {value!r:.300}")
    # CPU time, not wall time: on a shared machine a wall clock charges other processes'
    # work to the input; a runaway parser burns CPU (and a blocked one never returns).
    elapsed = time.process_time() - started
    report.slowest = max(report.slowest, elapsed)
    if elapsed > deadline:
        key = f"slower than {deadline:g} s of CPU"
        report.failures[key] += 1
        report.examples.setdefault(key, f"{elapsed:.2f} s for input {value!r:.300}")


def run_target(target: FuzzTarget, examples: int, *, seed: int | None = None) -> TargetReport:
    """Feed ``target`` ``examples`` inputs from its strategy; collect, never stop at, failures.

    The same ``seed`` gives the same inputs (hypothesis picks a random one otherwise).
    """
    report = TargetReport(target.name)

    def body(value: Any) -> None:
        record(report, target.check, value, target.deadline)

    test = given(target.strategy)(body)
    test = settings(
        max_examples=max(1, examples),
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )(test)
    if seed is not None:
        test = hypothesis_seed(seed)(test)
    started = time.perf_counter()
    test()
    report.seconds = time.perf_counter() - started
    return report
