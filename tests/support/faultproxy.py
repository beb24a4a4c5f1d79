"""A fault-injecting HTTP proxy for tests: sits between a terminal and the central platform.

It listens on 127.0.0.1, reads one HTTP/1.1 request at a time from the client, and then,
depending on the current *mode*, forwards it to the upstream server and relays the answer,
or misbehaves in one of the ways networks and servers really do:

===================  =====================================================================
mode                 what the client sees
===================  =====================================================================
``pass``             the server's answer, untouched
``reset_before``     connection reset (RST) after sending the request; server never saw it
``reset_after``      the server handled the request, then the connection is reset before
                     any byte of the answer arrives (the classic "lost answer")
``http_500``         ``500`` problem+json from the proxy; server never saw the request
``http_503``         ``503`` with ``Retry-After`` from the proxy; server never saw it
``slow``             the server's answer, after ``slow_seconds`` of silence
``truncate``         the answer's headers and half its body, then the connection closes
                     (``Content-Length`` promises more than arrives)
``truncate_body``    a well-formed HTTP answer whose body is cut in half (invalid JSON)
``flip_byte``        the server's answer with one byte of the body changed
===================  =====================================================================

Modes are switched at run time: :meth:`FaultProxy.set_mode` (for every request, or only
for paths under a prefix), :meth:`FaultProxy.set_plan` (a list consumed one request at a
time) or :meth:`FaultProxy.set_random` (a seeded random mix). Every request is recorded
in :attr:`FaultProxy.events`.

The proxy is bounded and stops itself: every socket operation has a timeout, it refuses
to keep running past ``max_lifetime`` seconds, requests and answers larger than
``max_message_bytes`` are refused, and :meth:`stop` (or leaving the ``with`` block) closes
the listener and every open connection and joins the threads.

Each client connection carries exactly one request: the proxy asks upstream to close after
answering and tells the client the same (``Connection: close``), which keeps the framing
simple and makes every request an independent fault opportunity.
"""

from __future__ import annotations

import contextlib
import json
import logging
import random
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

log = logging.getLogger(__name__)


class Mode(StrEnum):
    """What the proxy does with the next request (see the module docstring)."""

    PASS = "pass"
    RESET_BEFORE = "reset_before"
    RESET_AFTER = "reset_after"
    HTTP_500 = "http_500"
    HTTP_503 = "http_503"
    SLOW = "slow"
    TRUNCATE = "truncate"
    TRUNCATE_BODY = "truncate_body"
    FLIP_BYTE = "flip_byte"


FAULT_MODES: tuple[Mode, ...] = tuple(m for m in Mode if m is not Mode.PASS)


@dataclass(frozen=True)
class ProxyEvent:
    """One request that went through the proxy and what was done to it."""

    method: str
    path: str
    mode: Mode
    forwarded: bool  # whether the upstream server received the request
    status: int | None  # the status the upstream server answered, if forwarded


class ProxyStopped(Exception):
    """The proxy is not running (stopped, or its lifetime ran out)."""


_HEADER_END = b"\r\n\r\n"


@dataclass
class _Message:
    head: bytes  # start line + headers, without the blank line
    body: bytes

    @property
    def start_line(self) -> str:
        return self.head.split(b"\r\n", 1)[0].decode("latin-1")

    def header(self, name: str) -> str | None:
        for line in self.head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            if key.strip().lower() == name.lower().encode():
                return value.strip().decode("latin-1")
        return None

    def with_header(self, name: str, value: str) -> _Message:
        """A copy where header ``name`` is set to ``value`` (replacing any previous)."""
        lines = self.head.split(b"\r\n")
        kept = [lines[0]] + [
            line
            for line in lines[1:]
            if line.partition(b":")[0].strip().lower() != name.lower().encode()
        ]
        kept.append(f"{name}: {value}".encode("latin-1"))
        return _Message(b"\r\n".join(kept), self.body)

    def without_header(self, name: str) -> _Message:
        lines = self.head.split(b"\r\n")
        kept = [lines[0]] + [
            line
            for line in lines[1:]
            if line.partition(b":")[0].strip().lower() != name.lower().encode()
        ]
        return _Message(b"\r\n".join(kept), self.body)

    def to_bytes(self) -> bytes:
        return self.head + _HEADER_END + self.body


