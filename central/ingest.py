"""Batch ingest of submissions: dedupe, open, validate, check attachments, store.

Each item is judged on its own and gets its own :class:`~sync.protocol.ItemResult`; one bad
item never stops the others. The order of checks:

1. A submission id stored before answers ``duplicate`` with the stored case number, before
   anything else is looked at (a replay must never turn into a rejection).
2. The item must parse as a :class:`~sync.protocol.SubmissionItem` (``item_invalid``).
3. The named (service, form version) must have been published.
4. The sealed payload must open with the platform's key and the submission id as context,
   and hold ``{"answers": {...}}``.
5. The answers must match the version's payload JSON Schema, then pass the forms engine's
   :func:`forms.validate_answers` with the date the citizen submitted as "today".
6. Every attachment the item lists or the answers refer to must be uploaded and verified
   (``attachment_missing`` is retryable). Test submissions skip this: their example answers
   refer to placeholder files.

Items that pass are stored together in one transaction, which assigns the case numbers.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jsonschema
from pydantic import ValidationError

from central.keys import PlatformKeys
from central.sql_store import CASE_TZ
from central.store import CentralStore, Device, NewSubmission, SubmissionRecord
from sync.protocol import (
    FieldError,
    ItemResult,
    ItemStatus,
    RejectReason,
    SubmissionItem,
    b64decode,
)
from sync.sealing import SealError, open_sealed

log = logging.getLogger(__name__)

_SHA256_LEN = 64

# jsonschema keyword -> the forms engine's message code (so terminals show one vocabulary)
_SCHEMA_CODES = {
    "required": "required",
    "minLength": "too_short",
    "maxLength": "too_long",
    "pattern": "pattern",
    "format": "pattern",
    "enum": "not_option",
    "const": "not_option",
    "minimum": "below_min",
    "exclusiveMinimum": "below_min",
    "maximum": "above_max",
    "exclusiveMaximum": "above_max",
    "minItems": "too_few_selected",
    "maxItems": "too_many_selected",
    "uniqueItems": "not_option",
    "additionalProperties": "unknown_field",
    "not": "not_applicable",
    "type": "wrong_type",
}


class ItemRejected(Exception):
    """An item failed a check; carries what the terminal is told."""

    def __init__(
        self,
        reason: str,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        retryable: bool = False,
    ) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.errors = errors or []
        self.retryable = retryable


@dataclass(frozen=True)
class FormChecker:
    """A published form version, ready to validate answers."""

    definition: Any  # forms.ServiceDefinition
    validator: jsonschema.protocols.Validator
    # Compiled yes/no check; the interpreted validator above only runs to name the errors.
    accepts: Callable[[Any], bool]


def _is_sha256(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) == _SHA256_LEN
        and all(c in "0123456789abcdef" for c in value)
    )


def referenced_attachments(answers: Any) -> Iterator[str]:
    """Every attachment hash the answers refer to (objects with a ``sha256`` member)."""
    if isinstance(answers, dict):
        if _is_sha256(answers.get("sha256")):
            yield answers["sha256"]
        for value in answers.values():
            yield from referenced_attachments(value)
    elif isinstance(answers, list):
        for value in answers:
            yield from referenced_attachments(value)


def _schema_errors(validator: jsonschema.protocols.Validator, answers: Any) -> list[FieldError]:
    """The schema's complaints, named by field, without echoing any submitted value."""
    result: list[FieldError] = []
    seen: set[tuple[str, str]] = set()
    for error in validator.iter_errors(answers):
        path = [str(p) for p in error.absolute_path]
        code = _SCHEMA_CODES.get(str(error.validator), f"schema_{error.validator}")
        names: list[str]
        if path:
            names = [path[0]]  # a problem inside one answer
        elif error.validator == "required" and isinstance(error.instance, dict):
            names = [str(n) for n in error.validator_value if n not in error.instance]
        elif error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {}) if isinstance(error.schema, dict) else {}
            names = [str(n) for n in error.instance if n not in known]
        elif error.validator == "not" and isinstance(error.validator_value, dict):
            names = [str(n) for n in error.validator_value.get("required", [])]
        else:
            names = []
        message = f"fails the '{error.validator}' rule of the form's schema"
        if len(path) > 1:
            message += " at " + ".".join(path[1:])
        for name in names or [""]:
            if (name, code) not in seen:
                seen.add((name, code))
                result.append(FieldError(field=name, code=code, message=message))
    return result


