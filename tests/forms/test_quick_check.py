"""The compiled validator that accepts valid data quickly never accepts what the Python
validator would reject: it is only a shortcut to "no errors"."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import forms
from forms import FORMS_DIR, data_errors, load_forms
from forms.fields import NOT_A_FIELD

SHIPPED = load_forms(FORMS_DIR)

scalars = (st.none() | st.booleans() | st.integers(-10**6, 10**6)
           | st.floats(allow_nan=False, allow_infinity=False, width=32)
           | st.text(max_size=12)
           | st.sampled_from(["2026-11-28", "2026-02-30", "20261128", "approve", "return",
                              "reject", "13800138000", "010-12345678", "", "a@b.c",
                              "91310000MA1FL0000X", "6222020200112233445"]))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=3)
                      | st.dictionaries(st.text(max_size=6), inner, max_size=3), max_leaves=6)


def _python_errors(schema: dict[str, Any], data: dict[str, Any]) -> dict[str, list[str]]:
    validator = forms._validator(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS))
    return {str(list(e.absolute_path)): [e.message] for e in validator.iter_errors(data)}


def _data_for(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    names = sorted(schema.get("properties", {})) or ["x"]
    return st.dictionaries(st.sampled_from([*names, "extra"]), values, max_size=len(names) + 1)


@pytest.mark.parametrize("key", sorted(SHIPPED))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_quick_acceptance_implies_python_acceptance(key: str, data: st.DataObject) -> None:
    schema = SHIPPED[key]
    submitted = data.draw(_data_for(schema))
    _, quick = forms._validators_of(schema)
    assert quick is not None, "every shipped form takes the quick path"
    if forms._quickly_valid(quick, submitted):
        assert _python_errors(schema, submitted) == {}
    assert (data_errors(schema, submitted) == {}) == (_python_errors(schema, submitted) == {})


def test_a_valid_submission_of_every_kind_of_field_is_accepted_quickly() -> None:
    schema = {"type": "object", "properties": {
        "phone": {"type": "string", "pattern": "^(1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8})$"},
        "visit": {"type": "string", "format": "date"},
        "amount": {"type": "number", "exclusiveMinimum": 0},
        "reasons": {"type": "array", "items": {"type": "string", "minLength": 1}},
    }, "required": ["phone"], "additionalProperties": False}
    _, quick = forms._validators_of(schema)
    assert quick is not None
    assert forms._quickly_valid(quick, {"phone": "13800138000", "visit": "2026-11-28",
                                        "amount": 1, "reasons": ["材料不全"]})
    assert not forms._quickly_valid(quick, {"phone": "12"})
    # what it rejects is worded by the Python validator
    assert data_errors(schema, {"phone": "12", "visit": "2026-02-30"}).keys() == {
        "phone", "visit"}


@pytest.mark.parametrize("risky", [
    {"type": "number", "multipleOf": 0.1},
    {"type": "string", "pattern": r"^\s+$"},
    {"type": "string", "pattern": r"^[^\d]+$"},
    {"type": "string", "pattern": r"(?i)^abc$"},
    {"type": "string", "format": "ipv4"},
    {"$ref": "https://example.org/schema.json"},
    {"type": "object", "patternProperties": {"^x": {"type": "string"}}},
])
def test_schemas_where_the_validators_could_differ_take_the_python_path(
        risky: dict[str, Any]) -> None:
    schema = {"type": "object", "properties": {"field": risky}}
    assert forms._validators_of(schema)[1] is None


def test_a_field_named_like_a_keyword_is_no_trouble() -> None:
    schema = {"type": "object", "properties": {
        "format": {"type": "string"}, "pattern": {"type": "string"}}}
    assert data_errors(schema, {"format": "pdf", "pattern": "x"}) == {}
    assert data_errors(schema, {"format": 1}).keys() == {"format"}


def test_values_it_cannot_read_go_the_python_way() -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    # keys that are not strings cannot be given to the compiled validator at all (and no
    # form defines one)
    assert data_errors(schema, {1: "x"}) == {"1": [NOT_A_FIELD]}  # type: ignore[dict-item]
    assert data_errors(schema, {"n": "1"}) == {"n": ["'1' is not of type 'integer'"]}


@pytest.mark.parametrize(("key", "submitted"), [
    # a name the form lacks is refused by data_errors whatever the form says of
    # additionalProperties (forms.fields): the Python validator refuses it too
    ("policy_subsidy_review", {"extra": None, "comment": "", "outcome": "approve"}),
    # a number past the default bounds (forms.bounds) is refused by both
    ("registration_negotiation", {"outcome": "failed", "comment": "x", "rent_price": 3.4e38}),
])
def test_the_python_validator_checks_what_data_errors_checks(
        key: str, submitted: dict[str, Any]) -> None:
    schema = SHIPPED[key]
    assert data_errors(schema, submitted) != {}
    assert _python_errors(schema, submitted) != {}
    assert data_errors(schema, {k: v for k, v in submitted.items()
                                if k not in ("extra", "rent_price")}) == {}
    _, quick = forms._validators_of(schema)
    assert not forms._quickly_valid(quick, submitted)


def test_a_closed_check_still_takes_every_field_the_form_defines() -> None:
    schema = SHIPPED["policy_subsidy_review"]
    assert data_errors(schema, {"comment": "", "outcome": "approve"}) == {}
    assert "additionalProperties" not in schema  # the form as deployed is left alone
