"""A resident ID card reader simulated on a pseudo-terminal, for tests and the demo.

It answers the same frames as a real reader (``devices.idcard``) on the slave side of a
pty, so the real driver and pyserial are exercised end to end. Faults are injected the
way they happen at a counter:

- no card on the reader (:meth:`IdCardSimulator.remove_card`);
- a damaged answer (:meth:`corrupt_next_answers`: the checksum byte is flipped);
- the card taken away mid-read (:meth:`remove_card_during_read`: the read fails with
  status 41 and the card is gone);
- an answer cut off in the middle (:meth:`cut_next_read`: half a frame, then silence);
- the reader unplugged (:meth:`unplug`: the pty is closed, the port disappears).

Usage::

    with IdCardSimulator(identity) as sim:
        reader = IdCardReader(sim.port)
        reader.read_identity()
"""

from __future__ import annotations

import logging
import os
import select
import threading
import tty

from devices.idcard import (
    CMD_FIND_CARD,
    CMD_READ_BASE,
    CMD_READ_SAM_ID,
    CMD_SELECT_CARD,
    MAX_FRAME_LENGTH,
    PHOTO_LENGTH,
    PREAMBLE,
    SW_BAD_CHECKSUM,
    SW_CARD_FOUND,
    SW_NO_CARD,
    SW_OK,
    SW_READ_FAILED,
    SW_SELECT_FAILED,
    TEXT_LENGTH,
    build_frame,
    encode_identity,
    xor_checksum,
)
from devices.identity import Identity

log = logging.getLogger(__name__)

SAM_ID = bytes.fromhex("0501000020190101000000010000002A")
SW_UNKNOWN_COMMAND = 0x24


def demo_identity() -> Identity:
    """A made-up but valid identity, with a placeholder photo (not a real WLT image)."""
    return Identity(
        name="张三",
        sex="male",
        ethnicity="汉",
        birth_date="1990-03-07",
        address="上海市浦东新区世纪大道100号",
        id_number="31011519900307451X",
        issuing_authority="上海市公安局浦东分局",
        valid_from="2015-06-01",
        valid_until="2035-06-01",
        photo_bytes=bytes([0x57, 0x4C, *range(256)] * 4)[:PHOTO_LENGTH],
    )


class IdCardSimulator:
    """A simulated reader on a pty; :attr:`port` is the path to open with pyserial."""

    def __init__(self, identity: Identity | None = None, *, card_type: str = " ") -> None:
        self.identity = identity
        self.card_type = card_type
        self.commands: list[bytes] = []  # every command received, for tests
        self._lock = threading.Lock()
        self._corrupt = 0
        self._remove_during_read = False
        self._cut_next_read = False
        self._master: int | None = None
        self._slave: int | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.port = ""

    # --- life cycle ----------------------------------------------------------------------

    def start(self) -> IdCardSimulator:
        """Open the pty and start answering."""
        master, slave = os.openpty()
        tty.setraw(slave)  # no echo, no line editing: bytes pass as they are
        self._master, self._slave = master, slave
        self.port = os.ttyname(slave)
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="idcard-simulator", daemon=True)
        self._thread.start()
        log.debug("ID card reader simulator on %s", self.port)
        return self

    def stop(self) -> None:
        """Stop answering and close the pty."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        self._close()

    def __enter__(self) -> IdCardSimulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- what happens at the counter -----------------------------------------------------

    def insert_card(self, identity: Identity, *, card_type: str = " ") -> None:
        """Place a card on the reader."""
        with self._lock:
            self.identity, self.card_type = identity, card_type

    def remove_card(self) -> None:
        """Take the card away."""
        with self._lock:
            self.identity = None

    def corrupt_next_answers(self, count: int = 1) -> None:
        """Damage the checksum of the next ``count`` answers."""
        with self._lock:
            self._corrupt = count

    def remove_card_during_read(self) -> None:
        """The next read fails as if the card left the reader, which then has no card."""
        with self._lock:
            self._remove_during_read = True

    def cut_next_read(self) -> None:
        """Send only half of the next read's answer, then nothing."""
        with self._lock:
            self._cut_next_read = True

    def unplug(self) -> None:
        """Pull the reader's cable: the pty closes and the port disappears."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2)
            self._thread = None
        self._close()

    # --- serving -------------------------------------------------------------------------

    def _close(self) -> None:
        for fd in (self._master, self._slave):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._master = self._slave = None

    def _serve(self) -> None:
        assert self._master is not None
        master = self._master
        buffer = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the other side closed; wait for it to open again or for stop
                self._stop.wait(0.05)
                continue
            buffer += chunk
            while True:
                frame, buffer = _split_frame(buffer)
                if frame is None:
                    break
                answer = self._answer(frame)
                if answer:
                    try:
                        os.write(master, answer)
                    except OSError:
                        return

    def _answer(self, frame: bytes) -> bytes:
        length_bytes, body, checksum = frame[:2], frame[2:-1], frame[-1]
        if xor_checksum(length_bytes + body) != checksum:
            return build_frame(bytes([0, 0, SW_BAD_CHECKSUM]))
        command = body[:2]
        self.commands.append(command)
        with self._lock:
            status, data, cut = self._respond(command)
            corrupt = self._corrupt > 0
            if corrupt:
                self._corrupt -= 1
        answer = build_frame(bytes([0, 0, status]) + data)
        if corrupt:
            answer = answer[:-1] + bytes([answer[-1] ^ 0xFF])
        if cut:
            answer = answer[: len(answer) // 2]
        return answer

    def _respond(self, command: bytes) -> tuple[int, bytes, bool]:
        if command == CMD_READ_SAM_ID:
            return SW_OK, SAM_ID, False
        if command == CMD_FIND_CARD:
            return (SW_CARD_FOUND, bytes(4), False) if self.identity else (SW_NO_CARD, bytes(4), False)
        if command == CMD_SELECT_CARD:
            return (SW_OK, bytes(8), False) if self.identity else (SW_SELECT_FAILED, bytes(8), False)
        if command == CMD_READ_BASE:
            if self.identity is None:
                return SW_READ_FAILED, b"", False
            if self._remove_during_read:
                self._remove_during_read = False
                self.identity = None
                return SW_READ_FAILED, b"", False
            text = encode_identity(self.identity, card_type=self.card_type)
            photo = self.identity.photo_bytes.ljust(PHOTO_LENGTH, b"\x00")[:PHOTO_LENGTH]
            data = TEXT_LENGTH.to_bytes(2, "big") + PHOTO_LENGTH.to_bytes(2, "big") + text + photo
            cut, self._cut_next_read = self._cut_next_read, False
            return SW_OK, data, cut
        return SW_UNKNOWN_COMMAND, b"", False


def _split_frame(buffer: bytes) -> tuple[bytes | None, bytes]:
    """(LEN + BODY + CHK of the first complete frame, the rest); garbage before it dropped."""
    head = len(PREAMBLE)
    while True:
        start = buffer.find(PREAMBLE)
        if start < 0:
            return None, buffer[-(head - 1) :]
        buffer = buffer[start:]
        if len(buffer) < head + 2:
            return None, buffer
        length = int.from_bytes(buffer[head : head + 2], "big")
        if not 1 <= length <= MAX_FRAME_LENGTH:
            buffer = buffer[head:]  # not a real frame start: look for the next one
            continue
        end = head + 2 + length
        if len(buffer) < end:
            return None, buffer
        return buffer[head:end], buffer[end:]
