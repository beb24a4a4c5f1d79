"""Where an ESC/POS printer is attached, as a technician writes it in the config.

``usb:VENDOR:PRODUCT`` (hex ids, ``usb:0x0416:0x5011``), ``serial:DEVICE[:BAUD]``
(``serial:/dev/ttyUSB0:9600``, ``serial:COM3``; 9600 baud by default) or
``network:HOST[:PORT]`` (``network:192.168.1.50:9100``; port 9100 by default).
Kept free of heavy imports: the config checks connection strings with it.
"""

from __future__ import annotations

from dataclasses import dataclass

from printing.errors import PrinterConfigError

KINDS = ("usb", "serial", "network")


@dataclass(frozen=True)
class EscposConnection:
    """Where an ESC/POS printer is attached."""

    kind: str  # usb | serial | network
    target: str  # "0x0416:0x5011", "/dev/ttyUSB0", "192.168.1.50"
    number: int  # USB product id, serial baud rate or TCP port
    vendor: int = 0  # USB vendor id

    @classmethod
    def parse(cls, text: str) -> EscposConnection:
        """Read ``usb:0x0416:0x5011``, ``serial:/dev/ttyUSB0:9600`` or ``network:HOST:9100``.

        Raises:
            PrinterConfigError: the text is not one of those forms.
        """
        kind, _, rest = text.strip().partition(":")
        kind = kind.lower()
        try:
            if kind == "usb":
                vendor, _, product = rest.partition(":")
                return cls("usb", rest, int(product, 16), vendor=int(vendor, 16))
            if kind == "serial":
                device, sep, baud = rest.rpartition(":")
                if not sep or not baud.isdigit():  # no baud rate given (COM3, /dev/ttyUSB0)
                    device, baud = rest, "9600"
                if not device:
                    raise ValueError("no device")
                return cls("serial", device, int(baud))
            if kind == "network":
                host, sep, port = rest.rpartition(":")
                if not sep:
                    host, port = rest, "9100"
                if not host:
                    raise ValueError("no host")
                return cls("network", host, int(port))
        except ValueError:
            pass
        raise PrinterConfigError(
            f"cannot read ESC/POS connection {text!r}; write usb:0x0416:0x5011, "
            "serial:/dev/ttyUSB0:9600 or network:192.168.1.50:9100"
        )

    def __str__(self) -> str:
        if self.kind == "usb":
            return f"usb:{self.vendor:#06x}:{self.number:#06x}"
        return f"{self.kind}:{self.target}:{self.number}"
