"""Device health as staff and `kiosk doctor` see it."""

from __future__ import annotations

from devices.health import DeviceHealth, HealthState, decoder_health


def test_both_decoders_are_available_here() -> None:
    for name in ("zxing", "zbar"):
        health = decoder_health(name)
        assert health.ok and health.state is HealthState.CONNECTED, health


def test_an_unknown_decoder_is_missing_with_a_fix() -> None:
    health = decoder_health("opencv")
    assert health.state is HealthState.MISSING and "zxing" in health.fix and "opencv" in health.reason


def test_health_as_json_is_plain_data() -> None:
    health = DeviceHealth("idcard-reader", HealthState.DEGRADED, "no answer", "check the port")
    assert health.as_json() == {
        "device": "idcard-reader",
        "state": "degraded",
        "reason": "no answer",
        "fix": "check the port",
    }
    assert not health.ok
