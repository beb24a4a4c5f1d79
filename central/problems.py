"""RFC 9457 problem details: every error the platform answers is ``application/problem+json``.

Handlers cover the platform's own :class:`ProblemError`, request validation (422 with the
fields named), HTTP errors from routing (404, 405) and anything unexpected (500, logged,
with no internals in the answer).
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from sync.protocol import PROBLEM_CONTENT_TYPE, FieldError, Problem, ProblemCode

log = logging.getLogger(__name__)

_CODE_BY_STATUS = {
    400: "bad_request",
    401: ProblemCode.UNAUTHORIZED,
    403: "forbidden",
    404: ProblemCode.NOT_FOUND,
    405: ProblemCode.METHOD_NOT_ALLOWED,
    413: ProblemCode.PAYLOAD_TOO_LARGE,
    422: ProblemCode.VALIDATION_ERROR,
    500: ProblemCode.INTERNAL_ERROR,
}


class ProblemError(Exception):
    """Raise anywhere in a request to answer with a problem."""

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        title: str | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title
        self.headers = headers or {}
        self.extensions = extensions


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_doc(description: str) -> dict[str, Any]:
    """OpenAPI for a problem+json answer (a route's ``responses={status: ...}``)."""
    return {
        "description": description,
        "content": {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
    }


def problem_response(
    status: int,
    code: str,
    detail: str | None,
    *,
    title: str | None = None,
    instance: str | None = None,
    headers: dict[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A ``application/problem+json`` answer."""
    problem = Problem(
        type=ProblemCode.type_uri(code),
        title=title or _phrase(status),
        status=status,
        detail=detail,
        instance=instance,
        code=code,
        **extensions,
    )
    return JSONResponse(
        problem.model_dump(mode="json", exclude_none=True),
        status_code=status,
        media_type=PROBLEM_CONTENT_TYPE,
        headers=headers,
    )


async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.code,
        exc.detail,
        title=exc.title,
        instance=request.url.path,
        headers=exc.headers,
        **exc.extensions,
    )


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        FieldError(
            field=".".join(str(p) for p in e.get("loc", ()) if p != "body") or "(body)",
            code=str(e.get("type", "invalid")),
            message=str(e.get("msg", "")),
        )
        for e in exc.errors()
    ]
    fields = ", ".join(e.field for e in errors[:10])
    return problem_response(
        422,
        ProblemCode.VALIDATION_ERROR,
        f"the request does not match the protocol: {fields}",
        instance=request.url.path,
        errors=errors,
    )


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _CODE_BY_STATUS.get(exc.status_code, f"http_{exc.status_code}")
    detail = exc.detail if isinstance(exc.detail, str) else None
    if exc.status_code == 404 and detail == "Not Found":
        detail = f"no such endpoint: {request.method} {request.url.path}"
    return problem_response(
        exc.status_code,
        code,
        detail,
        instance=request.url.path,
        headers=dict(exc.headers or {}),
    )


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("Unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        500,
        ProblemCode.INTERNAL_ERROR,
        "the platform failed on this request; it is logged. Retry later.",
        instance=request.url.path,
    )


async def _on_text_not_storable(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(422, ProblemCode.VALIDATION_ERROR, str(exc), instance=request.url.path)


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` a problem+json answer."""
    from central.store import TextNotStorable

    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(TextNotStorable, _on_text_not_storable)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(Exception, _on_unexpected)
