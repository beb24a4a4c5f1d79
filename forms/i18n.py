"""Text in the kiosk's two languages, and the forms engine's own messages."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Lang = Literal["zh_CN", "en"]
LANGS: tuple[Lang, ...] = ("zh_CN", "en")


@dataclass(frozen=True)
class I18nText:
    """One piece of text in Chinese and English."""

    zh_CN: str
    en: str

    def get(self, lang: str) -> str:
        """The text in ``lang``; unknown languages fall back to Chinese."""
        return self.en if lang == "en" else self.zh_CN

    @classmethod
    def from_mapping(cls, value: Mapping[str, str]) -> I18nText:
        """Build from a ``{"zh_CN": ..., "en": ...}`` mapping (already schema-checked)."""
        return cls(zh_CN=str(value["zh_CN"]), en=str(value["en"]))

    def format(self, **params: Any) -> I18nText:
        """Both texts with ``{name}`` placeholders filled in."""
        return I18nText(self.zh_CN.format(**params), self.en.format(**params))


def _t(zh: str, en: str) -> I18nText:
    return I18nText(zh, en)


# Validation messages a citizen sees next to a field, in plain words. Keys are stable codes
# (the central platform and tests use them); placeholders come from the field's constraints.
MESSAGES: dict[str, I18nText] = {
    "required": _t("请填写此项。", "Please fill this in."),
    "choose_required": _t("请选择一项。", "Please choose one."),
    "scan_required": _t("请扫描或上传此材料。", "Please scan this document."),
    "sign_required": _t("请在签名框内签名。", "Please sign in the box."),
    "too_short": _t("至少填写 {min} 个字。", "Enter at least {min} characters."),
    "too_long": _t("最多填写 {max} 个字。", "Enter at most {max} characters."),
    "pattern": _t("格式不正确，请参照示例填写。", "This is not in the right format; see the example."),
    "not_text": _t("请填写文字。", "Enter text."),
    "not_integer": _t("请填写整数。", "Enter a whole number."),
    "not_decimal": _t("请填写数字，如 1234.50。", "Enter a number, for example 1234.50."),
    "too_many_decimals": _t("最多保留 {decimals} 位小数。", "Use at most {decimals} digits after the decimal point."),
    "below_min": _t("不能小于 {min}。", "Must be at least {min}."),
    "above_max": _t("不能大于 {max}。", "Must be at most {max}."),
    "not_date": _t("请选择有效日期，如 2024-03-01。", "Choose a valid date, for example 2024-03-01."),
    "date_too_early": _t("日期不能早于 {min}。", "The date cannot be before {min}."),
    "date_too_late": _t("日期不能晚于 {max}。", "The date cannot be after {max}."),
    "not_option": _t("请从给出的选项中选择。", "Choose one of the options shown."),
    "too_few_selected": _t("请至少选择 {min} 项。", "Choose at least {min}."),
    "too_many_selected": _t("最多选择 {max} 项。", "Choose at most {max}."),
    "not_yes_no": _t("请选择“是”或“否”。", "Choose Yes or No."),
    "bad_mobile": _t(
        "请填写 11 位手机号码，如 13800138000。",
        "Enter an 11-digit mainland mobile number, for example 13800138000.",
    ),
    "bad_id_number": _t(
        "身份证号码有误，请核对 18 位号码（最后一位可能是 X）。",
        "This ID number is not valid. Check all 18 characters (the last may be X).",
    ),
    "bad_email": _t(
        "请填写有效的电子邮箱，如 name@example.com。",
        "Enter a valid email address, for example name@example.com.",
    ),
    "bad_address": _t(
        "请完整填写省、市、区（县）和详细地址。",
        "Fill in the province, city, district and street address.",
    ),
    "bad_attachment": _t("材料文件无效，请重新扫描。", "This document could not be used; scan it again."),
    "attachment_type": _t("不支持此文件类型。", "This file type is not accepted."),
    "attachment_too_large": _t(
        "文件太大（最大 {max_kb} KB），请重新扫描。",
        "The file is too large (at most {max_kb} KB); scan it again.",
    ),
    "too_many_files": _t("最多上传 {max} 份文件。", "Add at most {max} files."),
    "bad_signature": _t("请在签名框内重新签名。", "Please sign again in the box."),
    "consent_required": _t("请阅读并同意后继续。", "Please read and agree to continue."),
    "not_applicable": _t("根据您的其他回答，此项无需填写。", "Based on your other answers, this does not apply."),
    "unknown_field": _t("此项不属于本表单。", "This answer is not part of this form."),
    "fix_fields": _t(
        "有 {count} 处需要修改，请查看标红的项目。", "{count} answers need attention; see the marked fields."
    ),
}


def message(code: str, **params: Any) -> I18nText:
    """The message for ``code`` with its placeholders filled in."""
    return MESSAGES[code].format(**params)


YES_NO: dict[bool, I18nText] = {True: _t("是", "Yes"), False: _t("否", "No")}
SIGNED = _t("已签名", "Signed")
AGREED = _t("已同意", "Agreed")
FILES = _t("{count} 份文件", "{count} file(s)")
