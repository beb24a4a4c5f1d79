"""A citizen's way through the residence permit form, as the kiosk screens drive it."""

from __future__ import annotations

import datetime as dt

import jsonschema
import pytest

from catalog import DEFAULT_CATALOG_DIR
from forms import ServiceDefinition, Wizard, load_definition, payload_schema

TODAY = dt.date(2026, 11, 23)
CARD = {
    "name": "王小明",
    "sex": "male",
    "ethnicity": "汉",
    "birth_date": "1990-01-01",
    "id_number": "440304199001011233",
    "address": "广东省深圳市福田区深南大道1号",
    "issuing_authority": "深圳市公安局福田分局",
    "valid_from": "2015-03-01",
    "valid_until": "2035-03-01",
}
SHA = "ab" * 32


@pytest.fixture(scope="module")
def permit() -> ServiceDefinition:
    return load_definition(DEFAULT_CATALOG_DIR / "services" / "residence-permit.yaml", today=TODAY)


def fill_residence(w: Wizard, basis: str) -> None:
    w.set_answer("current_address", {"province": "广东省", "city": "深圳市", "district": "南山区", "detail": "1号"})
    w.set_answer("resident_since", "2023-05-01")
    w.set_answer("housing", "rented")
    w.set_answer("basis", basis)


def test_identity_from_the_card_fills_the_first_step(permit: ServiceDefinition) -> None:
    w = Wizard(permit, identity=CARD, today=TODAY)
    assert w.answer("name") == "王小明"
    assert w.answer("sex") == "male"
    assert w.answer("id_number") == "440304199001011233"
    assert w.answer("household_address") == CARD["address"]
    assert w.is_prefilled("name")
    w.set_answer("name", "王晓明")  # the citizen corrects it
    assert not w.is_prefilled("name")


def test_a_card_value_that_does_not_fit_is_not_put_on_screen(permit: ServiceDefinition) -> None:
    w = Wizard(permit, identity={**CARD, "id_number": "440304199001011234"}, today=TODAY)
    assert w.answer("id_number") is None


def test_next_is_refused_with_a_message_next_to_each_missing_field(permit: ServiceDefinition) -> None:
    w = Wizard(permit, identity=CARD, today=TODAY)
    result = w.next()
    assert not result.moved
    assert [m.field_id for m in result.messages] == ["mobile"]
    assert result.messages[0].text("zh_CN") == "请填写此项。"
    assert result.messages[0].text("en") == "Please fill this in."
    assert result.summary is not None and "1" in result.summary.en
    assert w.current_step is not None and w.current_step.id == "applicant"


def test_an_invalid_answer_is_explained_at_once(permit: ServiceDefinition) -> None:
    w = Wizard(permit, today=TODAY)
    problem = w.set_answer("mobile", "2380013800")
    assert problem is not None and problem.code == "bad_mobile"
    assert "13800138000" in problem.text("en")  # the message shows the expected form
    assert w.set_answer("mobile", "138 0013 8000") is None


def test_adult_skips_the_guardian_step_and_only_sees_questions_that_apply(permit: ServiceDefinition) -> None:
    w = Wizard(permit, identity=CARD, today=TODAY)
    w.set_answer("mobile", "13800138000")
    assert w.next().moved
    assert w.current_step is not None and w.current_step.id == "residence"  # guardian skipped
    fill_residence(w, "study")
    shown = [f.id for f in w.visible_fields()]
    assert "school" in shown and "employer" not in shown
    result = w.next()
    assert [m.field_id for m in result.messages] == ["school"]
    w.set_answer("basis", "employment")
    shown = [f.id for f in w.visible_fields()]
    assert "employer" in shown and "school" not in shown


def test_a_child_applies_through_a_guardian(permit: ServiceDefinition) -> None:
    w = Wizard(permit, identity={**CARD, "id_number": "110108201003010056", "name": "李小朋"}, today=TODAY)
    assert w.computed("age") == 16  # sixteen today: applies alone
    assert "guardian" not in [s.id for s in w.visible_steps]
    w2 = Wizard(permit, identity={**CARD, "id_number": "110108201003010056"}, today=dt.date(2026, 2, 28))
    assert w2.computed("age") == 15
    w2.set_answer("mobile", "13800138000")
    assert w2.next().moved
    assert w2.current_step is not None and w2.current_step.id == "guardian"
    assert [s.id for s in w2.visible_steps][:2] == ["applicant", "guardian"]


def walk_to_review(permit: ServiceDefinition) -> Wizard:
    w = Wizard(permit, identity=CARD, today=TODAY)
    w.set_answer("mobile", "13800138000")
    assert w.next().moved
    fill_residence(w, "employment")
    w.set_answer("employer", "深圳市某某科技有限公司")
    w.set_answer("school", "不该出现的学校")  # answered while hidden: must not reach the payload
    assert w.next().moved
    ref = {"sha256": SHA, "size": 1000, "mime": "image/jpeg"}
    w.set_answer("residence_proof", [ref])
    w.set_answer("employment_proof", [ref])
    assert w.next().moved
    w.set_answer("consent", True)
    w.set_answer("signature", {"sha256": SHA, "size": 500, "mime": "image/png"})
    assert w.next().moved
    return w


def test_review_lists_every_answer_and_change_links_go_back(permit: ServiceDefinition) -> None:
    w = walk_to_review(permit)
    assert w.at_review and w.current_step is None and w.is_complete
    items = {i.field_id: i for i in w.review()}
    assert items["housing"].display.zh_CN == "租赁住房"
    assert items["housing"].display.en == "Rented"
    assert items["current_address"].display.zh_CN == "广东省深圳市南山区1号"
    assert items["residence_proof"].display.en == "1 file(s)"
    assert items["name"].prefilled and not items["mobile"].prefilled
    assert "school" not in items
    w.go_to("residence")
    assert w.current_step is not None and w.current_step.id == "residence"
    w.set_answer("basis", "residence")
    assert w.next().moved
    assert w.current_step is not None and w.current_step.id == "materials"


def test_payload_holds_only_shown_answers_and_matches_the_schema(permit: ServiceDefinition) -> None:
    w = walk_to_review(permit)
    payload = w.payload()
    assert "school" not in payload
    assert payload["mobile"] == "13800138000"
    jsonschema.Draft202012Validator(payload_schema(permit)).validate(payload)


def test_back_and_wipe(permit: ServiceDefinition) -> None:
    w = walk_to_review(permit)
    assert w.back()
    assert w.current_step is not None and w.current_step.id == "confirm"
    w.wipe()
    assert w.answer("name") is None and w.review() == []
    assert w.current_step is not None and w.current_step.id == "applicant"
    assert not w.back()


def test_payload_is_refused_while_anything_is_missing(permit: ServiceDefinition) -> None:
    w = Wizard(permit, identity=CARD, today=TODAY)
    with pytest.raises(ValueError, match="mobile"):
        w.payload()
