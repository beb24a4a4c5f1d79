"""The HTTP client for the central platform: safe URLs, verified TLS, classified failures.

Every way a request can fail ends in exactly one of two exceptions, so the sync engine
never has to reason about sockets or status codes:

- :class:`RetryableError`: try again later with backoff. Network errors (refused, reset,
  timed out), 408, 429, every 5xx, and answers that arrive broken (cut short, not JSON,
  not the expected shape). ``retry_after`` carries the server's ``Retry-After`` if any.
- :class:`PermanentError`: sending the same request again cannot succeed. Every other
  4xx, with the RFC 9457 problem+json ``title``/``detail`` the platform gave; redirects;
  TLS certificates that fail verification.

One failure is handled here rather than passed on: a read (GET, HEAD) sent on a pooled
keep-alive connection that the server closed or reset before answering is sent once more
on a new connection, so a crossed idle timeout does not cost a whole sync cycle. Writes are
never sent twice by the client; the sync engine's next cycle sends them again.

Plain ``http://`` is refused for every host but loopback unless ``allow_insecure_http`` is
set; TLS certificates are verified against the system CAs or a pinned CA bundle. The
device credential travels only in the ``Authorization`` header and is never logged, nor
are request or answer bodies (they may carry personal data, sealed or not).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import requests
from pydantic import BaseModel, ValidationError

from sync import protocol
from sync.backoff import parse_retry_after

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
# Answers larger than this are refused as broken rather than read into memory.
DEFAULT_MAX_ANSWER_BYTES = 64 * 1024 * 1024
_RETRYABLE_STATUS = frozenset({408, 425, 429})
_USER_AGENT = "tongban-kiosk/1"

M = TypeVar("M", bound=BaseModel)


class ClientError(Exception):
    """A request to the central platform failed; see the two subclasses."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class RetryableError(ClientError):
    """A failure that may go away by itself: retry later, with backoff."""

    def __init__(
        self, message: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.retry_after = retry_after


class PermanentError(ClientError):
    """A refusal that resending the same request cannot change.

    Attributes:
        problem: the RFC 9457 problem document the platform sent (may be empty).
    """

    def __init__(
        self, message: str, *, status: int | None = None, problem: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(message, status=status)
        self.problem: dict[str, Any] = dict(problem or {})

    @property
    def is_auth_failure(self) -> bool:
        """True for 401/403: the device credential is missing, wrong or revoked."""
        return self.status in (401, 403)


class InsecureUrlError(ValueError):
    """The central platform's address is not safe to use (or not an address at all)."""


@dataclass(frozen=True)
class Answer:
    """A successful (2xx or 304) answer from the central platform."""

    status: int
    headers: Mapping[str, str]
    body: bytes = field(repr=False)

    def json(self) -> Any:
        """The body parsed as JSON.

        Raises:
            RetryableError: the body is not valid JSON (cut short or garbled on the way).
        """
        try:
            return json.loads(self.body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RetryableError(
                f"the central platform's answer is not valid JSON ({len(self.body)} bytes)",
                status=self.status,
            ) from exc

    @property
    def etag(self) -> str | None:
        """The ``ETag`` header, if any."""
        return self.headers.get("ETag")


def is_loopback_host(host: str) -> bool:
    """True for ``localhost``, 127.0.0.0/8 and ``::1`` (the only hosts plain http may reach)."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_base_url(url: str, *, allow_insecure_http: bool = False) -> str:
    """Validate the central platform's base URL and return it without a trailing slash.

    Raises:
        InsecureUrlError: not http(s), no host, credentials or a query in the URL, or plain
            http to a host that is not loopback while ``allow_insecure_http`` is off.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError for a non-numeric port
    except ValueError as exc:
        raise InsecureUrlError(f"{url!r} is not a valid address: {exc}") from exc
    del port
    if parts.scheme not in ("http", "https"):
        raise InsecureUrlError(
            f"{url!r} is not an http:// or https:// address of the central platform"
        )
    if not parts.hostname:
        raise InsecureUrlError(f"{url!r} has no host name")
    if parts.username or parts.password:
        raise InsecureUrlError(
            "the central platform's address must not contain a user name or password"
        )
    if parts.query or parts.fragment:
        raise InsecureUrlError(f"{url!r} must not have a query (?...) or fragment (#...)")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname) and not allow_insecure_http:
        raise InsecureUrlError(
            f"refusing plain http:// to {parts.hostname}: personal data must travel over "
            "https://. Use an https:// address, or set [central] allow_insecure_http = true "
            "(test halls only)."
        )
    return url.strip().rstrip("/")


class CentralClient:
    """A small, strict client for the central platform's JSON API.

    Args:
        base_url: the platform's address, e.g. ``https://central.example.gov.cn``.
        token: the device credential from enrolment (sent as a bearer token).
        ca_bundle: a PEM file of CAs to trust instead of the system's (certificate pinning).
        allow_insecure_http: allow plain http:// to hosts other than loopback.
        connect_timeout: seconds to wait for a connection.
        read_timeout: seconds to wait between bytes of an answer.
        max_answer_bytes: answers larger than this are treated as broken.
    """

    def __init__(
        self,
        base_url: str,
        *,
        token: str | None = None,
        ca_bundle: str | Path | None = None,
        allow_insecure_http: bool = False,
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_answer_bytes: int = DEFAULT_MAX_ANSWER_BYTES,
    ) -> None:
        self.base_url = check_base_url(base_url, allow_insecure_http=allow_insecure_http)
        self._token = token
        self.timeout = (connect_timeout, read_timeout)
        self.max_answer_bytes = max_answer_bytes
        self._session = requests.Session()
        if ca_bundle is not None and str(ca_bundle):
            bundle = Path(ca_bundle)
            if not bundle.is_file():
                raise FileNotFoundError(
                    f"pinned CA bundle {bundle} does not exist; fix [central] ca_bundle"
                )
            self._verify: bool | str = str(bundle)
        else:
            self._verify = True
        self._session.headers["User-Agent"] = _USER_AGENT
        self._session.headers["Accept"] = "application/json, application/problem+json"

    def __repr__(self) -> str:  # never show the token
        return f"CentralClient({self.base_url!r})"

    @property
    def has_token(self) -> bool:
        """Whether a device credential is set."""
        return bool(self._token)

    def set_token(self, token: str | None) -> None:
        """Use ``token`` as the device credential from now on."""
        self._token = token

    def close(self) -> None:
        """Close pooled connections."""
        self._session.close()

    def __enter__(self) -> CentralClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- the protocol, one method per endpoint ------------------------------------------

    def health(self) -> protocol.Health:
        """``GET /v1/health`` (no credential needed)."""
        return parse_answer(self.get(f"{protocol.API_PREFIX}/health", auth=False), protocol.Health)

    def enrol(self, code: str, *, device_name: str | None = None) -> protocol.EnrolResponse:
        """``POST /v1/enrol``: exchange a one-time code for this device's credential."""
        body = protocol.EnrolRequest(code=code, device_name=device_name)
        answer = self.post_json(
            f"{protocol.API_PREFIX}/enrol", body.model_dump(mode="json"), auth=False
        )
        return parse_answer(answer, protocol.EnrolResponse)

    def push_batch(self, items: list[protocol.SubmissionItem]) -> protocol.BatchResponse:
        """``POST /v1/submissions/batch``; the answer has exactly one result per item.

        Raises:
            RetryableError: also when the answer's results do not match the items one to
                one (a garbled answer must never mark the wrong item as delivered).
        """
        body = protocol.BatchRequest(items=items).model_dump(mode="json")
        answer = self.post_json(f"{protocol.API_PREFIX}/submissions/batch", body)
        result = parse_answer(answer, protocol.BatchResponse)
        sent = [item.submission_id for item in items]
        got = [r.submission_id for r in result.results]
        if sent != got:
            raise RetryableError(
                f"the batch answer does not match the batch ({len(got)} results for "
                f"{len(sent)} items)",
                status=answer.status,
            )
        return result

    def get_catalog(
        self, etag: str | None = None
    ) -> tuple[protocol.CatalogBundle, str | None] | None:
        """``GET /v1/catalog``: the signed bundle and its ETag, or None on 304.

        The bundle is *not* verified here; see :mod:`sync.catalog_update`.
        """
        headers = {"If-None-Match": etag} if etag else None
        answer = self.get(f"{protocol.API_PREFIX}/catalog", headers=headers)
        if answer.status == 304:
            return None
        return parse_answer(answer, protocol.CatalogBundle), answer.etag

    def status_changes(
        self, since: int, limit: int = protocol.DEFAULT_STATUS_PAGE
    ) -> protocol.StatusPage:
        """``GET /v1/status?since=&limit=``: case status changes after cursor ``since``."""
        answer = self.get(f"{protocol.API_PREFIX}/status", params={"since": since, "limit": limit})
        return parse_answer(answer, protocol.StatusPage)

    def lookup_receipt(self, receipt_no: str) -> protocol.ReceiptLookup:
        """``GET /v1/receipts/{receipt_no}``: any receipt's case and status."""
        path = f"{protocol.API_PREFIX}/receipts/{path_segment(receipt_no)}"
        return parse_answer(self.get(path), protocol.ReceiptLookup)

    # --- the hall ------------------------------------------------------------------------

    def _push_records(self, path: str, body: BaseModel, ids: list[str]) -> protocol.RecordBatchResponse:
        answer = self.post_json(f"{protocol.API_PREFIX}/{path}", body.model_dump(mode="json"))
        result = parse_answer(answer, protocol.RecordBatchResponse)
        if [r.id for r in result.results] != ids:
            raise RetryableError(
                f"the {path} answer does not match the batch ({len(result.results)} results for "
                f"{len(ids)} items)",
                status=answer.status,
            )
        return result

    def push_checkins(self, items: list[protocol.CheckinItem]) -> protocol.RecordBatchResponse:
        """``POST /v1/checkins/batch``; one result per item, in order."""
        return self._push_records(
            "checkins/batch", protocol.CheckinBatch(items=items), [i.checkin_id for i in items]
        )

    def push_ratings(self, items: list[protocol.RatingItem]) -> protocol.RecordBatchResponse:
        """``POST /v1/ratings/batch``; one result per item, in order."""
        return self._push_records(
            "ratings/batch", protocol.RatingBatch(items=items), [str(i.rating_id) for i in items]
        )

    def push_audit(self, items: list[protocol.AuditItem]) -> protocol.RecordBatchResponse:
        """``POST /v1/audit/batch``; one result per item, in order."""
        return self._push_records(
            "audit/batch", protocol.AuditBatch(items=items), [str(i.seq) for i in items]
        )

    def used_appointments(self, since: int, limit: int = 500) -> protocol.UsedAppointmentsPage:
        """``GET /v1/appointments/used?since=&limit=``: the hall's used appointments."""
        answer = self.get(
            f"{protocol.API_PREFIX}/appointments/used", params={"since": since, "limit": limit}
        )
        return parse_answer(answer, protocol.UsedAppointmentsPage)

    def raise_help_request(self, request: protocol.HelpRequestCreate) -> protocol.HelpRequest:
        """``POST /v1/help-requests`` (idempotent by ``request_id``)."""
        answer = self.post_json(
            f"{protocol.API_PREFIX}/help-requests", request.model_dump(mode="json")
        )
        return parse_answer(answer, protocol.HelpRequest)

    def open_help_requests(self) -> list[protocol.HelpRequest]:
        """``GET /v1/help-requests``: the hall's open requests, oldest first."""
        answer = self.get(f"{protocol.API_PREFIX}/help-requests")
        return parse_answer(answer, protocol.HelpRequestList).requests

    def acknowledge_help_request(self, request_id: str, staff: str) -> protocol.HelpRequest:
        """``POST /v1/help-requests/{id}/ack``: a staff member takes the request."""
        answer = self.post_json(
            f"{protocol.API_PREFIX}/help-requests/{path_segment(request_id)}/ack",
            protocol.HelpAcknowledge(staff=staff).model_dump(mode="json"),
        )
        return parse_answer(answer, protocol.HelpRequest)

    # --- requests ---------------------------------------------------------------------

    def get(
        self,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
    ) -> Answer:
        """GET ``path``; see :meth:`request`."""
        return self.request("GET", path, params=params, headers=headers, auth=auth)

    def post_json(
        self,
        path: str,
        body: Any,
        *,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
    ) -> Answer:
        """POST ``body`` as JSON to ``path``; see :meth:`request`."""
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        all_headers = {"Content-Type": "application/json", **(headers or {})}
        return self.request("POST", path, data=data, headers=all_headers, auth=auth)

    def put_bytes(
        self,
        path: str,
        data: bytes,
        *,
        content_type: str = "application/octet-stream",
        headers: Mapping[str, str] | None = None,
    ) -> Answer:
        """PUT raw bytes to ``path`` (attachment upload); see :meth:`request`."""
        all_headers = {"Content-Type": content_type, **(headers or {})}
        return self.request("PUT", path, data=data, headers=all_headers)

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        auth: bool = True,
    ) -> Answer:
        """Send one request and return the 2xx/304 answer.

        Args:
            path: the path below the base URL, starting with ``/``.
            auth: send the device credential (off only for enrolment).

        Raises:
            RetryableError: network failure, 408/425/429/5xx, or a broken answer.
            PermanentError: any other refusal (401/403, other 4xx, redirects, TLS).
        """
        if not path.startswith("/"):
            raise ValueError(f"path must start with '/': {path!r}")
        url = self.base_url + path
        all_headers = dict(headers or {})
        if auth and self._token:
            all_headers["Authorization"] = f"Bearer {self._token}"
        started = time.monotonic()
        try:
            try:
                response = self._send(method, url, params, data, all_headers)
            except requests.exceptions.ConnectionError as exc:
                # A pooled keep-alive connection the server had just closed: the request
                # never reached it. A read-only request is sent once more on a new
                # connection rather than costing the whole sync cycle.
                if method not in _SAFE_METHODS or not _dropped_without_answer(exc):
                    raise
                log.info("%s %s: connection dropped without an answer; sending it once more", method, path)
                response = self._send(method, url, params, data, all_headers)
        except requests.exceptions.SSLError as exc:
            log.warning("%s %s: TLS verification failed", method, path)
            raise PermanentError(
                "the central platform's TLS certificate could not be verified "
                f"({_short(exc)}); check the address and [central] ca_bundle"
            ) from exc
        except requests.exceptions.InvalidURL as exc:
            raise PermanentError(f"invalid address for the central platform: {exc}") from exc
        except requests.exceptions.RequestException as exc:
            # ConnectionError, Timeout, ChunkedEncodingError, ...: the network, not the data.
            log.info("%s %s: network error %s", method, path, type(exc).__name__)
            raise RetryableError(f"network error: {_short(exc)}") from exc

        try:
            body = self._read_body(response)
        finally:
            response.close()
        elapsed = time.monotonic() - started
        status = response.status_code
        log.debug("%s %s -> %s in %.3fs (%d bytes)", method, path, status, elapsed, len(body))
        answer = Answer(status=status, headers=response.headers, body=body)
        if 200 <= status < 300 or status == 304:
            return answer
        raise _classify_status(method, path, answer)

    def _send(
        self,
        method: str,
        url: str,
        params: Mapping[str, Any] | None,
        data: bytes | None,
        headers: Mapping[str, str],
    ) -> requests.Response:
        return self._session.request(
            method,
            url,
            params=params,
            data=data,
            headers=headers,
            timeout=self.timeout,
            allow_redirects=False,
            stream=True,
            # Per request, not on the session: requests lets REQUESTS_CA_BUNDLE and
            # CURL_CA_BUNDLE override a session's verify, which would undo the pin.
            verify=self._verify,
        )

    def _read_body(self, response: requests.Response) -> bytes:
        """Read the whole answer, bounded; a cut-short answer is a retryable error."""
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(chunk_size=65536):
                size += len(chunk)
                if size > self.max_answer_bytes:
                    raise RetryableError(
                        f"the central platform's answer exceeds {self.max_answer_bytes} bytes",
                        status=response.status_code,
                    )
                chunks.append(chunk)
        except requests.exceptions.RequestException as exc:
            # IncompleteRead (ChunkedEncodingError), reset or timeout while reading the body.
            log.info("answer from the central platform was cut short: %s", type(exc).__name__)
            raise RetryableError(
                f"the answer was cut short: {_short(exc)}", status=response.status_code
            ) from exc
        return b"".join(chunks)


def parse_answer(answer: Answer, model: type[M]) -> M:
    """Parse an answer's JSON body as ``model``.

    Raises:
        RetryableError: the body is not JSON or not the expected shape; an answer that
            arrives garbled is a network fault, not a verdict on what we sent.
    """
    data = answer.json()
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RetryableError(
            f"the central platform's answer is not a valid {model.__name__} "
            f"({exc.error_count()} problems)",
            status=answer.status,
        ) from exc


def _classify_status(method: str, path: str, answer: Answer) -> ClientError:
    """Turn a non-2xx answer into the matching exception (returned, not raised)."""
    status = answer.status
    problem = _problem_of(answer)
    summary = _problem_text(status, problem)
    if status in _RETRYABLE_STATUS or status >= 500:
        retry_after = parse_retry_after(answer.headers.get("Retry-After"))
        log.info("%s %s: retryable answer %s", method, path, status)
        return RetryableError(summary, status=status, retry_after=retry_after)
    if 300 <= status < 400:
        location = answer.headers.get("Location", "?")
        log.warning("%s %s: redirected (%s)", method, path, status)
        return PermanentError(
            f"the central platform redirects to {location}; set that address instead",
            status=status,
        )
    log.warning("%s %s: refused with %s", method, path, status)
    return PermanentError(summary, status=status, problem=problem)


def _problem_of(answer: Answer) -> dict[str, Any]:
    """The problem+json document of an error answer, or {} if it has none."""
    content_type = answer.headers.get("Content-Type", "")
    if "json" not in content_type:
        return {}
    try:
        data = json.loads(answer.body)
    except (ValueError, UnicodeDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def _problem_text(status: int, problem: Mapping[str, Any]) -> str:
    """One line for staff: "HTTP 422 Unprocessable: the detail"."""
    title = str(problem.get("title") or "").strip()
    detail = problem.get("detail")
    if detail is not None and not isinstance(detail, str):
        # FastAPI validation errors put a list here; keep it short and readable.
        detail = json.dumps(detail, ensure_ascii=False)
    text = f"HTTP {status}"
    if title:
        text += f" {title}"
    if detail:
        text += f": {str(detail).strip()}"
    return text[:500]


_SAFE_METHODS = frozenset({"GET", "HEAD"})


def _dropped_without_answer(exc: BaseException) -> bool:
    """Whether the server closed or reset the connection before any byte of an answer.

    That is how a keep-alive connection the server closed while idle fails on reuse. A
    refused or timed-out connection is not this: sending again at once would not help.
    """
    if isinstance(exc, requests.exceptions.Timeout):
        return False
    seen: set[int] = set()
    pending: list[object] = [exc]
    while pending:
        item = pending.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        # http.client.RemoteDisconnected (closed without an answer) is a ConnectionResetError.
        if isinstance(item, ConnectionResetError | BrokenPipeError):
            return True
        if isinstance(item, ConnectionRefusedError | TimeoutError):
            return False
        pending.extend([item.__cause__, item.__context__, *item.args])
    return False


_NETWORK_CAUSES = (
    ("Connection refused", "connection refused"),
    ("Connection reset", "connection reset"),
    ("RemoteDisconnected", "connection closed without an answer"),
    ("closed connection without response", "connection closed without an answer"),
    ("IncompleteRead", "answer cut short"),
    ("Response ended prematurely", "answer cut short"),
    ("Name or service not known", "host name not found"),
    ("NameResolutionError", "host name not found"),
    ("No route to host", "no route to host"),
    ("Network is unreachable", "network unreachable"),
    ("certificate verify failed", "certificate verify failed"),
    ("Broken pipe", "connection broken"),
)


def _short(exc: BaseException) -> str:
    """A short, bounded description of a network exception (no bodies, no headers)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return "timed out connecting"
    if isinstance(exc, requests.exceptions.ReadTimeout):
        return "timed out waiting for the answer"
    text = str(exc)
    for needle, words in _NETWORK_CAUSES:
        if needle in text:
            return words
    first = text.splitlines()[0] if text else type(exc).__name__
    return first[:160]


def path_segment(value: str) -> str:
    """Quote ``value`` for use as one path segment (ids from the network are untrusted)."""
    return quote(value, safe="")
