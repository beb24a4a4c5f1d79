"""The catalog a hall gets out of the box: complete, bilingual, and every example submittable."""

from __future__ import annotations

import jsonschema
import pytest

from catalog import DEFAULT_CATALOG_DIR
from forms import Catalog, ServiceDefinition, example_answers, load_catalog, payload_schema, validate_answers

REQUIRED_SERVICES = {
    "residence-permit",
    "social-security-card-replacement",
    "medical-insurance-enrollment",
    "provident-fund-withdrawal",
    "individual-business-registration",
    "no-criminal-record-certificate",
    "property-record-inquiry",
    "senior-allowance-application",
}


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_catalog(DEFAULT_CATALOG_DIR)


def services() -> list[ServiceDefinition]:
    return list(load_catalog(DEFAULT_CATALOG_DIR).services)


def test_the_default_catalog_offers_the_hall_services(catalog: Catalog) -> None:
    ids = {s.id for s in catalog.services}
    assert REQUIRED_SERVICES <= ids
    assert len(ids) >= 8


def test_every_service_belongs_to_a_listed_category(catalog: Catalog) -> None:
    category_ids = {c.id for c in catalog.categories}
    for service in catalog.services:
        assert service.category in category_ids, service.id


@pytest.mark.parametrize("service", services(), ids=lambda s: s.id)
def test_example_answers_validate_against_the_payload_schema(service: ServiceDefinition) -> None:
    example = example_answers(service)
    schema = payload_schema(service)
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker()).validate(example)
    assert validate_answers(service, example) == []


@pytest.mark.parametrize("service", services(), ids=lambda s: s.id)
def test_every_text_a_citizen_sees_exists_in_both_languages(service: ServiceDefinition) -> None:
    texts = [service.name, service.description, service.department, service.guide.where]
    texts += list(service.guide.eligibility) + [m.name for m in service.guide.materials]
    for step in service.steps:
        texts.append(step.title)
        for f in step.fields:
            texts.append(f.label)
            texts += [o.label for o in f.options]
    for text in texts:
        assert text.zh_CN.strip() and text.en.strip()
        # Chinese text really is Chinese, English really is not
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text.zh_CN), text
        assert not any("\u4e00" <= ch <= "\u9fff" for ch in text.en), text


@pytest.mark.parametrize("service", services(), ids=lambda s: s.id)
def test_every_form_ends_with_consent_and_signature(service: ServiceDefinition) -> None:
    types = [f.type for f in service.fields]
    assert "consent" in types and "signature" in types


def test_at_least_two_services_ask_questions_only_when_they_apply(catalog: Catalog) -> None:
    conditional = [
        s.id
        for s in catalog.services
        if any(st.show_if for st in s.steps) or any(f.show_if or isinstance(f.required, dict) for f in s.fields)
    ]
    assert len(conditional) >= 2, conditional


def test_the_guide_states_time_limits_and_fees(catalog: Catalog) -> None:
    for service in catalog.services:
        g = service.guide
        assert g.promised_working_days <= g.legal_working_days, service.id
        assert g.legal_basis, service.id
