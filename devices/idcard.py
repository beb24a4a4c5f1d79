"""Second-generation resident ID card readers: the common serial protocol (GA 467 style).

Readers with a security module (SAM) speak frames over a serial (USB CDC) port::

    AA AA AA 96 69 | LEN (2 bytes, big-endian) | BODY | CHK

    request BODY:  CMD PARA [data]          response BODY:  SW1 SW2 SW3 [data]
    LEN counts BODY + CHK; CHK is the XOR of the LEN bytes and BODY.

Commands (CMD PARA) and their success status (SW3):

======  ====================  ======  ==============================================
12 FF   read SAM id           90      16 bytes
20 01   find card             9F      4 bytes; 80 = no card
20 02   select card           90      8 bytes; 81 = selection failed
30 01   read base message     90      text length (2) + photo length (2) + 256 bytes
                                      of UCS-2LE text + 1024 bytes of photo (WLT)
======  ====================  ======  ==============================================

Other SW3: 10 our frame's checksum was wrong, 11 length error, 21/24 bad command, 41 the
read failed (the card left the reader), 60 SAM self-test failed.

The 256-byte text holds fixed-width UCS-2LE fields, space-padded: name (15 chars), sex
code (1: 1 male, 2 female), ethnicity code (2), birth date (8, YYYYMMDD), address (35),
ID number (18), issuing authority (15), valid from (8), valid until (8, or "长期"), and
18 reserved chars; the reserved char at index 124 is the card type (" " resident ID
card, "J" residence permit for Hong Kong/Macao/Taiwan residents, "I" foreigner's
permanent residence card, a different layout we do not read yet).

The photo is compressed with a proprietary wavelet codec (WLT); decoding it needs the
vendor's library, so we keep the bytes and never pretend to decode them.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass
from typing import Any

import serial

from devices.ethnicity import ETHNICITIES, ethnicity_name
from devices.health import DeviceHealth, connected, degraded, missing
from devices.identity import NO_EXPIRY, Identity
from forms.idnumber import birth_date_of, is_valid_id_number, sex_of

log = logging.getLogger(__name__)

try:  # a pty or tty that hung up fails in termios calls, which pyserial does not wrap
    from termios import error as _TermiosError
except ImportError:  # pragma: no cover - Windows

    class _TermiosError(Exception):  # type: ignore[no-redef]
        """Never raised: there is no termios on this platform."""


_PORT_ERRORS = (serial.SerialException, OSError, _TermiosError)

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
DEFAULT_BAUDRATE = 115200
MAX_FRAME_LENGTH = 0x0600  # the largest real answer (base message + fingerprint) is under 1.5 KB
DEVICE = "idcard-reader"

CMD_READ_SAM_ID = b"\x12\xff"
CMD_FIND_CARD = b"\x20\x01"
CMD_SELECT_CARD = b"\x20\x02"
CMD_READ_BASE = b"\x30\x01"

SW_OK = 0x90
SW_CARD_FOUND = 0x9F
SW_NO_CARD = 0x80
SW_SELECT_FAILED = 0x81
SW_READ_FAILED = 0x41
SW_BAD_CHECKSUM = 0x10
STATUS_TEXT = {
    0x10: "the reader received a frame with a wrong checksum",
    0x11: "the reader received a frame with a wrong length",
    0x21: "the reader did not accept the command",
    0x23: "the reader refused the command (not authorised)",
    0x24: "the reader does not know the command",
    0x31: "the card failed authentication",
    0x41: "reading the card failed (the card left the reader)",
    0x60: "the security module failed its self-test",
    0x80: "no card on the reader",
    0x81: "selecting the card failed",
}

TEXT_LENGTH = 256
PHOTO_LENGTH = 1024
# (field, characters) in the order they are stored; 128 UCS-2 characters in all.
TEXT_LAYOUT = (
    ("name", 15),
    ("sex", 1),
    ("ethnicity", 2),
    ("birth_date", 8),
    ("address", 35),
    ("id_number", 18),
    ("issuing_authority", 15),
    ("valid_from", 8),
    ("valid_until", 8),
    ("reserved", 18),
)
CARD_TYPE_INDEX = 124  # character index of the card type within the text
SEX_CODES = {"1": "male", "2": "female"}


class IdCardError(Exception):
    """Something went wrong talking to the ID card reader; the message says what to do."""


class ReaderNotFound(IdCardError):
    """The configured serial port does not exist or cannot be opened."""


class ReaderDisconnected(IdCardError):
    """The reader went away while in use (unplugged)."""


class ReaderTimeout(IdCardError):
    """The reader did not answer, or stopped in the middle of an answer."""


class ChecksumError(IdCardError):
    """An answer arrived damaged (its XOR checksum does not match)."""


class CardRemoved(IdCardError):
    """The card left the reader before it was read completely."""


class ReaderStatusError(IdCardError):
    """The reader answered with an error status."""

    def __init__(self, status: int, command: bytes) -> None:
        self.status = status
        text = STATUS_TEXT.get(status, "unknown status")
        super().__init__(f"ID card reader: {text} (status {status:02X} for command {command.hex(' ').upper()})")


class CardDataError(IdCardError):
    """The card's text does not hold a valid identity (a corrupted read, or an unknown card)."""


