"""A form's fields: which may be submitted, which are locked, and what the form opens with."""

from __future__ import annotations

from forms.fields import (
    enterprise_fields,
    opening_values,
    prefill_names,
    shown_values,
    submittable,
    undefined_fields,
)

FORM = {
    "type": "object",
    "properties": {
        "outcome": {"type": "string", "enum": ["approve", "reject"]},
        "comment": {"type": "string"},
        "amount": {"type": "number", "readOnly": True},
        "priority": {"type": "string", "default": "normal"},
        "budget_line": {"type": "string", "x-prefill": "planned_budget_line"},
        "company_name": {"type": "string", "x-enterprise": "name"},
    },
}
VARIABLES = {
    "outcome": "approve",
    "comment": "an earlier reviewer's words",
    "amount": 5,
    "planned_budget_line": "2026-R&D",
    "company_name": "星河科技有限公司",
}


def test_a_form_opens_blank_but_for_what_the_model_prefills() -> None:
    # variables of the same names (an earlier decision) are not the form's values
    assert opening_values(FORM, VARIABLES) == {"priority": "normal", "budget_line": "2026-R&D"}


def test_the_tasks_prefill_property_names_fields_taken_from_variables() -> None:
    declared = prefill_names({"prefill": " comment , company_name,"})
    assert declared == {"comment", "company_name"}
    assert opening_values(FORM, VARIABLES, prefilled=declared) == {
        "comment": "an earlier reviewer's words",
        "company_name": "星河科技有限公司",
        "priority": "normal",
        "budget_line": "2026-R&D",
    }
    # a read-only field is shown, never filled in, even when listed
    assert "amount" not in opening_values(FORM, VARIABLES, prefilled={"amount"})


def test_read_only_fields_are_shown_and_not_taken() -> None:
    assert shown_values(FORM, VARIABLES) == {"amount": 5}
    assert submittable(FORM, {"outcome": "reject", "amount": 50}) == {"outcome": "reject"}


def test_names_the_form_does_not_define() -> None:
    assert undefined_fields(FORM, {"outcome": "x", "bonus": 1, "pf_due": 2}) == ["bonus", "pf_due"]
    assert enterprise_fields(FORM) == {"company_name": "name"}