class _TooLarge(Exception):
    pass


def _recv_message(
    sock: socket.socket, max_bytes: int, *, until_eof: bool, deadline: float
) -> _Message | None:
    """Read one HTTP message (head + body) from ``sock``; None if it closed before a head.

    The body is delimited by Content-Length, by chunked encoding (decoded), or, when
    ``until_eof`` (answers to a ``Connection: close`` request), by the end of the stream.
    """
    buf = bytearray()
    while _HEADER_END not in buf:
        chunk = _recv(sock, deadline)
        if not chunk:
            return None if not buf else _Message(bytes(buf), b"")
        buf += chunk
        if len(buf) > max_bytes:
            raise _TooLarge
    head, _, rest = bytes(buf).partition(_HEADER_END)
    message = _Message(head, b"")
    length = message.header("Content-Length")
    chunked = "chunked" in (message.header("Transfer-Encoding") or "").lower()
    body = bytearray(rest)
    if length is not None and not chunked:
        want = int(length)
        if want > max_bytes:
            raise _TooLarge
        while len(body) < want:
            chunk = _recv(sock, deadline)
            if not chunk:
                break
            body += chunk
        message.body = bytes(body[:want])
        return message
    if chunked or until_eof:
        while True:
            if chunked and _chunked_complete(body):
                break
            chunk = _recv(sock, deadline)
            if not chunk:
                break
            body += chunk
            if len(body) > max_bytes:
                raise _TooLarge
        if chunked:
            # Re-frame as a plain Content-Length message so faults can cut it precisely.
            decoded = _dechunk(bytes(body))
            message = message.without_header("Transfer-Encoding").with_header(
                "Content-Length", str(len(decoded))
            )
            message.body = decoded
            return message
        message.body = bytes(body)
        return message
    message.body = b""
    return message


def _recv(sock: socket.socket, deadline: float) -> bytes:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise TimeoutError("proxy message deadline passed")
    sock.settimeout(min(remaining, 5.0))
    return sock.recv(65536)


def _chunked_complete(data: bytearray) -> bool:
    return data.endswith(b"0\r\n\r\n") and _dechunk_or_none(bytes(data)) is not None


def _dechunk_or_none(data: bytes) -> bytes | None:
    out = bytearray()
    pos = 0
    while True:
        line_end = data.find(b"\r\n", pos)
        if line_end < 0:
            return None
        size_text = data[pos:line_end].split(b";", 1)[0].strip()
        try:
            size = int(size_text, 16)
        except ValueError:
            return None
        pos = line_end + 2
        if size == 0:
            return bytes(out)
        if len(data) < pos + size + 2:
            return None
        out += data[pos : pos + size]
        pos += size + 2


def _dechunk(data: bytes) -> bytes:
    decoded = _dechunk_or_none(data)
    return decoded if decoded is not None else b""


