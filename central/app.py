"""The central platform's HTTP API (FastAPI): :func:`create_app`.

Routes are thin: they authenticate the device, translate between the wire models of
:mod:`sync.protocol` and the platform's parts (store, ingest, uploads), and map expected
failures to problem+json. ``docs/protocol.md`` is the reader's guide to the endpoints.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.openapi.utils import get_openapi
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from central.attachments import (
    AttachmentHashMismatch,
    AttachmentTooLarge,
    AttachmentUnreadable,
    AttachmentUploads,
    LengthMismatch,
    OffsetMismatch,
    UploadError,
)
from central.auth import DeviceDep
from central.catalog_publisher import publish_catalog
from central.database import open_store
from central.enrolment import enrol_device
from central.hall_routes import install_hall_routes
from central.hall_store import HallStore
from central.ingest import Ingest
from central.keys import PlatformKeys, load_or_create_keys
from central.problems import ProblemError, install_problem_handlers, problem_doc, problem_response
from central.store import (
    CentralStore,
    EnrolmentCodeExpired,
    EnrolmentCodeUnknown,
    EnrolmentCodeUsed,
    PublishedCatalog,
    StatusChangeRecord,
)
from sync.protocol import (
    API_PREFIX,
    DEFAULT_STATUS_PAGE,
    MAX_BATCH_BYTES,
    MAX_BATCH_ITEMS,
    MAX_CHUNK_BYTES,
    MAX_INTEGER,
    MAX_STATUS_PAGE,
    PROTOCOL_VERSION,
    SHA256_PATTERN,
    UPLOAD_COMPLETE_HEADER,
    UPLOAD_LENGTH_HEADER,
    UPLOAD_OFFSET_HEADER,
    AttachmentStatus,
    BatchRequest,
    BatchResponse,
    CatalogBundle,
    EnrolRequest,
    EnrolResponse,
    Health,
    Problem,
    ProblemCode,
    ReceiptLookup,
    StatusChange,
    StatusPage,
    b64encode,
)
from sync.ratelimit import SlidingWindowLimit

log = logging.getLogger(__name__)

DEFAULT_BODY_LIMIT = 64 * 1024
HALL_BATCH_BYTES = 2 * 1024 * 1024  # 500 audit entries with long details fit
# Path prefix -> largest request body accepted (checked before the app reads it).
# Receipt look-ups per terminal: a citizen looks one receipt up in half a minute at the very
# least, so 30 in 10 minutes is far above honest use and far below walking a day's receipts
# (the sequence part of a receipt number counts up). See docs/security.md.
RECEIPT_LOOKUPS_PER_WINDOW = 30
RECEIPT_LOOKUP_WINDOW_SECONDS = 600.0

BODY_LIMITS = (
    (f"{API_PREFIX}/submissions/batch", MAX_BATCH_BYTES),
    (f"{API_PREFIX}/attachments/", MAX_CHUNK_BYTES),
    (f"{API_PREFIX}/checkins/batch", HALL_BATCH_BYTES),
    (f"{API_PREFIX}/ratings/batch", HALL_BATCH_BYTES),
    (f"{API_PREFIX}/audit/batch", HALL_BATCH_BYTES),
)


@dataclass
class Platform:
    """The parts one running platform is made of (``app.state.platform``)."""

    data_dir: Path
    store: CentralStore
    keys: PlatformKeys
    ingest: Ingest
    uploads: AttachmentUploads
    catalog: PublishedCatalog
    hall: HallStore
    receipt_lookups: SlidingWindowLimit = field(
        default_factory=lambda: SlidingWindowLimit(RECEIPT_LOOKUPS_PER_WINDOW, RECEIPT_LOOKUP_WINDOW_SECONDS)
    )
    # One warning per terminal and window for refused look-ups, not one per refusal: a
    # terminal walking receipt numbers would otherwise write a line per attempt.
    receipt_lookup_warnings: SlidingWindowLimit = field(
        default_factory=lambda: SlidingWindowLimit(1, RECEIPT_LOOKUP_WINDOW_SECONDS)
    )


class BodyLimitMiddleware:
    """Refuse request bodies over a per-path limit with 413, before the app parses them.

    The body is buffered (it is bounded) and replayed to the app, so the limit holds for
    chunked requests without a Content-Length too.
    """

    def __init__(self, app: ASGIApp, limits: tuple[tuple[str, int], ...], default: int) -> None:
        self.app = app
        self.limits = limits
        self.default = default

    def _limit(self, path: str) -> int:
        for prefix, limit in self.limits:
            if path.startswith(prefix):
                return limit
        return self.default

    async def _refuse(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        response = problem_response(
            413,
            ProblemCode.PAYLOAD_TOO_LARGE,
            f"request body is over the limit of {limit} bytes for {scope['path']}",
            instance=scope["path"],
        )
        await response(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """ASGI entry point."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = False
                if too_big:
                    await self._refuse(scope, receive, send, limit)
                    return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] != "http.request":
                # The client went away mid-body: never hand a cut-short body to the app
                # (a truncated chunk must not be stored as if it were whole).
                return
            body += message.get("body", b"")
            if len(body) > limit:
                await self._refuse(scope, receive, send, limit)
                return
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": bytes(body), "more_body": False}
            return await receive()

        await self.app(scope, replay, send)


