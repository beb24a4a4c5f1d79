"""Authenticating the calling terminal: the bearer token from enrolment -> :class:`Device`."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from central.enrolment import device_for_token
from central.problems import ProblemError
from central.store import Device
from sync.protocol import ProblemCode

_bearer = HTTPBearer(auto_error=False, description="The token from POST /v1/enrol.")


def _platform(request: Request):  # type: ignore[no-untyped-def]
    return request.app.state.platform


def require_device(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Device:
    """The enrolled, not revoked device calling; 401/403 problem otherwise."""
    challenge = {"WWW-Authenticate": 'Bearer realm="tongban-central"'}
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise ProblemError(
            401,
            ProblemCode.UNAUTHORIZED,
            "this endpoint needs 'Authorization: Bearer <token>' from enrolment",
            headers=challenge,
        )
    device = device_for_token(_platform(request).store, credentials.credentials)
    if device is None:
        raise ProblemError(
            401,
            ProblemCode.UNAUTHORIZED,
            "unknown device token: enrol the terminal again",
            headers=challenge,
        )
    if device.revoked:
        raise ProblemError(
            403,
            ProblemCode.DEVICE_REVOKED,
            f"device {device.device_id} was revoked; enrol it again with a new code",
        )
    return device


DeviceDep = Annotated[Device, Depends(require_device)]
