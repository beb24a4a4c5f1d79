"""schemathesis against the central platform's own OpenAPI: the API fuzz target.

Every operation the platform declares is called with requests generated from its schema,
both valid ones (positive) and ones that break it (negative), with a real device token so
that authenticated routes get past authentication. Each answer is checked:

- no 5xx and no unhandled exception (``not_a_server_error``);
- the status code, content type, headers and body are the ones the schema declares;
- a request that breaks the schema is refused with a 4xx (``negative_data_rejection``);
- every error is RFC 9457 problem+json.

``POST /v1/submissions/batch`` judges each item on its own (one bad item never blocks the
rest, see docs/protocol.md): a batch with a malformed item is answered 200 with that item
rejected, so there the negative check is replaced by "one result per item".

Used by ``tests/central/test_api_fuzz.py`` (few examples) and ``bench/fuzz.py`` (many).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from sync.protocol import PROBLEM_CONTENT_TYPE

log = logging.getLogger(__name__)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
PER_ITEM_BATCH = "POST /v1/submissions/batch"


@dataclass
class ApiFuzzReport:
    """What one run sent and found. ``failures`` maps a distinct failure to its count."""

    operations: int = 0
    requests: int = 0
    seconds: float = 0.0
    failures: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def describe_failures(self) -> str:
        """Every distinct failure with one reproducing request, for an assertion message."""
        return "\n\n".join(f"{key} (x{count})\n{self.examples[key]}" for key, count in self.failures.items())


def _problem_json(case: Any, response: Any) -> tuple[str, str] | None:
    if response.status_code < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    if content_type.startswith(PROBLEM_CONTENT_TYPE):
        return None
    return (
        f"error not problem+json [{response.status_code}]",
        f"{case.method} {case.formatted_path}: {content_type or 'no content type'}",
    )


def _per_item_answer(case: Any, response: Any) -> tuple[str, str] | None:
    body = case.body if isinstance(case.body, dict) else None
    if response.status_code != 200 or body is None or not isinstance(body.get("items"), list):
        return None
    results = response.json().get("results", [])
    if len(results) == len(body["items"]):
        return None
    return "items and results differ in number", f"{len(body['items'])} items, {len(results)} results"


def _caller(report: ApiFuzzReport, token: str, label: str, checks: list[Any]) -> Callable[[Any], None]:
    """The hypothesis test body for one operation: call, check, record what failed."""

    def call(case: Any) -> None:
        report.requests += 1
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        found: list[tuple[str, str]] = []
        try:
            response = case.call()
        except Exception as exc:  # the app raised: a 500 in production
            found.append((f"unhandled {type(exc).__name__}", f"{exc}\n{case.body!r:.400}"))
        else:
            try:
                case.validate_response(response, checks=checks)
            except (AssertionError, BaseExceptionGroup) as exc:
                for failure in getattr(exc, "exceptions", [exc]):
                    title = getattr(failure, "title", type(failure).__name__)
                    found.append((f"{title} [{response.status_code}]", str(failure)))
            for check in (_problem_json, _per_item_answer):
                problem = check(case, response)
                if problem is not None:
                    found.append(problem)
        for key, text in found:
            key = f"{label}: {key}"
            report.failures[key] += 1
            report.examples.setdefault(key, text[:2000])

    return call


def fuzz_api(app: FastAPI, token: str, *, examples: int, seed: int | None = None) -> ApiFuzzReport:
    """Run every operation of ``app``'s OpenAPI ``examples`` times positive and negative.

    ``token`` is a device token from ``POST /v1/enrol``. Failures are collected, not
    raised, so one run reports every distinct failure it met.
    """
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    report = ApiFuzzReport()
    started = time.perf_counter()
    for result in schema.get_all_operations():
        operation = result.ok()
        report.operations += 1
        label = operation.label
        checks = CHECKS
        if label == PER_ITEM_BATCH:
            checks = [c for c in CHECKS if c is not negative_data_rejection]
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            call = _caller(report, token, label, checks)
            test = given(case=operation.as_strategy(generation_mode=mode))(call)
            test = settings(
                max_examples=examples,
                deadline=None,
                database=None,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )(test)
            if seed is not None:
                test = hypothesis_seed(seed)(test)
            try:
                test()
            except Unsatisfiable:  # e.g. no way to break GET /v1/health's empty request
                log.debug("no %s requests for %s", mode.value, label)
    report.seconds = time.perf_counter() - started
    return report