_PROBLEMS: dict[int | str, dict[str, Any]] = {
    status: problem_doc(description)
    for status, description in {
        400: "The body is not JSON.",
        401: "No or unknown bearer token.",
        403: "The device was revoked.",
        413: "The request body is over the limit for this path.",
        422: "The request does not match the protocol.",
        500: "The platform failed; retry later.",
    }.items()
}


def _platform(request: Request) -> Platform:
    platform: Platform = request.app.state.platform
    return platform


Sha256Param = Annotated[str, PathParam(pattern=SHA256_PATTERN, description="Plaintext SHA-256.")]


def _change(record: StatusChangeRecord) -> StatusChange:
    return StatusChange(
        cursor=record.cursor,
        case_no=record.case_no,
        receipt_no=record.receipt_no,
        submission_id=record.submission_id,
        service_id=record.service_id,
        status=record.status,
        note=record.note,
        changed_at=record.changed_at,
    )


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    for candidate in header.split(","):
        value = candidate.strip()
        if value.startswith("W/"):
            value = value[2:]
        if value in ("*", etag):
            return True
    return False


def _upload_headers(status: AttachmentStatus) -> dict[str, str]:
    headers = {
        UPLOAD_OFFSET_HEADER: str(status.received),
        UPLOAD_COMPLETE_HEADER: "?1" if status.complete else "?0",
        "Cache-Control": "no-store",
    }
    if status.length is not None:
        headers[UPLOAD_LENGTH_HEADER] = str(status.length)
    return headers


def _upload_problem(exc: UploadError) -> ProblemError:
    if isinstance(exc, OffsetMismatch):
        return ProblemError(
            409,
            ProblemCode.UPLOAD_OFFSET_MISMATCH,
            f"the upload stands at offset {exc.offset}; send from there",
            offset=exc.offset,
            headers={UPLOAD_OFFSET_HEADER: str(exc.offset)},
        )
    if isinstance(exc, LengthMismatch):
        return ProblemError(
            409, ProblemCode.UPLOAD_LENGTH_MISMATCH, exc.detail, offset=exc.offset
        )
    if isinstance(exc, AttachmentTooLarge):
        return ProblemError(413, ProblemCode.PAYLOAD_TOO_LARGE, str(exc))
    if isinstance(exc, AttachmentHashMismatch):
        return ProblemError(422, ProblemCode.ATTACHMENT_HASH_MISMATCH, str(exc))
    if isinstance(exc, AttachmentUnreadable):
        return ProblemError(422, ProblemCode.ATTACHMENT_UNREADABLE, str(exc))
    return ProblemError(400, "upload_error", str(exc))


_RAW_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


