"""What a scan means: every payload classified, bounded and never evaluated.

Anything a scanner hands us is untrusted input: a citizen's phone, a forged paper, a
random QR code on a poster. :func:`classify` reads it into exactly one
:class:`PayloadKind` without ever executing, fetching or opening it:

============  =====================================================================
receipt       one of our receipt numbers (``sync.receipt``), for a status look-up
appointment   an appointment token signed by the central platform, verified offline
id_number     an 18-character resident ID number (GB 11643 check character)
mrz           a passport / ID card machine-readable zone (ICAO 9303, check digits)
enrolment     a technician's enrolment QR code (central URL and one-time code)
url           an http(s) address: shown, never opened
unknown       anything else, including text too long to be any of the above
============  =====================================================================

A payload whose *shape* names a kind (the ``TBA1.`` prefix, the ``tongban-enrol:``
prefix, an MRZ's lines, 18 ID-number characters) is given that kind even when a check
fails; then ``problem`` says why in plain words and the parsed value stays ``None``.
Callers act only on the parsed value (``payload.appointment``, ``payload.receipt``...),
so a forged token can never be mistaken for a real one.
"""

from __future__ import annotations

import datetime as dt
import enum
import logging
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from devices.appointment import (
    Appointment,
    AppointmentTokenError,
    looks_like_appointment_token,
    verify_appointment_token,
)
from devices.enrolment_qr import (
    EnrolmentCode,
    EnrolmentQrError,
    is_http_url,
    looks_like_enrolment_qr,
    parse_enrolment_qr,
)
from devices.mrz import MrzDocument, MrzError, looks_like_mrz, parse_mrz
from forms.idnumber import ID_RE, is_valid_id_number, normalize_id_number
from sync.receipt import InvalidReceiptNumber, ReceiptNumber

log = logging.getLogger(__name__)

MAX_PAYLOAD_BYTES = 4096  # a QR code holds at most 2953 bytes; anything longer is not ours
# Scanners add CR/LF/Tab suffixes, some add NULs or other controls; they are never content.
_STRIP = "".join(chr(c) for c in range(0x21)) + "\x7f\ufeff\u3000"


class PayloadKind(enum.StrEnum):
    """What a scanned payload is."""

    RECEIPT = "receipt"
    APPOINTMENT = "appointment"
    ID_NUMBER = "id_number"
    MRZ = "mrz"
    ENROLMENT = "enrolment"
    URL = "url"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Payload:
    """One classified payload.

    ``text`` is the payload without surrounding whitespace and control characters.
    Exactly one of the value fields is set, matching ``kind``, when the payload passed
    every check; otherwise ``problem`` says, in plain words, what is wrong.
    """

    kind: PayloadKind
    text: str
    problem: str | None = None
    receipt: ReceiptNumber | None = None
    appointment: Appointment | None = None
    id_number: str | None = None
    mrz: MrzDocument | None = None
    enrolment: EnrolmentCode | None = None
    url: str | None = None

    @property
    def ok(self) -> bool:
        """Whether the payload passed every check of its kind."""
        return self.problem is None

    def __repr__(self) -> str:  # ID numbers and MRZs are personal data: keep them out of logs
        return f"Payload(kind={self.kind.value!r}, problem={self.problem!r}, length={len(self.text)})"


def classify(
    text: str,
    *,
    appointment_key: Ed25519PublicKey | bytes | None = None,
    now: float | None = None,
    today: dt.date | None = None,
) -> Payload:
    """Classify one scanned payload. Never raises for any string; never evaluates it.

    ``appointment_key`` is the central platform's Ed25519 public key (from enrolment);
    without it an appointment token is recognised but cannot be verified. ``now`` (Unix
    seconds) and ``today`` fix the clock for token expiry and date checks.
    """
    if not isinstance(text, str):
        raise TypeError(f"classify() takes the decoded text, not {type(text).__name__}")
    if len(text) > MAX_PAYLOAD_BYTES or len(text.encode("utf-8", "surrogatepass")) > MAX_PAYLOAD_BYTES:
        # Keep only a bounded prefix, so a huge payload is not carried around the program.
        return Payload(PayloadKind.UNKNOWN, text[:64], problem=f"the code holds more than {MAX_PAYLOAD_BYTES} bytes")
    clean = text.strip(_STRIP)
    if not clean:
        return Payload(PayloadKind.UNKNOWN, clean, problem="the code is empty")
    return _classify(clean, appointment_key, now, today)


def _classify(
    text: str, appointment_key: Ed25519PublicKey | bytes | None, now: float | None, today: dt.date | None
) -> Payload:
    if looks_like_appointment_token(text):
        if appointment_key is None:
            problem = "appointment codes cannot be checked without the platform's key: is the terminal enrolled?"
            return Payload(PayloadKind.APPOINTMENT, text, problem=problem)
        try:
            appointment = verify_appointment_token(text, appointment_key, now=now)
        except AppointmentTokenError as exc:
            return Payload(PayloadKind.APPOINTMENT, text, problem=str(exc))
        return Payload(PayloadKind.APPOINTMENT, text, appointment=appointment)

    if looks_like_enrolment_qr(text):
        try:
            return Payload(PayloadKind.ENROLMENT, text, enrolment=parse_enrolment_qr(text))
        except EnrolmentQrError as exc:
            return Payload(PayloadKind.ENROLMENT, text, problem=str(exc))

    # An 18-digit ID number can also have the shape of a receipt number with an all-digit
    # site code; the ID number wins when its GB 11643 check passes.
    id_candidate = normalize_id_number(text) if len(text) <= 40 else ""
    id_shaped = bool(ID_RE.match(id_candidate))
    if id_shaped and is_valid_id_number(id_candidate, today=today):
        return Payload(PayloadKind.ID_NUMBER, text, id_number=id_candidate)

    if len(text) <= 64:  # a receipt number is at most 8 + 3 + 6 + 5 + 1 characters plus separators
        try:
            return Payload(PayloadKind.RECEIPT, text, receipt=ReceiptNumber.parse(text))
        except InvalidReceiptNumber:
            pass

    if id_shaped:
        return Payload(
            PayloadKind.ID_NUMBER,
            text,
            problem="this ID number is not valid: a digit was misread or the check character does not match",
        )

    if looks_like_mrz(text):
        try:
            return Payload(PayloadKind.MRZ, text, mrz=parse_mrz(text, today=today))
        except MrzError as exc:
            return Payload(PayloadKind.MRZ, text, problem=str(exc))

    if is_http_url(text):
        return Payload(PayloadKind.URL, text, url=text)

    return Payload(PayloadKind.UNKNOWN, text)
