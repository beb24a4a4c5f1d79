"""A service's example answers made submittable: each attachment reference backed by real, unique bytes."""

from __future__ import annotations

import random
from typing import Any

from forms import Catalog
from forms.payload import build_payload, example_answers
from sync.submission import Attachment, is_attachment_ref


def valid_answers(
    catalog: Catalog, service_id: str, rng: random.Random, *, marker: bytes = b"TONGBAN-TEST-ATTACHMENT "
) -> tuple[dict[str, Any], list[Attachment]]:
    """The service's example answers with each attachment replaced by unique real bytes, and those files."""
    definition = catalog.get(service_id)
    answers = example_answers(definition)
    files: list[Attachment] = []

    def fresh(ref: dict[str, Any]) -> dict[str, Any]:
        attachment = Attachment(marker + rng.randbytes(64), str(ref["mime"]), str(ref.get("name") or ""))
        files.append(attachment)
        return attachment.ref()

    for key, value in list(answers.items()):
        if is_attachment_ref(value):
            answers[key] = fresh(value)
        elif isinstance(value, list) and value and all(is_attachment_ref(v) for v in value):
            answers[key] = [fresh(v) for v in value]
    return build_payload(definition, answers), files