def _install_routes(app: FastAPI) -> None:
    @app.get(f"{API_PREFIX}/health", response_model=Health, tags=["platform"])
    def health(request: Request) -> Health:
        """Liveness and the current catalog version; no authentication."""
        return Health(catalog_version=_platform(request).catalog.version)

    @app.post(
        f"{API_PREFIX}/enrol",
        response_model=EnrolResponse,
        tags=["enrolment"],
        responses={
            400: problem_doc("Unknown enrolment code."),
            409: problem_doc("The code was used before."),
            410: problem_doc("The code expired."),
        },
    )
    def enrol(body: EnrolRequest, request: Request) -> EnrolResponse:
        """Exchange a one-time enrolment code for a device id, token, site and keys."""
        platform = _platform(request)
        try:
            return enrol_device(
                platform.store, platform.keys, body.code, device_name=body.device_name
            )
        except EnrolmentCodeUnknown as exc:
            raise ProblemError(
                400,
                ProblemCode.ENROLMENT_CODE_INVALID,
                "this enrolment code does not exist; check it or create a new one with "
                "'kiosk-central enroll-code create'",
            ) from exc
        except EnrolmentCodeUsed as exc:
            raise ProblemError(
                409,
                ProblemCode.ENROLMENT_CODE_USED,
                "this enrolment code was already used; create a new one",
            ) from exc
        except EnrolmentCodeExpired as exc:
            raise ProblemError(
                410,
                ProblemCode.ENROLMENT_CODE_EXPIRED,
                "this enrolment code has expired; create a new one",
            ) from exc

    @app.get(
        f"{API_PREFIX}/catalog",
        response_model=CatalogBundle,
        tags=["catalog"],
        responses={304: {"description": "If-None-Match matched the current version."}},
    )
    def catalog(
        request: Request,
        device: DeviceDep,
        if_none_match: Annotated[str | None, Header()] = None,
    ) -> Response:
        """The current signed catalog; ETag is the quoted version, If-None-Match gives 304."""
        published = _platform(request).catalog
        etag = f'"{published.version}"'
        headers = {"ETag": etag, "Cache-Control": "no-cache"}
        if _etag_matches(if_none_match, etag):
            return Response(status_code=304, headers=headers)
        envelope = CatalogBundle(
            version=published.version,
            bundle=b64encode(published.bundle),
            signature=b64encode(published.signature),
        )
        return Response(
            envelope.model_dump_json(), media_type="application/json", headers=headers
        )

    @app.post(
        f"{API_PREFIX}/submissions/batch",
        response_model=BatchResponse,
        tags=["submissions"],
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/BatchRequest"}}
                },
            }
        },
        responses={413: problem_doc("Too many items or bytes.")},
    )
    async def submit_batch(request: Request, device: DeviceDep) -> BatchResponse:
        """Judge each item on its own: accepted / duplicate (same case no) / rejected."""
        try:
            body = json.loads(await request.body())
        except (UnicodeDecodeError, ValueError) as exc:
            raise ProblemError(400, "bad_request", "the body is not JSON") from exc
        if not isinstance(body, dict) or not isinstance(body.get("items"), list):
            raise ProblemError(
                422,
                ProblemCode.VALIDATION_ERROR,
                'the body must be {"items": [...]}',
                errors=[{"field": "items", "code": "missing", "message": "a list is required"}],
            )
        items = body["items"]
        if len(items) > MAX_BATCH_ITEMS:
            raise ProblemError(
                413,
                ProblemCode.PAYLOAD_TOO_LARGE,
                f"{len(items)} items; send at most {MAX_BATCH_ITEMS} per batch",
            )
        results = await run_in_threadpool(_platform(request).ingest.ingest, device, items)
        return BatchResponse(results=results)

    @app.get(
        f"{API_PREFIX}/attachments/{{sha256}}",
        response_model=AttachmentStatus,
        tags=["attachments"],
    )
    def attachment_status(
        sha256: Sha256Param, request: Request, response: Response, device: DeviceDep
    ) -> AttachmentStatus:
        """How much of this attachment the platform holds from this device (or complete)."""
        status = _platform(request).uploads.status(device, sha256)
        response.headers.update(_upload_headers(status))
        return status

    @app.head(f"{API_PREFIX}/attachments/{{sha256}}", tags=["attachments"])
    def attachment_head(sha256: Sha256Param, request: Request, device: DeviceDep) -> Response:
        """Like GET, as headers only: Upload-Offset, Upload-Complete (?1/?0), Upload-Length."""
        status = _platform(request).uploads.status(device, sha256)
        return Response(status_code=200, headers=_upload_headers(status))

    @app.put(
        f"{API_PREFIX}/attachments/{{sha256}}",
        response_model=AttachmentStatus,
        tags=["attachments"],
        openapi_extra=_RAW_BODY,
        responses={
            413: problem_doc("Over the size limit."),
            422: problem_doc("Does not open, or the hash differs."),
        },
    )
    async def attachment_put(
        sha256: Sha256Param, request: Request, response: Response, device: DeviceDep
    ) -> AttachmentStatus:
        """Upload the whole sealed attachment in one request (idempotent)."""
        body = await request.body()
        uploads = _platform(request).uploads
        try:
            status = await run_in_threadpool(uploads.put, device, sha256, body)
        except UploadError as exc:
            raise _upload_problem(exc) from exc
        response.headers.update(_upload_headers(status))
        return status

    @app.patch(
        f"{API_PREFIX}/attachments/{{sha256}}",
        response_model=AttachmentStatus,
        tags=["attachments"],
        openapi_extra=_RAW_BODY,
        responses={
            409: problem_doc("Offset or length mismatch; see offset."),
            413: problem_doc("Over the size limit."),
            422: problem_doc("Does not open, or the hash differs."),
        },
    )
    async def attachment_patch(
        sha256: Sha256Param,
        request: Request,
        response: Response,
        device: DeviceDep,
        upload_offset: Annotated[int, Header(alias=UPLOAD_OFFSET_HEADER, ge=0, le=MAX_INTEGER)],
        upload_length: Annotated[int, Header(alias=UPLOAD_LENGTH_HEADER, ge=1, le=MAX_INTEGER)],
    ) -> AttachmentStatus:
        """Append a chunk at Upload-Offset of a sealed attachment Upload-Length bytes long."""
        body = await request.body()
        uploads = _platform(request).uploads
        try:
            status = await run_in_threadpool(
                lambda: uploads.append(
                    device, sha256, offset=upload_offset, length=upload_length, chunk=body
                )
            )
        except UploadError as exc:
            raise _upload_problem(exc) from exc
        response.headers.update(_upload_headers(status))
        return status

    @app.get(f"{API_PREFIX}/status", response_model=StatusPage, tags=["case status"])
    def status_changes(
        request: Request,
        device: DeviceDep,
        since: Annotated[int, Query(ge=0, le=MAX_INTEGER, description="Cursor from the last page; 0 first.")] = 0,
        limit: Annotated[int, Query(ge=1, le=MAX_STATUS_PAGE)] = DEFAULT_STATUS_PAGE,
    ) -> StatusPage:
        """Status changes of this device's site's cases after ``since``, oldest first."""
        records = _platform(request).store.status_changes(
            since, limit + 1, site_code=device.site_code
        )
        page = records[:limit]
        return StatusPage(
            changes=[_change(r) for r in page],
            next_cursor=page[-1].cursor if page else since,
            has_more=len(records) > limit,
        )

    @app.get(
        f"{API_PREFIX}/receipts/{{receipt_no}}",
        response_model=ReceiptLookup,
        tags=["case status"],
        responses={
            404: problem_doc("No submission has this receipt."),
            429: problem_doc("This terminal looked up too many receipts lately; see Retry-After."),
        },
    )
    def receipt_lookup(
        receipt_no: Annotated[str, PathParam(max_length=64)], request: Request, device: DeviceDep
    ) -> ReceiptLookup:
        """Any receipt's case and status, from any enrolled terminal, within a per-terminal
        limit (``RECEIPT_LOOKUPS_PER_WINDOW``) so receipt numbers cannot be walked."""
        platform = _platform(request)
        wait = platform.receipt_lookups.attempt(device.device_id)
        if wait is not None:
            if platform.receipt_lookup_warnings.attempt(device.device_id) is None:
                log.warning("device %s: receipt look-ups over the limit of %d in %.0f minutes; refusing "
                            "more for a while (a walk of receipt numbers, or a stolen device token?)",
                            device.device_id, platform.receipt_lookups.limit, platform.receipt_lookups.window / 60)
            else:
                log.debug("device %s: receipt look-up refused (over the limit)", device.device_id)
            raise ProblemError(
                429, ProblemCode.RATE_LIMITED,
                f"more than {platform.receipt_lookups.limit} receipt look-ups from this terminal in "
                f"{platform.receipt_lookups.window / 60:.0f} minutes",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        store = platform.store
        wanted = receipt_no.strip()
        record = store.submission_by_receipt(wanted) or store.submission_by_receipt(
            wanted.upper()
        )
        if record is None:
            raise ProblemError(
                404, ProblemCode.NOT_FOUND, f"no submission has receipt number {wanted}"
            )
        return ReceiptLookup(
            receipt_no=record.receipt_no,
            case_no=record.case_no,
            submission_id=record.submission_id,
            service_id=record.service_id,
            form_version=record.form_version,
            site_code=record.site_code,
            received_at=record.received_at,
            status=record.status,
            status_note=record.status_note,
            status_changed_at=record.status_changed_at,
            history=[_change(r) for r in store.case_history(record.case_no)],
        )


def _install_openapi(app: FastAPI) -> None:
    """The batch body is read by hand (per-item validation), so add its schema here; a HEAD
    answer is documented without a body."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        batch = BatchRequest.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in batch.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components["BatchRequest"] = batch
        components.setdefault(
            "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        for operations in schema.get("paths", {}).values():
            if "head" in operations:  # a HEAD answer has headers only, never a body
                operations["head"]["responses"]["200"] = {
                    "description": "The upload state as Upload-Offset, Upload-Complete and Upload-Length.",
                    "headers": {
                        name: {"schema": {"type": "string"}}
                        for name in (UPLOAD_OFFSET_HEADER, UPLOAD_COMPLETE_HEADER)
                    },
                }
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def create_app(
    data_dir: Path, catalog_dir: Path | None = None, *, database: str | None = None
) -> FastAPI:
    """The central platform over the data folder ``data_dir``.

    On first start this creates the folder (0700), the key pair for sealing and the catalog
    signing key, and the database; every start publishes the catalog in ``catalog_dir``
    (default: the bundled catalog) and makes it current. The database is SQLite in the
    data folder unless ``database`` (or the configuration, see :mod:`central.database`)
    names a PostgreSQL one.

    Raises:
        central.keys.KeyFileError: a key file is unusable.
        central.catalog_publisher.CatalogPublishError: the catalog cannot be published.
        central.store.StoreError: the database is from a newer version, cannot be
            reached or is misconfigured.
    """
    from catalog import DEFAULT_CATALOG_DIR

    data_dir = Path(data_dir)
    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(data_dir, 0o700)
    keys = load_or_create_keys(data_dir)
    store = open_store(data_dir, database)
    try:
        published = publish_catalog(store, keys, Path(catalog_dir or DEFAULT_CATALOG_DIR))
    except BaseException:
        store.close()
        raise

    app = FastAPI(
        title="Tongban central platform",
        version=f"{PROTOCOL_VERSION}",
        description="Enrolment, signed catalog, submission ingest, attachments and case "
        "status for Tongban terminals. Errors are RFC 9457 problem+json. See "
        "docs/protocol.md.",
        responses=_PROBLEMS,
    )
    app.state.platform = Platform(
        data_dir=data_dir,
        store=store,
        keys=keys,
        ingest=Ingest(store, keys),
        uploads=AttachmentUploads(data_dir, store, keys),
        catalog=published,
        hall=HallStore(store),
    )
    install_problem_handlers(app)
    app.add_middleware(BodyLimitMiddleware, limits=BODY_LIMITS, default=DEFAULT_BODY_LIMIT)
    _install_routes(app)
    install_hall_routes(app)
    _install_openapi(app)
    log.info("Central platform ready over %s (catalog %s)", data_dir, published.version[:12])
    return app
