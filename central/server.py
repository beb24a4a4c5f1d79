"""Serving the platform with uvicorn on a socket we bind ourselves.

Binding first lets ``--port 0`` work: the kernel picks a free port and the caller learns
the real one before anything else happens. ``on_ready`` runs once uvicorn has started and
the socket accepts connections. SIGTERM and SIGINT shut the server down gracefully (open
requests finish) and :func:`serve` returns normally, so the process exits with status 0.

:func:`serve_workers` runs several such servers in forked worker processes that share the
socket (the kernel hands each connection to one of them): the platform's request handling
is Python, so one process uses one CPU; a PostgreSQL database takes writes from all of them.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable, Generator
from contextlib import contextmanager
from types import FrameType

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


def serve_workers(
    make_app: Callable[[], FastAPI],
    sock: socket.socket,
    *,
    workers: int,
    on_ready: Callable[[], None],
    access_log: bool = True,
) -> int:
    """Serve on ``sock`` from ``workers`` forked processes, each with its own ``make_app()``.

    Call it with no other threads running (forking copies only the calling thread).
    ``on_ready`` runs once every worker accepts connections. SIGTERM or SIGINT is passed on
    to the workers, which finish their open requests. Returns 0 if every worker started and
    stopped cleanly, else 1 (a worker's failure is in the log).
    """
    ready_read, ready_write = os.pipe()
    children: list[int] = []
    for _ in range(workers):
        pid = os.fork()
        if pid == 0:  # a worker
            os.close(ready_read)
            status = 1

            def signal_ready() -> None:
                # Close this worker's end once it has reported: the parent then sees the end of
                # the pipe when every worker has either reported or died, never waits forever.
                os.write(ready_write, b".")
                os.close(ready_write)

            try:
                app = make_app()
                try:
                    serve(app, sock, on_ready=signal_ready, access_log=access_log)
                finally:
                    app.state.platform.store.close()
                status = 0
            except BaseException:
                log.exception("Worker %d failed", os.getpid())
            finally:
                os._exit(status)
        children.append(pid)
    os.close(ready_write)

    def pass_on(signum: int, _frame: FrameType | None) -> None:
        for child in children:
            try:
                os.kill(child, signal.SIGTERM)
            except ProcessLookupError:
                pass

    original = {sig: signal.signal(sig, pass_on) for sig in _HANDLED_SIGNALS}
    try:
        started = 0
        while started < workers:
            chunk = os.read(ready_read, workers)
            if not chunk:  # every worker has exited or closed its end
                break
            started += len(chunk)
        os.close(ready_read)
        if started == workers:
            log.info("%d workers serving", workers)
            on_ready()
        else:
            log.error("Only %d of %d workers started; stopping", started, workers)
            pass_on(signal.SIGTERM, None)
        codes = [os.waitstatus_to_exitcode(os.waitpid(child, 0)[1]) for child in children]
    finally:
        for sig, handler in original.items():
            signal.signal(sig, handler)
    log.info("Server stopped")
    return 0 if started == workers and not any(codes) else 1
