"""Telling systemd how the kiosk is doing: ``sd_notify`` over ``$NOTIFY_SOCKET``.

The unit (``deploy/tongban-kiosk.service``) is ``Type=notify`` with ``WatchdogSec=``: systemd
considers the kiosk started when it sends ``READY=1`` and kills and restarts it when no
``WATCHDOG=1`` arrives within the watchdog interval, i.e. when the Qt event loop is stuck.
The pings must therefore come from the event loop itself: the Qt app drives
:class:`Watchdog` from a ``QTimer`` (this module knows nothing of Qt).

The protocol is one datagram per message on the AF_UNIX socket named by ``$NOTIFY_SOCKET``
(a path, or ``@name`` for the abstract namespace); ``$WATCHDOG_USEC`` gives the interval and
``$WATCHDOG_PID`` the process it is meant for. Outside systemd (no ``$NOTIFY_SOCKET``) every
call does nothing, so the kiosk runs the same from a terminal.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Watchdog:
    """Sends ``READY=1``, ``WATCHDOG=1`` and ``STOPPING=1`` to systemd (or nothing outside it)."""

    def __init__(self, address: str | None, interval_usec: int | None = None) -> None:
        self._address = address
        self.interval_usec = interval_usec
        self._socket: socket.socket | None = None
        if address:
            self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Watchdog:
        """The watchdog systemd set up for this process (``$NOTIFY_SOCKET``, ``$WATCHDOG_USEC``).

        ``$WATCHDOG_USEC`` is ignored when ``$WATCHDOG_PID`` names another process (it was
        inherited by a child). Unusable values are logged and ignored, never fatal.
        """
        env = os.environ if environ is None else environ
        address = env.get("NOTIFY_SOCKET") or None
        if address and not (address.startswith("/") or address.startswith("@")):
            log.warning("NOTIFY_SOCKET=%r is neither a path nor @abstract; not notifying systemd", address)
            address = None
        interval: int | None = None
        raw = env.get("WATCHDOG_USEC")
        pid = env.get("WATCHDOG_PID")
        if raw and (not pid or pid == str(os.getpid())):
            try:
                interval = int(raw)
            except ValueError:
                log.warning("WATCHDOG_USEC=%r is not a number; watchdog pings off", raw)
            else:
                if interval <= 0:
                    interval = None
        return cls(address, interval)

    @property
    def enabled(self) -> bool:
        """Whether there is a systemd to notify."""
        return self._socket is not None

    @property
    def ping_interval_ms(self) -> int | None:
        """How often to ping: half the watchdog interval (systemd's advice), or None if off."""
        if not self.enabled or self.interval_usec is None:
            return None
        return max(1, self.interval_usec // 2000)

    def notify(self, message: str) -> bool:
        """Send one notification (e.g. ``"STATUS=syncing"``); whether it was sent."""
        if self._socket is None or self._address is None:
            return False
        address = "\0" + self._address[1:] if self._address.startswith("@") else self._address
        try:
            self._socket.sendto(message.encode("utf-8"), address)
        except OSError as exc:
            # systemd gone or the socket replaced: the kiosk keeps running; systemd (if any)
            # will act on the missing pings.
            log.warning("cannot notify systemd at %s: %s", self._address, exc)
            return False
        return True

    def ready(self) -> bool:
        """The kiosk is up (the home screen is shown)."""
        sent = self.notify(f"READY=1\nMAINPID={os.getpid()}")
        if sent:
            log.info("told systemd the kiosk is ready (watchdog %s)",
                     f"{self.interval_usec / 1e6:g} s" if self.interval_usec else "off")
        return sent

    def ping(self) -> bool:
        """The event loop is alive."""
        return self.notify("WATCHDOG=1")

    def stopping(self) -> bool:
        """The kiosk is shutting down on purpose (not a hang)."""
        return self.notify("STOPPING=1")

    def close(self) -> None:
        """Close the socket."""
        if self._socket is not None:
            self._socket.close()
            self._socket = None
