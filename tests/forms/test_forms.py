"""Forms: checked when deployed, and every submission checked on the server."""

from __future__ import annotations

from pathlib import Path

import pytest

from forms import FORMS_DIR, FormLoadError, data_errors, load_forms, schema_problems

FORM = {
    "type": "object",
    "properties": {
        "outcome": {"type": "string", "enum": ["approve", "return"]},
        "amount": {"type": "number", "minimum": 0},
        "reasons": {"type": "array", "items": {"type": "string", "minLength": 1}},
        "visit": {"type": "string", "format": "date"},
    },
    "required": ["outcome"],
    "additionalProperties": False,
}


def test_every_shipped_form_is_a_usable_schema() -> None:
    forms = load_forms(FORMS_DIR)
    assert len(forms) >= 20
    assert {key: schema_problems(schema) for key, schema in forms.items()
            if schema_problems(schema)} == {}


@pytest.mark.parametrize(("schema", "fragment"), [
    ([], "must be a JSON object"),
    ({"type": "array"}, '"type" must be "object"'),
    ({"type": "object", "properties": {"a": {"type": "strin"}}}, "not a valid JSON Schema"),
    ({"type": "object", "required": "a"}, "not a valid JSON Schema"),
])
def test_broken_schemas_are_explained(schema: object, fragment: str) -> None:
    (problem,) = schema_problems(schema)
    assert fragment in problem


def test_valid_data_has_no_errors() -> None:
    assert data_errors(FORM, {"outcome": "approve", "amount": 3.5, "visit": "2026-03-02"}) == {}


def test_every_error_is_reported_by_field() -> None:
    errors = data_errors(FORM, {"amount": -1, "reasons": ["ok", ""], "visit": "2026-13-40",
                                "sneaky": True})
    assert set(errors) == {"outcome", "amount", "reasons.1", "visit", "sneaky"}
    assert errors["outcome"] == ["is required"]
    assert errors["sneaky"] == ["is not a field of this form"]


def test_load_forms_names_the_broken_file(tmp_path: Path) -> None:
    (tmp_path / "good.json").write_text('{"type": "object"}', encoding="utf-8")
    assert load_forms(tmp_path) == {"good": {"type": "object"}}
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(FormLoadError, match="bad.json"):
        load_forms(tmp_path)
    with pytest.raises(FormLoadError, match="does not exist"):
        load_forms(tmp_path / "missing")