class UnsupportedCard(CardDataError):
    """A card type whose layout we do not read (the foreigner's permanent residence card)."""


# --- frames ------------------------------------------------------------------------------


def xor_checksum(data: bytes) -> int:
    """The XOR of every byte of ``data``."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def build_frame(body: bytes) -> bytes:
    """A complete frame around ``body`` (CMD PARA data, or SW1 SW2 SW3 data)."""
    length = (len(body) + 1).to_bytes(2, "big")
    return PREAMBLE + length + body + bytes([xor_checksum(length + body)])


@dataclass(frozen=True)
class Response:
    """A reader's answer: the status byte SW3 and the data after it."""

    status: int
    data: bytes


def parse_response_body(body: bytes) -> Response:
    """SW1 SW2 SW3 data -> :class:`Response`."""
    if len(body) < 3:
        raise IdCardError("ID card reader: an answer shorter than its status bytes")
    return Response(status=body[2], data=body[3:])


def read_frame(read: Any, deadline: float) -> bytes:
    """Read one frame's BODY with ``read(n) -> bytes`` before ``deadline`` (monotonic).

    Bytes before the preamble are skipped (line noise, the tail of an earlier answer).

    Raises:
        ReaderTimeout: no complete frame before the deadline.
        ChecksumError: the frame's checksum does not match.
        IdCardError: a length that no reader sends.
    """

    def take(count: int) -> bytes:
        chunk = b""
        while len(chunk) < count:
            if time.monotonic() > deadline:
                raise ReaderTimeout(
                    "the ID card reader stopped answering"
                    + (" in the middle of an answer" if chunk or count < 2 else "")
                )
            chunk += read(count - len(chunk))
        return chunk

    window = b""
    skipped = 0
    while window != PREAMBLE:
        window = (window + take(1))[-len(PREAMBLE) :]
        skipped += 1
        if skipped > MAX_FRAME_LENGTH * 2:
            raise IdCardError("the ID card reader sends data that are not frames: is this the right port?")
    length_bytes = take(2)
    length = int.from_bytes(length_bytes, "big")
    if not 1 <= length <= MAX_FRAME_LENGTH:
        raise IdCardError(f"the ID card reader sent a frame of impossible length {length}")
    rest = take(length)
    body, checksum = rest[:-1], rest[-1]
    if xor_checksum(length_bytes + body) != checksum:
        raise ChecksumError("an answer from the ID card reader arrived damaged (checksum mismatch)")
    return body


# --- the text block ----------------------------------------------------------------------


def _fields(text: bytes) -> dict[str, str]:
    if len(text) != TEXT_LENGTH:
        raise CardDataError(f"the card's text block is {len(text)} bytes, not {TEXT_LENGTH}")
    chars = text.decode("utf-16-le", "replace")
    out: dict[str, str] = {}
    position = 0
    for name, width in TEXT_LAYOUT:
        out[name] = chars[position : position + width]
        position += width
    return out


def _card_date(value: str, what: str) -> str:
    try:
        return dt.datetime.strptime(value, "%Y%m%d").date().isoformat()
    except ValueError as exc:
        raise CardDataError(f"the card's {what} {value!r} is not a date") from exc