def _reset(sock: socket.socket) -> None:
    """Close ``sock`` with an RST instead of a FIN (SO_LINGER with a zero timeout)."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


def _synthetic(status: int, reason: str, extra_headers: Sequence[str] = ()) -> bytes:
    body = json.dumps(
        {"type": "about:blank", "title": reason, "status": status, "detail": "injected by proxy"}
    ).encode()
    head = [
        f"HTTP/1.1 {status} {reason}",
        "Content-Type: application/problem+json",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *extra_headers,
    ]
    return ("\r\n".join(head)).encode("latin-1") + _HEADER_END + body


Chooser = Callable[[str, str], Mode]


class FaultProxy:
    """A threaded, bounded, fault-injecting HTTP proxy on 127.0.0.1.

    Args:
        upstream: the server's base URL, ``http://127.0.0.1:PORT``.
        retry_after: the ``Retry-After`` value sent with injected 503s.
        slow_seconds: how long ``slow`` holds an answer back.
        max_lifetime: seconds after which the proxy stops itself.
        io_timeout: seconds any single exchange (request in, answer out) may take.
        max_message_bytes: requests or answers larger than this are refused.
    """

    def __init__(
        self,
        upstream: str,
        *,
        retry_after: str = "1",
        slow_seconds: float = 1.0,
        max_lifetime: float = 300.0,
        io_timeout: float = 30.0,
        max_message_bytes: int = 64 * 1024 * 1024,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"upstream must be http://HOST:PORT, got {upstream!r}")
        self.upstream = (parts.hostname, parts.port)
        self.retry_after = retry_after
        self.slow_seconds = slow_seconds
        self.max_lifetime = max_lifetime
        self.io_timeout = io_timeout
        self.max_message_bytes = max_message_bytes
        self.events: list[ProxyEvent] = []
        self._lock = threading.Lock()
        self._default = Mode.PASS
        self._prefix_modes: list[tuple[str, Mode]] = []
        self._plan: list[Mode] = []
        self._chooser: Chooser | None = None
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._workers: set[threading.Thread] = set()
        self._open: set[socket.socket] = set()
        self._started_at = 0.0
        self.port = 0

    # --- lifecycle --------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The proxy's base URL, to give to the client instead of the upstream's."""
        if not self.port:
            raise ProxyStopped("the proxy has not been started")
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> FaultProxy:
        """Listen on an ephemeral port of 127.0.0.1 and start accepting connections."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        listener.settimeout(0.2)
        self._listener = listener
        self.port = listener.getsockname()[1]
        self._started_at = time.monotonic()
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"faultproxy-{self.port}", daemon=True
        )
        self._accept_thread.start()
        log.debug("fault proxy on %s -> %s:%s", self.url, *self.upstream)
        return self

    def stop(self) -> None:
        """Stop accepting, close every open connection and wait for the threads."""
        self._stop.set()
        if self._listener is not None:
            with contextlib.suppress(OSError):
                self._listener.close()
        with self._lock:
            open_socks = list(self._open)
            workers = list(self._workers)
        for sock in open_socks:
            # shutdown() wakes a thread blocked in recv(); close() alone does not.
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()
        if self._accept_thread is not None:
            self._accept_thread.join(timeout=5)
        for worker in workers:
            worker.join(timeout=5)

    @property
    def running(self) -> bool:
        """Whether the proxy is accepting connections."""
        return not self._stop.is_set() and self._listener is not None

    def __enter__(self) -> FaultProxy:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_upstream(self, upstream: str) -> None:
        """Forward to another server from now on (e.g. a restarted platform's new port)."""
        parts = urlsplit(upstream)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"upstream must be http://HOST:PORT, got {upstream!r}")
        with self._lock:
            self.upstream = (parts.hostname, parts.port)

    # --- choosing faults --------------------------------------------------------------

    def set_mode(self, mode: Mode | str, *, path_prefix: str | None = None) -> None:
        """Apply ``mode`` to every request (or only to paths starting with ``path_prefix``).

        Without a prefix this also clears any plan, random mix and prefix rules.
        """
        mode = Mode(mode)
        with self._lock:
            if path_prefix is None:
                self._default = mode
                self._prefix_modes.clear()
                self._plan.clear()
                self._chooser = None
            else:
                self._prefix_modes = [(p, m) for p, m in self._prefix_modes if p != path_prefix]
                self._prefix_modes.append((path_prefix, mode))

    def set_plan(self, modes: Iterable[Mode | str]) -> None:
        """Use ``modes`` for the next requests, one each, then fall back to the rules."""
        with self._lock:
            self._plan = [Mode(m) for m in modes]

    def set_random(
        self,
        modes: Sequence[Mode | str] = FAULT_MODES,
        *,
        fault_rate: float = 0.5,
        seed: int = 0,
        path_prefix: str | None = None,
    ) -> None:
        """Fault a ``fault_rate`` share of requests, picking the fault among ``modes``.

        ``path_prefix`` limits the faults to matching paths (others pass).
        """
        rng = random.Random(seed)
        choices = [Mode(m) for m in modes]

        def choose(method: str, path: str) -> Mode:
            if path_prefix is not None and not path.startswith(path_prefix):
                return Mode.PASS
            return rng.choice(choices) if rng.random() < fault_rate else Mode.PASS

        with self._lock:
            self._chooser = choose

    def _mode_for(self, method: str, path: str) -> Mode:
        with self._lock:
            if self._plan:
                return self._plan.pop(0)
            for prefix, mode in self._prefix_modes:
                if path.startswith(prefix):
                    return mode
            if self._chooser is not None:
                return self._chooser(method, path)
            return self._default

    def count(self, mode: Mode | str | None = None, *, path_prefix: str = "") -> int:
        """How many requests were handled (in ``mode``, under ``path_prefix``)."""
        with self._lock:
            return sum(
                1
                for e in self.events
                if (mode is None or e.mode == Mode(mode)) and e.path.startswith(path_prefix)
            )

    # --- serving ----------------------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None
        while not self._stop.is_set():
            if time.monotonic() - self._started_at > self.max_lifetime:
                log.warning("fault proxy %s reached its lifetime; stopping", self.port)
                self._stop.set()
                break
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            worker = threading.Thread(target=self._serve, args=(client,), daemon=True)
            with self._lock:
                self._open.add(client)
                self._workers = {w for w in self._workers if w.is_alive()}
                self._workers.add(worker)
            worker.start()
        with contextlib.suppress(OSError):
            self._listener.close()

    def _serve(self, client: socket.socket) -> None:
        try:
            self._exchange(client)
        except (OSError, TimeoutError, _TooLarge, ValueError) as exc:
            log.debug("fault proxy connection ended: %r", exc)
        finally:
            with contextlib.suppress(OSError):
                client.close()
            with self._lock:
                self._open.discard(client)

    def _exchange(self, client: socket.socket) -> None:
        deadline = time.monotonic() + self.io_timeout
        request = _recv_message(client, self.max_message_bytes, until_eof=False, deadline=deadline)
        if request is None:
            return
        method, _, rest = request.start_line.partition(" ")
        path = rest.rsplit(" ", 1)[0]
        mode = self._mode_for(method, path)

        if mode is Mode.RESET_BEFORE:
            self._record(method, path, mode, forwarded=False, status=None)
            _reset(client)
            return
        if mode is Mode.HTTP_500:
            self._record(method, path, mode, forwarded=False, status=None)
            client.sendall(_synthetic(500, "Internal Server Error"))
            return
        if mode is Mode.HTTP_503:
            self._record(method, path, mode, forwarded=False, status=None)
            client.sendall(
                _synthetic(503, "Service Unavailable", [f"Retry-After: {self.retry_after}"])
            )
            return

        answer = self._forward(request, deadline)
        status = _status_of(answer)
        self._record(method, path, mode, forwarded=True, status=status)
        answer = answer.with_header("Connection", "close")

        if mode is Mode.RESET_AFTER:
            _reset(client)
        elif mode is Mode.SLOW:
            if not self._stop.wait(self.slow_seconds):
                client.sendall(answer.to_bytes())
        elif mode is Mode.TRUNCATE:
            data = answer.head + _HEADER_END + answer.body[: len(answer.body) // 2]
            client.sendall(data)
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_WR)
        elif mode is Mode.TRUNCATE_BODY:
            cut = answer.body[: len(answer.body) // 2]
            head = answer.with_header("Content-Length", str(len(cut))).head
            client.sendall(head + _HEADER_END + cut)
        elif mode is Mode.FLIP_BYTE:
            body = bytearray(answer.body)
            if body:
                body[len(body) // 2] ^= 0x01
            client.sendall(answer.head + _HEADER_END + bytes(body))
        else:
            client.sendall(answer.to_bytes())

    def _forward(self, request: _Message, deadline: float) -> _Message:
        with self._lock:
            address = self.upstream
        upstream = socket.create_connection(address, timeout=5.0)
        with self._lock:
            self._open.add(upstream)
        try:
            outgoing = request.with_header("Connection", "close")
            upstream.sendall(outgoing.to_bytes())
            answer = _recv_message(
                upstream, self.max_message_bytes, until_eof=True, deadline=deadline
            )
        finally:
            with contextlib.suppress(OSError):
                upstream.close()
            with self._lock:
                self._open.discard(upstream)
        if answer is None:
            raise OSError("upstream closed without answering")
        return answer

    def _record(
        self, method: str, path: str, mode: Mode, *, forwarded: bool, status: int | None
    ) -> None:
        with self._lock:
            self.events.append(ProxyEvent(method, path, mode, forwarded, status))


def _status_of(message: _Message) -> int | None:
    parts = message.start_line.split(" ", 2)
    try:
        return int(parts[1])
    except (IndexError, ValueError):
        return None
