"""The platform's hall endpoints: check-ins, ratings, audit events, used appointments, help.

Batches are validated whole by pydantic (a terminal only ever sends what its own models
made); each record is then stored once under its key and answered per record, in order
(:class:`sync.protocol.RecordBatchResponse`). Help requests are scoped to the calling
device's hall: a terminal sees and acknowledges only its own site's requests.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import FastAPI, Query, Request
from fastapi import Path as PathParam
from starlette.concurrency import run_in_threadpool

from central.auth import DeviceDep
from central.hall_store import HallStore
from central.problems import ProblemError, problem_doc
from sync.protocol import (
    API_PREFIX,
    MAX_INTEGER,
    AuditBatch,
    CheckinBatch,
    HelpAcknowledge,
    HelpRequest,
    HelpRequestCreate,
    HelpRequestList,
    ProblemCode,
    RatingBatch,
    RecordBatchResponse,
    UsedAppointmentsPage,
)

MAX_USED_PAGE = 1000


def _hall(request: Request) -> HallStore:
    hall: HallStore = request.app.state.platform.hall
    return hall


def install_hall_routes(app: FastAPI) -> None:
    """Add the hall endpoints to the platform's app."""

    @app.post(f"{API_PREFIX}/checkins/batch", response_model=RecordBatchResponse, tags=["hall"])
    async def checkins_batch(body: CheckinBatch, request: Request, device: DeviceDep) -> RecordBatchResponse:
        """Store check-ins and walk-in tickets (idempotent by checkin_id); marks appointments used."""
        now = datetime.now(UTC)
        results = await run_in_threadpool(_hall(request).add_checkins, device, body.items, now=now)
        return RecordBatchResponse(results=results)

    @app.post(f"{API_PREFIX}/ratings/batch", response_model=RecordBatchResponse, tags=["hall"])
    async def ratings_batch(body: RatingBatch, request: Request, device: DeviceDep) -> RecordBatchResponse:
        """Store satisfaction ratings (idempotent per device and rating_id)."""
        now = datetime.now(UTC)
        results = await run_in_threadpool(_hall(request).add_ratings, device, body.items, now=now)
        return RecordBatchResponse(results=results)

    @app.post(f"{API_PREFIX}/audit/batch", response_model=RecordBatchResponse, tags=["hall"])
    async def audit_batch(body: AuditBatch, request: Request, device: DeviceDep) -> RecordBatchResponse:
        """Store audit entries (idempotent per device and seq), verifying the hash chain."""
        now = datetime.now(UTC)
        results = await run_in_threadpool(_hall(request).add_audit, device, body.items, now=now)
        return RecordBatchResponse(results=results)

    @app.get(f"{API_PREFIX}/appointments/used", response_model=UsedAppointmentsPage, tags=["hall"])
    def used_appointments(
        request: Request,
        device: DeviceDep,
        since: Annotated[int, Query(ge=0, le=MAX_INTEGER)] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_USED_PAGE)] = 500,
    ) -> UsedAppointmentsPage:
        """Appointments of this device's hall checked in after cursor ``since``."""
        items = _hall(request).used_appointments(device.site_code, since, limit + 1)
        page = items[:limit]
        return UsedAppointmentsPage(
            items=page, next_cursor=page[-1].cursor if page else since, has_more=len(items) > limit
        )

    @app.post(f"{API_PREFIX}/help-requests", response_model=HelpRequest, tags=["hall"])
    def raise_help(body: HelpRequestCreate, request: Request, device: DeviceDep) -> HelpRequest:
        """A kiosk's "call staff": agent stations of the same hall see it (idempotent by id)."""
        return _hall(request).raise_help(device, body.request_id, body.reason, body.raised_at,
                                         now=datetime.now(UTC))

    @app.get(f"{API_PREFIX}/help-requests", response_model=HelpRequestList, tags=["hall"])
    def open_help(request: Request, device: DeviceDep) -> HelpRequestList:
        """This hall's open help requests, oldest first."""
        return HelpRequestList(requests=_hall(request).open_help(device.site_code))

    @app.post(
        f"{API_PREFIX}/help-requests/{{request_id}}/ack",
        response_model=HelpRequest,
        tags=["hall"],
        responses={404: problem_doc("No open or taken help request has this id in this hall.")},
    )
    def acknowledge_help(
        request_id: Annotated[str, PathParam(max_length=64)],
        body: HelpAcknowledge,
        request: Request,
        device: DeviceDep,
    ) -> HelpRequest:
        """A staff member of this hall takes the request; the first acknowledgement stays."""
        found = _hall(request).acknowledge_help(
            request_id, device.site_code, body.staff, now=datetime.now(UTC)
        )
        if found is None:
            raise ProblemError(404, ProblemCode.NOT_FOUND, f"no help request {request_id} in this hall")
        return found