def decode_identity(text: bytes, photo: bytes = b"", *, today: dt.date | None = None) -> Identity:
    """The :class:`Identity` in a card's 256-byte UCS-2LE text block (and its photo bytes).

    Every field is checked: the ID number by GB 11643, and against the sex and birth date
    stored separately on the card, so a damaged read is refused rather than shown.

    Raises:
        UnsupportedCard: a foreigner's permanent residence card (another layout).
        CardDataError: any field that does not hold what it should.
    """
    raw = _fields(text)
    card_type = raw["reserved"][CARD_TYPE_INDEX - 110]  # the reserved field starts at char 110
    if card_type == "I":
        raise UnsupportedCard("foreigner's permanent residence cards are not read yet; please enter the data by hand")
    values = {name: value.rstrip(" \x00") for name, value in raw.items()}
    name = values["name"]
    if not name:
        raise CardDataError("the card holds no name")
    sex = SEX_CODES.get(values["sex"])
    if sex is None:
        raise CardDataError(f"the card's sex code {values['sex']!r} is not 1 or 2")
    code = values["ethnicity"]
    if card_type == "J" and not code:  # residence permits carry no ethnicity
        ethnicity = ""
    elif code in ETHNICITIES:
        ethnicity = ethnicity_name(code)
    else:
        raise CardDataError(f"the card's ethnicity code {code!r} is not in GB/T 3304")
    birth_date = _card_date(values["birth_date"], "birth date")
    id_number = values["id_number"].upper()
    if not is_valid_id_number(id_number, today=today):
        raise CardDataError("the card's ID number fails its GB 11643 check")
    if sex_of(id_number) != sex or birth_date_of(id_number).isoformat() != birth_date:
        raise CardDataError("the card's ID number disagrees with its sex or birth date")
    valid_until = values["valid_until"]
    return Identity(
        name=name,
        sex=sex,
        ethnicity=ethnicity,
        birth_date=birth_date,
        address=values["address"],
        id_number=id_number,
        issuing_authority=values["issuing_authority"],
        valid_from=_card_date(values["valid_from"], "start of validity"),
        valid_until=NO_EXPIRY if valid_until == NO_EXPIRY else _card_date(valid_until, "end of validity"),
        photo_bytes=bytes(photo),
    )


def encode_identity(identity: Identity, *, card_type: str = " ") -> bytes:
    """The 256-byte text block a card holding ``identity`` carries (for the simulator and tests)."""
    code = next((c for c, n in ETHNICITIES.items() if n == identity.ethnicity), "")
    values = {
        "name": identity.name,
        "sex": {v: k for k, v in SEX_CODES.items()}[identity.sex],
        "ethnicity": code,
        "birth_date": identity.birth_date.replace("-", ""),
        "address": identity.address,
        "id_number": identity.id_number,
        "issuing_authority": identity.issuing_authority,
        "valid_from": identity.valid_from.replace("-", ""),
        "valid_until": identity.valid_until.replace("-", ""),
        "reserved": " " * (CARD_TYPE_INDEX - 110) + card_type,
    }
    chars = ""
    for name, width in TEXT_LAYOUT:
        value = values[name]
        if len(value) > width:
            raise ValueError(f"{name} is longer than the card's {width} characters")
        chars += value.ljust(width)
    return chars.encode("utf-16-le")


# --- the driver --------------------------------------------------------------------------


