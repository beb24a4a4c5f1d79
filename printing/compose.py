"""Building a :class:`~printing.data.ReceiptData` from what the terminal knows.

A receipt combines three sources: the submission's masked summary (from the store), the
service guide (time limits, materials, where to go; from the catalog) and the hall (from
the configuration). The kiosk calls :func:`receipt_for_submission` right after a
submission commits; ``kiosk receipt`` calls it for a receipt that was never printed here.

Which materials are "still to bring": the kiosk knows what the citizen scanned and
passes that list; without it (a reprint from the summary alone) the receipt lists the
materials the guide always requires and that a kiosk cannot take in (not scannable, such
as the ID card itself), because answers are sealed and cannot tell which conditional
materials applied.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import tzinfo
from typing import Any

from forms.model import Material, ServiceDefinition
from printing.data import Bilingual, ReceiptData
from printing.workdays import add_working_days
from sync.submission import SubmissionSummary

FORM_WORDS: dict[str, Bilingual] = {
    "original": Bilingual("原件", "original"),
    "copy": Bilingual("复印件", "copy"),
    "original_and_copy": Bilingual("原件及复印件", "original and copy"),
    "electronic": Bilingual("电子版", "electronic"),
}


def material_line(material: Material) -> Bilingual:
    """``居民身份证（原件 1 份）`` / ``Resident ID card (original, 1 copy)``."""
    form = FORM_WORDS.get(material.form, Bilingual(material.form, material.form))
    copies = material.copies
    en_copies = f"{copies} copy" if copies == 1 else f"{copies} copies"
    return Bilingual(
        f"{material.name.zh_CN}（{form.zh} {copies} 份）",
        f"{material.name.en} ({form.en}, {en_copies})",
    )


def materials_to_bring(service: ServiceDefinition, scanned: Collection[str] | None = None) -> tuple[Bilingual, ...]:
    """Materials the citizen still has to bring for ``service``.

    With ``scanned`` (ids of materials taken in at the kiosk): every unconditionally
    required material not among them. Without it: unconditionally required materials that
    cannot be scanned.
    """
    result = []
    for material in service.guide.materials:
        if material.required is not True:  # conditional: the sealed answers decide, not us
            continue
        if scanned is None:
            if material.scannable:
                continue
        elif material.id in scanned:
            continue
        result.append(material_line(material))
    return tuple(result)


def receipt_for_submission(
    receipt_no: str,
    summary: SubmissionSummary,
    *,
    hall_name: Bilingual,
    service: ServiceDefinition | None = None,
    scanned: Collection[str] | None = None,
    local_zone: tzinfo | None = None,
) -> ReceiptData:
    """The receipt of a committed submission.

    ``summary`` holds masked values only. ``service`` (the definition the submission was
    made with) adds the time limits, expected completion date, materials and where to go;
    without it the receipt shows what the summary has. Times are printed in ``local_zone``
    (default: the terminal's local zone).
    """
    submitted = summary.created_at.astimezone(local_zone)
    service_name = _names(summary.service_name, service)
    extra: dict[str, Any] = {}
    if service is not None:
        guide = service.guide
        extra = {
            "legal_working_days": guide.legal_working_days,
            "promised_working_days": guide.promised_working_days,
            "expected_completion": add_working_days(submitted.date(), guide.promised_working_days),
            "materials_to_bring": materials_to_bring(service, scanned),
            "where": Bilingual.from_mapping(guide.where),
            "note": Bilingual.from_mapping(guide.kiosk_note) if guide.kiosk_note else None,
            "contact_phone": guide.contact_phone,
        }
    return ReceiptData(
        receipt_no=receipt_no,
        hall_name=hall_name,
        service_name=service_name,
        applicant_name=summary.applicant_name,
        id_number=summary.id_number,
        submitted_at=submitted,
        is_test=summary.is_test,
        **extra,
    )


def _names(names: Mapping[str, str], service: ServiceDefinition | None) -> Bilingual:
    if names:
        return Bilingual.from_mapping(names)
    if service is not None:
        return Bilingual.from_mapping(service.name)
    return Bilingual("—", "—")
