"""A person's identity as read from a resident ID card: what fills forms instead of typing.

The field names are the forms engine's prefill sources (``forms.model.PREFILL_SOURCES``),
so :meth:`Identity.as_prefill` goes straight into ``forms.Wizard(identity=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from forms.model import PREFILL_SOURCES

NO_EXPIRY = "长期"  # printed as the end of validity on cards of people aged 46 and over


@dataclass(frozen=True)
class Identity:
    """One ID card's data. Dates are ``YYYY-MM-DD``; ``valid_until`` may be ``"长期"``.

    ``sex`` is ``"male"`` or ``"female"``; ``ethnicity`` is the printed name ("汉"), empty
    on residence permits for Hong Kong, Macao and Taiwan residents. ``photo_bytes`` is the
    card's compressed photo (WLT), kept as is: decoding it needs the vendor's library.
    """

    name: str
    sex: str
    ethnicity: str
    birth_date: str
    address: str
    id_number: str
    issuing_authority: str
    valid_from: str
    valid_until: str
    photo_bytes: bytes = field(default=b"", repr=False)

    def as_prefill(self) -> dict[str, str]:
        """The values for ``forms.Wizard(identity=...)``, keyed by prefill source; no empties."""
        values = {name: getattr(self, name) for name in PREFILL_SOURCES}
        return {key: value for key, value in values.items() if value}

    def __repr__(self) -> str:  # personal data never reaches logs or tracebacks
        return "Identity(<personal data hidden>)"