class Ingest:
    """Judges and stores batches of submissions for one platform."""

    def __init__(self, store: CentralStore, keys: PlatformKeys) -> None:
        self._store = store
        self._keys = keys
        self._checkers: dict[tuple[str, str], FormChecker] = {}
        self._lock = threading.Lock()

    def _checker(self, service_id: str, form_version: str) -> FormChecker:
        key = (service_id, form_version)
        with self._lock:
            cached = self._checkers.get(key)
        if cached is not None:
            return cached
        record = self._store.form_definition(service_id, form_version)
        if record is None:
            if self._store.service_known(service_id):
                raise ItemRejected(
                    RejectReason.UNKNOWN_FORM_VERSION,
                    f"form version {form_version!r} of service {service_id!r} was never published",
                )
            raise ItemRejected(
                RejectReason.UNKNOWN_SERVICE, f"service {service_id!r} was never published"
            )
        from forms import ServiceDefinition, payload_schema
        from forms.payload import compile_payload_check

        definition = ServiceDefinition.from_raw(record.definition)
        schema = payload_schema(definition)
        validator_class = jsonschema.validators.validator_for(schema)
        checker = FormChecker(
            definition=definition,
            validator=validator_class(schema, format_checker=validator_class.FORMAT_CHECKER),
            accepts=compile_payload_check(definition),
        )
        with self._lock:
            self._checkers[key] = checker
        return checker

    def _open(self, item: SubmissionItem) -> tuple[dict[str, Any], str | None]:
        try:
            sealed = b64decode(item.sealed_payload)
            plaintext = open_sealed(
                self._keys.sealing_private, sealed, context=item.submission_id.encode("utf-8")
            )
        except (ValueError, SealError) as exc:
            raise ItemRejected(
                RejectReason.SEALED_PAYLOAD_INVALID,
                f"sealed payload does not open: {exc} (sealed to another platform's key, "
                "bound to another submission id, or altered)",
            ) from exc
        try:
            payload = json.loads(plaintext.decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise ItemRejected(
                RejectReason.PAYLOAD_INVALID, "sealed payload is not UTF-8 JSON"
            ) from exc
        if not isinstance(payload, dict) or not isinstance(payload.get("answers"), dict):
            raise ItemRejected(
                RejectReason.PAYLOAD_INVALID, 'sealed payload is not {"answers": {...}}'
            )
        meta = payload.get("meta") or {}
        agent_id = meta.get("agent_id") if isinstance(meta, dict) else None
        if agent_id is not None and not isinstance(agent_id, str):
            raise ItemRejected(RejectReason.PAYLOAD_INVALID, "sealed meta.agent_id is not text")
        # The sealed meta is the authority (the citizen's data and the agent are sealed
        # together); the clear wire field must agree with it, never replace it.
        if (item.agent_id or None) != (agent_id or None):
            raise ItemRejected(
                RejectReason.PAYLOAD_INVALID,
                "agent_id on the item differs from the one sealed in the payload",
            )
        return payload["answers"], agent_id

    def _validate(self, checker: FormChecker, item: SubmissionItem, answers: dict[str, Any]) -> None:
        errors = [] if checker.accepts(answers) else _schema_errors(checker.validator, answers)
        if not errors:
            from forms import validate_answers

            today = item.created_at.astimezone(CASE_TZ).date()
            errors = [
                FieldError(field=m.field_id, code=m.code, message=m.text("en"))
                for m in validate_answers(checker.definition, answers, today=today)
            ]
        if errors:
            names = ", ".join(sorted({e.field or "(answers)" for e in errors}))
            raise ItemRejected(
                RejectReason.ANSWERS_INVALID,
                f"answers do not fit {item.service_id} v{item.form_version}: {names}",
                errors=errors,
            )

    def _check_attachments(self, item: SubmissionItem, answers: dict[str, Any]) -> list[str]:
        needed = sorted(set(item.attachments) | set(referenced_attachments(answers)))
        if item.is_test:
            return sorted(set(item.attachments))
        missing = sorted(set(needed) - self._store.complete_attachments(needed))
        if missing:
            raise ItemRejected(
                RejectReason.ATTACHMENT_MISSING,
                f"{len(missing)} attachment(s) not uploaded yet: "
                + ", ".join(h[:12] for h in missing),
                errors=[
                    FieldError(field=h, code="attachment_missing", message="not uploaded")
                    for h in missing
                ],
                retryable=True,
            )
        return needed

    def _judge(
        self, device: Device, item: SubmissionItem, now: datetime
    ) -> NewSubmission:
        checker = self._checker(item.service_id, item.form_version)
        answers, agent_id = self._open(item)
        self._validate(checker, item, answers)
        attachments = self._check_attachments(item, answers)
        return NewSubmission(
            submission_id=item.submission_id,
            service_id=item.service_id,
            form_version=item.form_version,
            receipt_no=item.receipt_no,
            device_id=device.device_id,
            site_code=device.site_code,
            created_at=item.created_at.astimezone(UTC),
            received_at=now,
            is_test=item.is_test,
            answers=answers,
            attachments=tuple(attachments),
            agent_id=agent_id,
        )

    def ingest(self, device: Device, raw_items: list[Any]) -> list[ItemResult]:
        """Judge and store a batch; one result per raw item, in the same order."""
        now = datetime.now(UTC)
        results: list[ItemResult | None] = [None] * len(raw_items)
        pending: list[tuple[int, NewSubmission]] = []
        pending_ids: set[str] = set()
        ids = [_raw_id(raw) for raw in raw_items]
        known = self._store.existing_submissions(sorted({i for i in ids if i}))
        for index, raw in enumerate(raw_items):
            submission_id = ids[index]
            try:
                if submission_id:
                    existing = known.get(submission_id)
                    if existing is not None:
                        results[index] = _duplicate(existing)
                        continue
                    if submission_id in pending_ids:
                        continue  # the same id earlier in this batch: answered after storing
                item = _parse(raw)
                new = self._judge(device, item, now)
            except ItemRejected as rejected:
                results[index] = _rejected(submission_id, rejected)
                log.info(
                    "Rejected submission %s from device %s: %s",
                    submission_id or "(no id)", device.device_id, rejected.reason,
                )
                continue
            except Exception:
                log.exception("Failed on submission %s", submission_id or "(no id)")
                results[index] = _rejected(
                    submission_id,
                    ItemRejected(
                        RejectReason.INTERNAL_ERROR,
                        "the platform failed on this item; it is logged, send it again later",
                        retryable=True,
                    ),
                )
                continue
            pending.append((index, new))
            pending_ids.add(new.submission_id)
        outcomes = self._store.insert_submissions([new for _, new in pending])
        stored: dict[str, SubmissionRecord] = {}
        for (index, new), outcome in zip(pending, outcomes, strict=True):
            if outcome.receipt_conflict or outcome.record is None:
                results[index] = _rejected(
                    new.submission_id,
                    ItemRejected(
                        RejectReason.RECEIPT_NO_CONFLICT,
                        f"receipt number {new.receipt_no} belongs to another submission",
                    ),
                )
                continue
            stored[new.submission_id] = outcome.record
            if outcome.created:
                results[index] = ItemResult(
                    submission_id=new.submission_id,
                    status=ItemStatus.ACCEPTED,
                    case_no=outcome.record.case_no,
                )
            else:
                results[index] = _duplicate(outcome.record)
        # Repeats of an id within the batch answer what the first occurrence became.
        for index, result in enumerate(results):
            if result is None:
                record = stored.get(ids[index])
                first = next(r for r in results if r is not None and r.submission_id == ids[index])
                results[index] = _duplicate(record) if record else first.model_copy()
        accepted = sum(1 for r in results if r is not None and r.status == ItemStatus.ACCEPTED)
        log.info(
            "Batch of %d from device %s: %d accepted", len(raw_items), device.device_id, accepted
        )
        return [r for r in results if r is not None]


def _raw_id(raw: Any) -> str:
    value = raw.get("submission_id") if isinstance(raw, dict) else None
    return value if isinstance(value, str) else ""


def _parse(raw: Any) -> SubmissionItem:
    try:
        return SubmissionItem.model_validate(raw)
    except ValidationError as exc:
        errors = [
            FieldError(
                field=".".join(str(p) for p in e["loc"]) or "(item)",
                code=e["type"],
                message=e["msg"],
            )
            for e in exc.errors(include_input=False, include_url=False)
        ]
        raise ItemRejected(
            RejectReason.ITEM_INVALID,
            "item does not match SubmissionItem: " + ", ".join(e.field for e in errors),
            errors=errors,
        ) from exc


def _duplicate(record: SubmissionRecord) -> ItemResult:
    return ItemResult(
        submission_id=record.submission_id, status=ItemStatus.DUPLICATE, case_no=record.case_no
    )


def _rejected(submission_id: str, rejected: ItemRejected) -> ItemResult:
    return ItemResult(
        submission_id=submission_id,
        status=ItemStatus.REJECTED,
        reason=rejected.reason,
        detail=rejected.detail,
        retryable=rejected.retryable,
        errors=rejected.errors,
    )


