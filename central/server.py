"""Serving the platform with uvicorn on a socket we bind ourselves.

Binding first lets ``--port 0`` work: the kernel picks a free port and the caller learns
the real one before anything else happens. ``on_ready`` runs once uvicorn has started and
the socket accepts connections. SIGTERM and SIGINT shut the server down gracefully (open
requests finish) and :func:`serve` returns normally, so the process exits with status 0.
"""

from __future__ import annotations

import logging
import signal
import socket
import threading
from collections.abc import Callable, Generator
from contextlib import contextmanager

import uvicorn
from fastapi import FastAPI

log = logging.getLogger(__name__)

_HANDLED_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class _Server(uvicorn.Server):
    """uvicorn's server with a ready callback and a quiet exit on signals."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """Start as uvicorn does, then report readiness."""
        await super().startup(sockets=sockets)
        if not self.should_exit:
            self._on_ready()

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        """Like uvicorn's, without re-raising the signal after a clean shutdown."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        original = {sig: signal.signal(sig, self.handle_exit) for sig in _HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


def bind_socket(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port`` (port 0: any free port).

    Raises:
        OSError: the address is in use or cannot be bound.
    """
    family, kind, proto, _, address = socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(2048)
        sock.set_inheritable(True)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(host: str, sock: socket.socket) -> str:
    """``http://HOST:PORT`` for a bound socket (the real port, brackets for IPv6)."""
    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}"


def serve(
    app: FastAPI,
    sock: socket.socket,
    *,
    on_ready: Callable[[], None],
    access_log: bool = True,
) -> None:
    """Serve ``app`` on ``sock`` until SIGTERM/SIGINT; ``on_ready`` once accepting."""
    config = uvicorn.Config(
        app,
        log_config=None,  # our logging set-up (stderr + file) handles uvicorn's loggers
        access_log=access_log,
        timeout_graceful_shutdown=10,
        server_header=False,
    )
    server = _Server(config, on_ready)
    server.run(sockets=[sock])
    log.info("Server stopped")
