"""Which fields a form defines, which of them a person may fill in, and what they open with.

A form defines its fields by ``properties``; nothing else may be submitted through it, so a
task writes process variables only under the names its form defines. Some fields are locked:
``readOnly`` ones show what the process already knows, and ``x-enterprise`` ones (``name``,
``credit_code``) show the applicant's enterprise record. A form opens blank except where the
model declares a field prefilled: a JSON Schema ``default``, an ``x-prefill`` naming the
variable to take, or the task's ``prefill`` property listing fields taken from the variables
of the same name.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

NOT_A_FIELD = "is not a field of this form"
ENTERPRISE_FIELD = "x-enterprise"
PREFILL_FIELD = "x-prefill"
PREFILL_PROPERTY = "prefill"


def fields_of(schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The form's fields by name, in the order the form lists them."""
    found = schema.get("properties")
    if not isinstance(found, Mapping):
        return {}
    return {name: prop for name, prop in found.items() if isinstance(prop, Mapping)}


def undefined_fields(schema: Mapping[str, Any], data: Mapping[str, Any]) -> list[str]:
    """The names in ``data`` that the form does not define, in the order given."""
    defined = fields_of(schema)
    return [str(name) for name in data if name not in defined]


def read_only_fields(schema: Mapping[str, Any]) -> set[str]:
    """The fields the form shows but never takes back from a person."""
    return {name for name, prop in fields_of(schema).items() if prop.get("readOnly") is True}


def enterprise_fields(schema: Mapping[str, Any]) -> dict[str, str]:
    """Field name -> the enterprise record's attribute it shows (``name``, ``credit_code``)."""
    return {
        name: str(prop[ENTERPRISE_FIELD])
        for name, prop in fields_of(schema).items()
        if isinstance(prop.get(ENTERPRISE_FIELD), str)
    }


def prefill_names(task_properties: Mapping[str, str]) -> set[str]:
    """The fields a task's ``prefill`` property (comma-separated names) declares prefilled."""
    listed = task_properties.get(PREFILL_PROPERTY) or ""
    return {name.strip() for name in listed.split(",") if name.strip()}


def opening_values(
    schema: Mapping[str, Any], variables: Mapping[str, Any], *, prefilled: Iterable[str] = ()
) -> dict[str, Any]:
    """What the form's fillable fields open with: only what the model declares prefilled.

    Read-only fields are left out: they are shown, never filled in (see `shown_values`).
    """
    listed = set(prefilled)
    values: dict[str, Any] = {}
    for name, prop in fields_of(schema).items():
        if prop.get("readOnly") is True:
            continue
        source = prop.get(PREFILL_FIELD)
        if not isinstance(source, str):
            source = name if name in listed else None
        if source is not None and variables.get(source) is not None:
            values[name] = variables[source]
        elif "default" in prop:
            values[name] = prop["default"]
    return values


def shown_values(schema: Mapping[str, Any], variables: Mapping[str, Any]) -> dict[str, Any]:
    """The values of the form's read-only fields: what the process knows of them."""
    return {
        name: variables[name]
        for name in read_only_fields(schema)
        if variables.get(name) is not None
    }


def submittable(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """``data`` without the form's read-only fields: a value posted for one is ignored."""
    locked = read_only_fields(schema)
    return {name: value for name, value in data.items() if name not in locked}
