"""JSON Schema forms: the widget of each kind of field, reading values back, the messages."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, session

from forms import load_forms
from webapp.pages import forms_render
from webapp.pages.forms_render import build_fields, check, parse, widget_of
from webapp.pages.i18n import LOCALE_KEY, init_i18n

FORMS = load_forms()
SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "title": "名称", "maxLength": 10},
        "note": {"type": "string", "x-widget": "textarea"},
        "amount": {"type": "number", "exclusiveMinimum": 0},
        "count": {"type": "integer", "minimum": 1},
        "day": {"type": "string", "format": "date"},
        "ok": {"type": "boolean", "const": True},
        "grade": {"type": "integer", "enum": [1, 2, 3, 4, 5, 6]},
        "kind": {"type": "string", "enum": ["a", "b"], "x-enum-labels": ["甲", "乙"]},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["x", "y"]}},
        "reasons": {"type": "array", "items": {"type": "string", "maxLength": 3}},
        "files": {"type": "array", "items": {"type": "string"}, "x-widget": "file"},
        "shown": {"type": "array", "items": {"type": "string"}, "readOnly": True},
    },
    "required": ["name", "kind"],
}


@pytest.fixture
def chinese() -> Iterator[None]:
    """A request whose user chose Simplified Chinese."""
    app = Flask("webapp.app")
    app.secret_key = "test"
    init_i18n(app)
    with app.test_request_context("/"):
        session[LOCALE_KEY] = "zh_CN"
        yield


def test_each_kind_of_property_has_its_widget() -> None:
    widgets = {name: widget_of(prop) for name, prop in SCHEMA["properties"].items()}
    assert widgets == {"name": "text", "note": "textarea", "amount": "number",
                       "count": "integer", "day": "date", "ok": "checkbox", "grade": "select",
                       "kind": "radio", "tags": "checkboxes", "reasons": "lines",
                       "files": "file", "shown": "readonly"}


def test_every_shipped_form_can_be_drawn(chinese: None) -> None:
    for key, schema in FORMS.items():
        fields = build_fields(schema, {}, shown={}, errors={}, files={})
        assert [f.name for f in fields] == list(schema["properties"]), key
        assert all(f.label for f in fields), key


def test_values_are_read_back_in_the_schema_types(chinese: None) -> None:
    raw = {"name": " 星河 ", "note": "第一行\r\n第二行 ", "amount": "1,234.50", "count": "3",
           "day": "2026-03-20", "ok": "on", "grade": "5", "kind": "b", "tags": ["y"],
           "reasons": "甲\r\n\r\n 乙 \n", "files": ["f1", "forged"], "shown": "ignored"}
    data, errors = parse(SCHEMA, raw, uploaded={"files": ["f2"]}, allowed_files={"f1"})
    assert errors == {}
    assert data == {"name": "星河", "note": "第一行\n第二行", "amount": 1234.5, "count": 3,
                    "day": "2026-03-20", "ok": True, "grade": 5, "kind": "b", "tags": ["y"],
                    "reasons": ["甲", "乙"], "files": ["f1", "f2"]}
    assert check(SCHEMA, data, errors) == {}


def test_blank_values_are_left_out_and_unreadable_ones_reported(chinese: None) -> None:
    data, errors = parse(SCHEMA, {"name": "  ", "amount": "abc", "count": "2.5", "reasons": "",
                                  "ok": ""}, uploaded={}, allowed_files=())
    assert data == {"ok": False}
    assert errors == {"amount": ["请输入数字。"], "count": ["请输入整数。"]}
    found = check(SCHEMA, data, errors)
    assert found == {"amount": ["请输入数字。"], "count": ["请输入整数。"],
                     "name": ["此项为必填项。"], "kind": ["此项为必填项。"],
                     "ok": ["请勾选此项。"]}


@pytest.mark.parametrize(("value", "message"), [
    ({"name": "x" * 11}, "最多填写 10 个字。"),
    ({"amount": 0}, "必须大于 0。"),
    ({"count": 0}, "不能小于 1。"),
    ({"day": "2026-02-30"}, "请按“年-月-日”（YYYY-MM-DD）格式填写日期。"),
    ({"kind": "c"}, "请从给出的选项中选择。"),
    ({"reasons": ["abcd"]}, "第 1 项：最多填写 3 个字。"),
])
def test_messages_are_in_the_users_language(chinese: None, value: dict[str, Any],
                                           message: str) -> None:
    data = {"name": "星河", "kind": "a", **value}
    field = next(iter(value))
    assert check(SCHEMA, data, {})[field] == [message]


def test_a_number_without_a_maximum_still_has_one(chinese: None) -> None:
    # 研发投入 has only a minimum: 1e99 is refused beside it, as any sum past 10^15
    apply = FORMS["policy_subsidy_apply"]
    data, errors = parse(apply, {"rd_spend": "1e99"}, uploaded={}, allowed_files=())
    assert errors == {} and data["rd_spend"] == 10**99
    assert check(apply, data, errors)["rd_spend"] == ["不能大于 1,000,000,000,000,000。"]
    assert "rd_spend" not in check(apply, {"rd_spend": 10**15}, {})
    assert check(SCHEMA, {"name": "星河", "kind": "a", "amount": -1e99}, {})["amount"] == [
        "必须大于 0。"]  # the form's own bound is the one told
    assert check(SCHEMA, {"name": "星河", "kind": "a", "count": -(10**16)}, {})["count"] == [
        "不能小于 1。"]
    larger = {"type": "object", "properties": {"mass": {"type": "number", "maximum": 1e30}}}
    assert check(larger, {"mass": 1e20}, {}) == {}  # a form that wants more says so
    fields = {f.name: f for f in build_fields(apply, {}, shown={}, errors={}, files={})}
    assert fields["rd_spend"].bounds == (0, 10**15)
    assert fields["requested_amount"].bounds == (0, 10**15)
    assert fields["company_name"].bounds is None


def test_conditional_requirements_of_a_review(chinese: None) -> None:
    review = FORMS["policy_subsidy_review"]
    assert check(review, {"outcome": "return"}, {}) == {"return_reasons": ["此项为必填项。"]}
    assert check(review, {"outcome": "reject"}, {}) == {"comment": ["此项为必填项。"]}
    assert check(review, {"outcome": "return", "return_reasons": ["a", "b"]}, {}) == {}


def test_an_unknown_message_is_shown_as_it_is(chinese: None) -> None:
    assert forms_render.localize("something new", {}) == "something new"


def test_read_only_values_are_shown_with_labels_and_digits(chinese: None) -> None:
    review = FORMS["policy_subsidy_director_review"]
    fields = build_fields(review, {}, shown={"amount": 1000000, "tier": "A"}, errors={},
                          files={})
    shown = {f.name: f.shown for f in fields if f.widget == "readonly"}
    assert shown["amount"] == "1,000,000" and shown["tier"] == "A"
    correction = FORMS["policy_subsidy_correction"]
    fields = build_fields(correction, {}, shown={"return_reasons": ["甲", "乙"]}, errors={},
                          files={})
    assert next(f for f in fields if f.name == "return_reasons").items == ["甲", "乙"]
