"""Number fields are bounded even where the form gives no bound (forms.bounds)."""

from __future__ import annotations

import pytest

from forms import data_errors, load_forms
from forms.bounds import DEFAULT_BOUND, bounded, field_bounds

APPLY = load_forms()["policy_subsidy_apply"]
FORM = {
    "type": "object",
    "properties": {
        "amount": {"type": "number", "exclusiveMinimum": 0},
        "count": {"type": ["integer", "null"]},
        "large": {"type": "number", "maximum": 1e30},
        "rows": {"type": "array", "items": {"type": "number"}},
        "name": {"type": "string"},
    },
}


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"rd_spend": 1e99}, "rd_spend"),
        ({"rd_spend": 10**99}, "rd_spend"),
        ({"employee_count": 10**16}, "employee_count"),
        ({"requested_amount": DEFAULT_BOUND + 1}, "requested_amount"),
    ],
)
def test_past_the_default_bound_is_refused(data: dict[str, object], field: str) -> None:
    assert any("maximum" in message for message in data_errors(APPLY, data)[field])


def test_the_default_bound_itself_and_the_forms_own_bounds_hold() -> None:
    assert "rd_spend" not in data_errors(APPLY, {"rd_spend": DEFAULT_BOUND})
    assert data_errors(FORM, {"large": 1e20, "count": None}) == {}
    assert "count" in data_errors(FORM, {"count": -(10**16)})
    assert "rows.1" in data_errors(FORM, {"rows": [1, 1e99]})


def test_the_form_as_written_is_left_alone() -> None:
    checked = bounded(FORM)
    assert "maximum" not in FORM["properties"]["amount"]  # type: ignore[index]
    assert checked["properties"]["amount"] == {
        "type": "number",
        "exclusiveMinimum": 0,
        "maximum": DEFAULT_BOUND,
    }
    assert checked["properties"]["large"]["maximum"] == 1e30
    assert checked["properties"]["name"] == {"type": "string"}
    assert field_bounds(FORM["properties"]["amount"]) == (0, DEFAULT_BOUND)  # type: ignore[index]
    assert field_bounds({"type": "integer"}) == (-DEFAULT_BOUND, DEFAULT_BOUND)
