"""Camunda Modeler's generated forms (camunda:formData) become JSON Schema forms: the types,
required fields, defaults, enum values and validation constraints a modeller draws, checked
on the server like a form file, and refused at deploy with the reason where Parkflow cannot
honour them."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine, FormDataInvalid, InvalidProcess, SpecCache, prepare_deployment
from engine.validation import SourceSet, check_sources

DIAGRAM = (Path(__file__).parent / "data" / "modelling" / "form_data.bpmn").read_bytes()
START = "formData:StartEvent_1"
REVIEW = "formData:Activity_review"
BOOKING = {
    "event_name": "Opening",
    "guests": 30,
    "room": "studio",
    "event_date": "2027-06-01",
    "catering": True,
}


def verdict(content: bytes) -> tuple[list[str], list[str]]:
    found = check_sources(SourceSet(bpmn={"booking.bpmn": content}, dmn={}, forms={}))
    return [str(p) for p in found.problems], [p.as_warning() for p in found.warnings]


def with_start_field(field: str) -> bytes:
    """The diagram with one more field on its start form."""
    return DIAGRAM.replace(b"</camunda:formData>", field.encode() + b"</camunda:formData>", 1)


def test_form_data_becomes_a_json_schema_form_in_field_order() -> None:
    (version,) = prepare_deployment({"booking.bpmn": DIAGRAM}, {}, {})
    assert version.start_form_key == START
    assert version.human_tasks["Activity_review"].form_key == REVIEW
    start = version.forms[START]
    assert list(start["properties"]) == ["event_name", "guests", "room", "event_date", "catering"]
    assert start["required"] == ["event_name"]
    assert start["properties"]["event_name"] == {
        "type": "string",
        "title": "Event name",
        "minLength": 1,
        "maxLength": 40,
        "description": "As it will appear on the notice board",
    }
    assert start["properties"]["guests"] == {
        "type": "integer",
        "title": "Guests",
        "default": 20,
        "minimum": 1,
        "maximum": 200,
    }
    assert start["properties"]["room"] == {
        "type": "string",
        "title": "Room",
        "enum": ["hall", "studio"],
        "x-enum-labels": ["Conference hall", "Studio"],
        "x-widget": "select",
        "default": "hall",
    }
    # Camunda writes dates as dd/MM/yyyy; the form holds ISO dates
    assert start["properties"]["event_date"] == {
        "type": "string",
        "format": "date",
        "title": "Date",
        "default": "2027-06-01",
    }
    assert start["properties"]["catering"] == {
        "type": "boolean",
        "title": "Catering needed",
        "default": False,
    }
    review = version.forms[REVIEW]["properties"]
    assert review["event_name"]["readOnly"] is True
    assert review["remark"] == {
        "type": "string",
        "title": "Remark",
        "minLength": 2,
        "x-widget": "textarea",
    }
    assert version.warnings == ()


def test_spiffworkflow_dialect_textarea_fields_and_yes_no_defaults_are_understood() -> None:
    content = with_start_field(
        '<camunda:formField id="story" label="Story" type="textarea" />'
        '<camunda:formField id="late" type="boolean" defaultValue="No" />'
        '<camunda:formField id="early" type="boolean" defaultValue="YES" />'
    )
    assert verdict(content) == ([], [])
    (version,) = prepare_deployment({"booking.bpmn": content}, {}, {})
    fields = version.forms[START]["properties"]
    assert fields["story"] == {"type": "string", "title": "Story", "x-widget": "textarea"}
    assert fields["late"] == {"type": "boolean", "default": False}
    assert fields["early"] == {"type": "boolean", "default": True}


def test_the_generated_form_is_checked_like_a_form_file() -> None:
    (version,) = prepare_deployment({"booking.bpmn": DIAGRAM}, {}, {})
    engine = Engine(cache=SpecCache())
    with pytest.raises(FormDataInvalid) as refused:
        engine.start(
            version,
            {
                "event_name": "",
                "guests": 0,
                "room": "garden",
                "event_date": "1 June",
                "catering": "yes",
                "extra": 1,
            },
        )
    assert set(refused.value.errors) == {
        "event_name",
        "guests",
        "room",
        "event_date",
        "catering",
        "extra",
    }
    started = engine.start(version, BOOKING)
    (task,) = started.open_tasks
    assert task.form_key == REVIEW
    with pytest.raises(FormDataInvalid) as refused:
        engine.complete_task(version, started.state, task.task_id, {"remark": "x"})
    assert list(refused.value.errors) == ["remark"]
    done = engine.complete_task(
        version, started.state, task.task_id, {"approved": True, "remark": "fine"}
    )
    assert done.status == "completed"
    assert done.data["approved"] is True and done.data["guests"] == 30


def test_a_version_rebuilt_from_stored_sources_has_the_same_forms() -> None:
    (version,) = prepare_deployment({"booking.bpmn": DIAGRAM}, {}, {})
    # a store may hand the forms back with their keys sorted (PostgreSQL's JSONB does)
    stored = {key: dict(sorted(schema.items())) for key, schema in version.forms.items()}
    for schema in stored.values():
        schema["properties"] = dict(sorted(schema["properties"].items()))
    again = type(version).from_sources(version.key, version.bpmn, version.dmn, stored)
    assert again.content_hash == version.content_hash
    assert list(again.forms[START]["properties"]) == list(version.forms[START]["properties"])


def test_a_drawn_form_wins_over_a_form_key_on_the_same_task_with_a_warning() -> None:
    content = DIAGRAM.replace(
        b'name="Review booking"', b'name="Review booking" camunda:formKey="review"'
    )
    problems, warnings = verdict(content)
    assert problems == []
    assert "Activity_review:32: warning: camunda:formKey 'review' is not used: the task shows " \
        "the form drawn in its camunda:formData" in warnings


@pytest.mark.parametrize(
    ("field", "expected"),
    [
        (
            '<camunda:formField id="file" type="bytes" />',
            "form field 'file' has type 'bytes', which is not supported: use one of "
            "string, long, boolean, date, enum",
        ),
        (
            '<camunda:formField id="n" type="long" defaultValue="many" />',
            "form field 'n': defaultValue 'many' is not a whole number",
        ),
        (
            '<camunda:formField id="b" type="boolean" defaultValue="maybe" />',
            "form field 'b': defaultValue 'maybe' is neither true nor false",
        ),
        (
            '<camunda:formField id="d" type="date" defaultValue="${today}" />',
            "form field 'd': defaultValue '${today}' is an expression; give a literal value",
        ),
        (
            '<camunda:formField id="e" type="enum" defaultValue="c"><camunda:value id="a" />'
            "</camunda:formField>",
            "form field 'e': defaultValue 'c' is none of the enum's values",
        ),
        (
            '<camunda:formField id="e" type="enum" />',
            "form field 'e' is an enum without values (add camunda:value elements)",
        ),
        (
            '<camunda:formField id="s" type="string"><camunda:value id="a" /></camunda:formField>',
            "form field 's': camunda:value belongs to enum fields only",
        ),
        (
            '<camunda:formField id="n" type="long"><camunda:validation>'
            '<camunda:constraint name="maxlength" config="3" /></camunda:validation>'
            "</camunda:formField>",
            "form field 'n': validation 'maxlength' applies to string and enum fields only",
        ),
        (
            '<camunda:formField id="n" type="long"><camunda:validation>'
            '<camunda:constraint name="min" config="one" /></camunda:validation>'
            "</camunda:formField>",
            "form field 'n': validation 'min' needs a whole number as config, not 'one'",
        ),
        (
            '<camunda:formField id="s" type="string"><camunda:validation>'
            '<camunda:constraint name="validator" config="org.example.Check" />'
            "</camunda:validation></camunda:formField>",
            "form field 's': validation 'validator' is not supported (Parkflow checks "
            "required, readonly, minlength, maxlength, min, max)",
        ),
        (
            '<camunda:formField id="event_name" type="string" />',
            "form field 'event_name' is defined twice",
        ),
        (
            '<camunda:formField id="now" type="string" />',
            "form field id 'now' is a reserved name (a Python keyword, a function of "
            "expressions or a pf_ name): no form may take it",
        ),
        (
            '<camunda:formField id="class" type="string" />',
            "form field id 'class' is a reserved name (a Python keyword, a function of "
            "expressions or a pf_ name): no form may take it",
        ),
        (
            '<camunda:formField id="2nd" type="string" />',
            "form field id '2nd' is not a variable name (letters, digits and _, starting "
            "with a letter)",
        ),
    ],
)
def test_what_a_generated_form_cannot_honour_is_refused_with_the_reason(
    field: str, expected: str
) -> None:
    problems, _ = verdict(with_start_field(field))
    assert problems == [f"StartEvent_1:28: {expected}"]


def test_what_parkflow_does_not_use_is_a_warning() -> None:
    content = with_start_field(
        '<camunda:formField id="plain"><camunda:properties>'
        '<camunda:property id="placeholder" value="…" /></camunda:properties>'
        "</camunda:formField>"
    ).replace(b"<camunda:formData>", b'<camunda:formData businessKey="event_name">', 1)
    problems, warnings = verdict(content)
    assert problems == []
    assert warnings == [
        "StartEvent_1:6: warning: camunda:formData businessKey is not used: Parkflow numbers "
        "each application itself",
        "StartEvent_1:28: warning: form field 'plain' has no type: it is taken as a string",
        "StartEvent_1:28: warning: form field 'plain': property 'placeholder' is not used by "
        "Parkflow (it reads description, widget, pattern, prefill)",
    ]
    (version,) = prepare_deployment({"booking.bpmn": content}, {}, {})
    assert version.forms[START]["properties"]["plain"] == {"type": "string"}


def test_form_data_elsewhere_than_a_user_task_or_start_event_is_refused() -> None:
    content = DIAGRAM.replace(
        b'<bpmn:endEvent id="Event_done">',
        b'<bpmn:endEvent id="Event_done"><bpmn:extensionElements><camunda:formData>'
        b'<camunda:formField id="x" type="string" /></camunda:formData>'
        b"</bpmn:extensionElements>",
    )
    problems, _ = verdict(content)
    assert problems == [
        "Event_done:54: camunda:formData gives a form to a user task or a start event only"
    ]


def test_problems_carry_a_code_and_their_facts() -> None:
    with pytest.raises(InvalidProcess) as refused:
        prepare_deployment(
            {"booking.bpmn": with_start_field('<camunda:formField id="file" type="bytes" />')},
            {},
            {},
        )
    (problem,) = refused.value.problems
    assert problem.code == "form_field_type"
    assert problem.facts == {
        "id": "file",
        "type": "bytes",
        "types": "string, long, boolean, date, enum",
    }
