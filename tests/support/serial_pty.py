"""A serial device on a real pseudo-terminal: the kiosk opens ``port`` like a USB CDC device."""

from __future__ import annotations

import os
import tty


class Pty:
    """The device end is :attr:`master` (write to it as the scanner or reader would); the
    kiosk opens :attr:`port`. :meth:`close` hangs the line up, as pulling the cable does."""

    def __init__(self) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.port = os.ttyname(self.slave)

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def close(self) -> None:
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
