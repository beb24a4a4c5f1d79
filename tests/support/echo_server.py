"""A tiny threaded HTTP server for testing the fault proxy and the HTTP client.

It counts the requests it handled, so a test can tell "the server never saw it" from
"the server handled it but the answer was lost". Routes:

- ``POST /echo``: answers ``{"n": <request count>, "echo": <the JSON body>}``.
- ``GET /json``: answers a JSON document of ``size`` bytes (query ``?size=N``).
- ``GET /status/<code>``: answers that status with a problem+json body.
- ``GET /chunked``: a JSON answer in chunked transfer encoding.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: EchoServer

    def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, data: object, content_type: str = "application/json") -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        n = self.server.count_request(self.path, dict(self.headers))
        self._send(200, {"n": n, "echo": json.loads(raw or b"null")})

    def do_GET(self) -> None:
        n = self.server.count_request(self.path, dict(self.headers))
        parts = urlsplit(self.path)
        if parts.path == "/json":
            size = int(parse_qs(parts.query).get("size", ["100"])[0])
            self._send(200, {"n": n, "pad": "x" * max(0, size - 20)})
        elif parts.path.startswith("/status/"):
            code = int(parts.path.rsplit("/", 1)[1])
            self._send(
                code,
                {"type": "about:blank", "title": "Test", "status": code, "detail": "as asked"},
                "application/problem+json",
            )
        elif parts.path == "/chunked":
            body = json.dumps({"n": n, "chunked": True}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for piece in (body[:10], body[10:]):
                self.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            self.wfile.write(b"0\r\n\r\n")
        else:
            self._send(404, {"title": "Not Found", "status": 404}, "application/problem+json")


class EchoServer(ThreadingHTTPServer):
    """The server; ``handled`` counts requests, ``last_headers`` keeps the latest headers."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.handled = 0
        self.paths: list[str] = []
        self.last_headers: dict[str, str] = {}
        self._count_lock = threading.Lock()

    def count_request(self, path: str, headers: dict[str, str]) -> int:
        with self._count_lock:
            self.handled += 1
            self.paths.append(path)
            self.last_headers = headers
            return self.handled

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def echo_server() -> Iterator[EchoServer]:
    """Run an :class:`EchoServer` in a thread for the duration of the block."""
    server = EchoServer()
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