class IdCardReader:
    """A resident ID card reader on a serial port.

    Use as a context manager, or :meth:`open` / :meth:`close`. Calls block for at most
    ``timeout`` seconds per command; run them off the UI thread.
    """

    def __init__(self, port: str, *, baudrate: int = DEFAULT_BAUDRATE, timeout: float = 1.0) -> None:
        self.port = port
        self.baudrate = baudrate
        self.timeout = timeout
        self._serial: serial.Serial | None = None

    def open(self) -> None:
        """Open the serial port.

        Raises:
            ReaderNotFound: the port does not exist or cannot be opened, with the fix.
        """
        if self._serial is not None:
            return
        try:
            self._serial = serial.Serial(self.port, self.baudrate, timeout=min(self.timeout, 0.1))
        except _PORT_ERRORS as exc:
            raise ReaderNotFound(
                f"no ID card reader at {self.port} ({exc}); plug it in, or set the reader's port in kiosk.toml"
            ) from exc

    def close(self) -> None:
        """Close the serial port (safe to call twice, or after the reader was unplugged)."""
        if self._serial is not None:
            try:
                self._serial.close()
            except _PORT_ERRORS:
                pass
            self._serial = None

    def __enter__(self) -> IdCardReader:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def command(self, command: bytes, data: bytes = b"") -> Response:
        """Send one command and return the reader's answer (any status).

        Raises:
            ReaderDisconnected, ReaderTimeout, ChecksumError: see their descriptions.
        """
        self.open()
        assert self._serial is not None
        port = self._serial
        try:
            port.reset_input_buffer()  # drop the rest of any earlier, abandoned answer
            port.write(build_frame(command + data))
            body = read_frame(port.read, time.monotonic() + self.timeout)
        except _PORT_ERRORS as exc:
            self.close()
            raise ReaderDisconnected(f"the ID card reader at {self.port} went away ({exc}); check its cable") from exc
        return parse_response_body(body)

    def sam_id(self) -> str:
        """The security module's id as hex: proof that a working reader is attached."""
        response = self.command(CMD_READ_SAM_ID)
        if response.status != SW_OK:
            raise ReaderStatusError(response.status, CMD_READ_SAM_ID)
        return response.data.hex().upper()

    def find_card(self) -> bool:
        """Whether a card is on the reader."""
        response = self.command(CMD_FIND_CARD)
        if response.status == SW_CARD_FOUND:
            return True
        if response.status == SW_NO_CARD:
            return False
        raise ReaderStatusError(response.status, CMD_FIND_CARD)

    def select_card(self) -> None:
        """Select the card found by :meth:`find_card`.

        Raises:
            CardRemoved: the card left the reader in between.
        """
        response = self.command(CMD_SELECT_CARD)
        if response.status == SW_SELECT_FAILED:
            raise CardRemoved("the card left the reader; please place it on the reader and hold it still")
        if response.status != SW_OK:
            raise ReaderStatusError(response.status, CMD_SELECT_CARD)

    def read_base_message(self) -> tuple[bytes, bytes]:
        """The selected card's text block (256 bytes) and photo (1024 bytes, WLT).

        Raises:
            CardRemoved: the card left the reader during the read.
        """
        response = self.command(CMD_READ_BASE)
        if response.status == SW_READ_FAILED:
            raise CardRemoved("the card was taken away too early; please place it on the reader again")
        if response.status != SW_OK:
            raise ReaderStatusError(response.status, CMD_READ_BASE)
        data = response.data
        if len(data) < 4:
            raise CardDataError("the reader's answer holds no card data")
        text_length = int.from_bytes(data[0:2], "big")
        photo_length = int.from_bytes(data[2:4], "big")
        if text_length != TEXT_LENGTH or len(data) < 4 + text_length + photo_length:
            raise CardDataError(f"the card data are {len(data)} bytes with text length {text_length}")
        text = data[4 : 4 + text_length]
        return text, data[4 + text_length : 4 + text_length + photo_length]

    def read_identity(self, *, today: dt.date | None = None, retries: int = 2) -> Identity | None:
        """Find, select and read the card on the reader; None when there is none.

        A damaged answer (checksum) is retried up to ``retries`` times; anything else is
        raised at once, because the citizen has to act (keep the card still) or a
        technician has to (plug the reader in).

        Raises:
            CardRemoved, CardDataError, ReaderDisconnected, ReaderTimeout, ReaderNotFound,
            ChecksumError (after the retries), ReaderStatusError.
        """
        for attempt in range(retries + 1):
            try:
                if not self.find_card():
                    return None
                self.select_card()
                text, photo = self.read_base_message()
                return decode_identity(text, photo, today=today)
            except ChecksumError:
                if attempt == retries:
                    raise
                log.warning("damaged answer from the ID card reader at %s; reading again", self.port)
        raise AssertionError("unreachable")  # pragma: no cover

    def health(self) -> DeviceHealth:
        """Connected when the reader's security module answers; otherwise why not and the fix."""
        try:
            self.sam_id()
        except ReaderNotFound as exc:
            return missing(DEVICE, str(exc), f"plug in the ID card reader, or correct its port ({self.port})")
        except ReaderDisconnected as exc:
            return missing(DEVICE, str(exc), "check the reader's USB cable, then restart the kiosk")
        except ReaderTimeout:
            return degraded(
                DEVICE,
                f"the device at {self.port} does not answer as an ID card reader",
                f"check the port and the baud rate ({self.baudrate}); readers usually use 115200",
            )
        except IdCardError as exc:
            return degraded(DEVICE, str(exc), "restart the reader (unplug it and plug it in); if it stays, replace it")
        return connected(DEVICE)
