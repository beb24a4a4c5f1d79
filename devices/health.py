"""Device health: connected, degraded or missing, with the reason and the fix.

Every device driver reports a :class:`DeviceHealth`. Staff see it in the status strip,
``kiosk doctor`` prints it, and a technician reads ``fix`` to know what to do. Reasons and
fixes name the device and the port or setting at fault.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class HealthState(enum.StrEnum):
    """How usable a device is."""

    CONNECTED = "connected"  # present and answering as expected
    DEGRADED = "degraded"  # present, but not working properly (wrong settings, errors)
    MISSING = "missing"  # not there: unplugged, wrong port, driver or library absent


@dataclass(frozen=True)
class DeviceHealth:
    """One device's health. ``reason`` and ``fix`` are empty when it is connected."""

    device: str  # e.g. "idcard-reader", "serial-scanner", "camera-decoder"
    state: HealthState
    reason: str = ""
    fix: str = ""

    @property
    def ok(self) -> bool:
        """Whether the device is fully usable."""
        return self.state is HealthState.CONNECTED

    def as_json(self) -> dict[str, str]:
        """Plain data for ``kiosk doctor --json`` and the status strip."""
        return {"device": self.device, "state": self.state.value, "reason": self.reason, "fix": self.fix}


def connected(device: str) -> DeviceHealth:
    """A device that works."""
    return DeviceHealth(device, HealthState.CONNECTED)


def degraded(device: str, reason: str, fix: str) -> DeviceHealth:
    """A device that is there but does not work properly."""
    return DeviceHealth(device, HealthState.DEGRADED, reason, fix)


def missing(device: str, reason: str, fix: str) -> DeviceHealth:
    """A device that is not there."""
    return DeviceHealth(device, HealthState.MISSING, reason, fix)


def decoder_health(name: str) -> DeviceHealth:
    """Whether the camera decoder ``name`` ("zxing" or "zbar") can be loaded here."""
    from devices.decoder import DecoderError, make_decoder

    device = f"{name}-decoder"
    try:
        make_decoder(name)
    except DecoderError as exc:
        return missing(device, str(exc), "install the decoder's library, or set the camera decoder to zxing")
    return connected(device)
