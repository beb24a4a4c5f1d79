"""The service catalog model: a service, its guide (办事指南) and its form.

Built from a definition that has already passed the JSON Schema and the semantic checks in
:mod:`forms.loader`; the classes here trust their input and only give it types.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from forms.i18n import I18nText

Condition = Mapping[str, Any]
"""A declarative condition (see :mod:`forms.conditions`)."""

Flag = bool | Condition
"""``true``, ``false`` or a condition."""

FIELD_TYPES = (
    "text",
    "multiline",
    "integer",
    "decimal",
    "date",
    "choice",
    "multi_choice",
    "yes_no",
    "mobile",
    "id_number",
    "email",
    "address",
    "attachment",
    "signature",
    "consent",
)
PREFILL_SOURCES = (
    "name",
    "sex",
    "ethnicity",
    "birth_date",
    "id_number",
    "address",
    "issuing_authority",
    "valid_from",
    "valid_until",
)
ADDRESS_PARTS = ("province", "city", "district", "detail")


def _i18n(raw: Mapping[str, Any], key: str) -> I18nText | None:
    value = raw.get(key)
    return I18nText.from_mapping(value) if value is not None else None


@dataclass(frozen=True)
class Option:
    """One answer of a choice field."""

    value: str
    label: I18nText


@dataclass(frozen=True)
class Field:
    """One question of a form."""

    id: str
    type: str
    label: I18nText
    example: Any
    help: I18nText | None = None
    required: Flag = False
    show_if: Condition | None = None
    prefill: str | None = None
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None
    pattern_message: I18nText | None = None
    min: Any = None
    max: Any = None
    decimals: int | None = None
    unit: I18nText | None = None
    options: tuple[Option, ...] = ()
    min_selected: int | None = None
    max_selected: int | None = None
    accept: tuple[str, ...] = ()
    max_size_kb: int | None = None
    max_files: int | None = None
    material: str | None = None
    statement: I18nText | None = None

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any]) -> Field:
        """Build from a schema-checked mapping."""
        ftype = raw["type"]
        lo, hi = raw.get("min"), raw.get("max")
        if ftype == "decimal":
            lo = Decimal(lo) if lo is not None else None
            hi = Decimal(hi) if hi is not None else None
        return cls(
            id=raw["id"],
            type=ftype,
            label=I18nText.from_mapping(raw["label"]),
            example=raw["example"],
            help=_i18n(raw, "help"),
            required=raw.get("required", False),
            show_if=raw.get("show_if"),
            prefill=raw.get("prefill"),
            min_length=raw.get("min_length"),
            max_length=raw.get("max_length"),
            pattern=raw.get("pattern"),
            pattern_message=_i18n(raw, "pattern_message"),
            min=lo,
            max=hi,
            decimals=raw.get("decimals"),
            unit=_i18n(raw, "unit"),
            options=tuple(Option(o["value"], I18nText.from_mapping(o["label"])) for o in raw.get("options", ())),
            min_selected=raw.get("min_selected"),
            max_selected=raw.get("max_selected"),
            accept=tuple(raw.get("accept", ())),
            max_size_kb=raw.get("max_size_kb"),
            max_files=raw.get("max_files"),
            material=raw.get("material"),
            statement=_i18n(raw, "statement"),
        )

    @property
    def option_values(self) -> tuple[str, ...]:
        """The values a choice field accepts, in order."""
        return tuple(o.value for o in self.options)

    def option_label(self, value: str) -> I18nText | None:
        """The label of one option value, or None when it is not an option."""
        for option in self.options:
            if option.value == value:
                return option.label
        return None


@dataclass(frozen=True)
class Step:
    """One screen of a form: a title and its fields."""

    id: str
    title: I18nText
    fields: tuple[Field, ...]
    description: I18nText | None = None
    show_if: Condition | None = None


@dataclass(frozen=True)
class Computed:
    """A value derived from an answer (for example age from the ID number)."""

    id: str
    fn: str
    field: str
    label: I18nText | None = None


@dataclass(frozen=True)
class Material:
    """A document the citizen brings or scans."""

    id: str
    name: I18nText
    form: str
    copies: int
    scannable: bool
    required: Flag = True
    note: I18nText | None = None


@dataclass(frozen=True)
class Fee:
    """One fee of a service; amounts are in yuan."""

    name: I18nText
    amount_cny: Decimal
    note: I18nText | None = None


@dataclass(frozen=True)
class Guide:
    """The service guide (办事指南) shown before the form starts."""

    eligibility: tuple[I18nText, ...]
    materials: tuple[Material, ...]
    legal_working_days: int
    promised_working_days: int
    fees: tuple[Fee, ...]
    legal_basis: tuple[I18nText, ...]
    where: I18nText
    completable_at_kiosk: bool
    kiosk_note: I18nText | None = None
    contact_phone: str | None = None

    @property
    def is_free(self) -> bool:
        """True when every fee is zero (or there is none)."""
        return all(fee.amount_cny == 0 for fee in self.fees)


@dataclass(frozen=True)
class ServiceDefinition:
    """One service of the catalog: guide and form, as loaded from one definition file."""

    id: str
    version: str
    name: I18nText
    description: I18nText
    department: I18nText
    category: str
    guide: Guide
    steps: tuple[Step, ...]
    computed: tuple[Computed, ...] = ()
    keywords_zh: tuple[str, ...] = ()
    keywords_en: tuple[str, ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, compare=False, repr=False)
    source: Path | None = field(default=None, compare=False)

    @classmethod
    def from_raw(cls, raw: Mapping[str, Any], source: Path | None = None) -> ServiceDefinition:
        """Build from a definition that passed validation."""
        g = raw["guide"]
        guide = Guide(
            eligibility=tuple(I18nText.from_mapping(e) for e in g["eligibility"]),
            materials=tuple(
                Material(
                    id=m["id"],
                    name=I18nText.from_mapping(m["name"]),
                    form=m["form"],
                    copies=m["copies"],
                    scannable=m["scannable"],
                    required=m.get("required", True),
                    note=_i18n(m, "note"),
                )
                for m in g["materials"]
            ),
            legal_working_days=g["time_limit"]["legal_working_days"],
            promised_working_days=g["time_limit"]["promised_working_days"],
            fees=tuple(
                Fee(I18nText.from_mapping(f["name"]), Decimal(f["amount_cny"]), _i18n(f, "note")) for f in g["fees"]
            ),
            legal_basis=tuple(I18nText.from_mapping(b) for b in g["legal_basis"]),
            where=I18nText.from_mapping(g["where"]),
            completable_at_kiosk=g["completable_at_kiosk"],
            kiosk_note=_i18n(g, "kiosk_note"),
            contact_phone=g.get("contact_phone"),
        )
        steps = tuple(
            Step(
                id=s["id"],
                title=I18nText.from_mapping(s["title"]),
                fields=tuple(Field.from_raw(f) for f in s["fields"]),
                description=_i18n(s, "description"),
                show_if=s.get("show_if"),
            )
            for s in raw["steps"]
        )
        keywords = raw.get("keywords", {})
        return cls(
            id=raw["id"],
            version=raw["version"],
            name=I18nText.from_mapping(raw["name"]),
            description=I18nText.from_mapping(raw["description"]),
            department=I18nText.from_mapping(raw["department"]),
            category=raw["category"],
            guide=guide,
            steps=steps,
            computed=tuple(Computed(c["id"], c["fn"], c["field"], _i18n(c, "label")) for c in raw.get("computed", ())),
            keywords_zh=tuple(keywords.get("zh_CN", ())),
            keywords_en=tuple(keywords.get("en", ())),
            raw=raw,
            source=source,
        )

    @property
    def fields(self) -> tuple[Field, ...]:
        """Every field of every step, in form order."""
        return tuple(f for s in self.steps for f in s.fields)

    def field(self, field_id: str) -> Field:
        """The field with this id (KeyError when there is none)."""
        for f in self.fields:
            if f.id == field_id:
                return f
        raise KeyError(field_id)

    def step_of(self, field_id: str) -> Step:
        """The step that holds a field."""
        for s in self.steps:
            if any(f.id == field_id for f in s.fields):
                return s
        raise KeyError(field_id)


@dataclass(frozen=True)
class Category:
    """A group of services on the catalog screen."""

    id: str
    name: I18nText


@dataclass(frozen=True)
class Catalog:
    """A loaded service catalog: categories and services, in display order."""

    categories: tuple[Category, ...]
    services: tuple[ServiceDefinition, ...]
    folder: Path | None = None

    def get(self, service_id: str) -> ServiceDefinition:
        """The service with this id (KeyError when there is none)."""
        for service in self.services:
            if service.id == service_id:
                return service
        raise KeyError(service_id)

    def category(self, category_id: str) -> Category:
        """The category with this id (KeyError when there is none)."""
        for category in self.categories:
            if category.id == category_id:
                return category
        raise KeyError(category_id)

    def in_category(self, category_id: str) -> tuple[ServiceDefinition, ...]:
        """The services of one category."""
        return tuple(s for s in self.services if s.category == category_id)
