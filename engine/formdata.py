"""Camunda Modeler's generated forms (``camunda:formData``) as JSON Schema forms.

A user task or a process's start event may describe its form inside the diagram instead of
naming one with ``camunda:formKey``. Parkflow turns such a description into the same kind of
JSON Schema form a form file holds, so the form is drawn, prefilled and checked on the server
exactly as a file-based one. The generated form is known by a key no form file can have
(``formData:<element id>``), is part of the version's forms and of its content hash.

Mapping, field by field (``camunda:formField``):

* ``id`` -> the property name (a process variable); ``label`` -> ``title``;
* ``type``: ``string`` -> string, ``long`` -> integer, ``boolean`` -> boolean (a check box),
  ``date`` -> string in ``date`` format (ISO ``YYYY-MM-DD``), ``enum`` -> a select over its
  ``camunda:value`` ids labelled by their names, ``textarea`` (SpiffWorkflow's) -> a string
  shown as several lines; any other type is refused;
* ``defaultValue`` -> ``default`` (converted to the type; a date may be written
  ``dd/MM/yyyy`` as Camunda does, a boolean yes/no); expressions are refused;
* ``camunda:validation`` constraints: ``required``, ``readonly``, ``minlength``/``maxlength``
  (strings), ``min``/``max`` (longs); any other validator is refused;
* ``camunda:properties`` (``id``/``value``): ``description`` (the hint under the field),
  ``widget`` = ``textarea``, ``pattern`` (a regular expression), ``prefill`` (the variable the
  field opens with); other properties are kept out of the form with a deploy warning.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from lxml import etree

from .bpmn_doc import Document, bpmn, camunda, problem
from .errors import Problem
from .expressions import FUNCTIONS
from .timers import CALENDAR_FUNCTIONS

FORM_DATA_PREFIX = "formData:"
TYPES = ("string", "long", "boolean", "date", "enum")
# a boolean field's defaultValue: Camunda's true/false, and the yes/no that diagrams also carry
_BOOLEAN_WORDS = {"true": True, "false": False, "yes": True, "no": False}
CONSTRAINTS = ("required", "readonly", "minlength", "maxlength", "min", "max")
FIELD_PROPERTIES = ("description", "widget", "pattern", "prefill")
_HOLDERS = frozenset({bpmn("userTask"), bpmn("startEvent")})
_FORM_DATA = f"{bpmn('extensionElements')}/{camunda('formData')}"
RESERVED_FUNCTIONS = frozenset(FUNCTIONS) | CALENDAR_FUNCTIONS
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")


def generated_key(element_id: str) -> str:
    """The form key of the form generated for an element."""
    return f"{FORM_DATA_PREFIX}{element_id}"


def is_generated(form_key: str) -> bool:
    """Whether a form key names a form generated from ``camunda:formData``."""
    return form_key.startswith(FORM_DATA_PREFIX)


def form_data_of(element: etree._Element) -> etree._Element | None:
    """The element's ``camunda:formData``, if it has one."""
    return element.find(_FORM_DATA)


def form_key_of(element: etree._Element) -> str | None:
    """The form a user task or start event opens: its generated form, or its formKey.

    A drawn form wins over a formKey on the same element: in Camunda a formKey names the page
    that shows the drawn fields, and the fields are what the task takes.
    """
    if form_data_of(element) is not None:
        return generated_key(element.get("id", ""))
    key = (element.get(camunda("formKey")) or "").strip()
    return key or None


@dataclass
class Generated:
    """What reading one ``camunda:formData`` gave: the form, and what is wrong with it."""

    schema: dict[str, Any]
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def generated_forms(roots: list[etree._Element]) -> dict[str, dict[str, Any]]:
    """form key -> JSON Schema of every formData of these documents (the first file wins)."""
    found: dict[str, dict[str, Any]] = {}
    for root in reversed(roots):
        for element in root.iter(*_HOLDERS):
            data = form_data_of(element)
            if data is not None:
                found[generated_key(element.get("id", ""))] = read_form_data(element, data).schema
    return found


def check_form_data(doc: Document) -> Generated:
    """The problems and warnings of every formData of a document (``schema`` is unused)."""
    found = Generated({})
    for element in doc.elements():
        data = form_data_of(element) if element.tag in _HOLDERS else None
        for misplaced in element.iterfind(_FORM_DATA) if element.tag not in _HOLDERS else ():
            found.problems.append(
                problem(
                    misplaced,
                    "camunda:formData gives a form to a user task or a start event only",
                    code="form_data_place",
                )
            )
        if data is None:
            continue
        if element.tag == bpmn("startEvent") and element.getparent().tag != bpmn("process"):
            found.problems.append(
                problem(
                    data,
                    "camunda:formData on a start event gives the "
                    "process its start form: it belongs on the process's "
                    "own start event",
                    code="form_data_place",
                )
            )
        key = (element.get(camunda("formKey")) or "").strip()
        if key:
            found.warnings.append(
                problem(
                    element,
                    f"camunda:formKey '{key}' is not used: the task shows the form drawn "
                    "in its camunda:formData",
                    code="form_key_and_data",
                    key=key,
                )
            )
        generated = read_form_data(element, data)
        found.problems += generated.problems
        found.warnings += generated.warnings
    return found


def read_form_data(element: etree._Element, data: etree._Element) -> Generated:
    """The JSON Schema form a ``camunda:formData`` describes, with its problems."""
    result = Generated(
        {"type": "object", "title": element.get("name") or element.get("id", ""), "properties": {}}
    )
    required: list[str] = []
    if (data.get("businessKey") or "").strip():
        result.warnings.append(
            problem(
                data,
                "camunda:formData businessKey is not used: "
                "Parkflow numbers each application itself",
                code="form_data_business_key",
            )
        )
    for child in data.iterchildren(etree.Element):
        if child.tag != camunda("formField"):
            result.problems.append(
                problem(
                    child,
                    "camunda:formData may contain camunda:formField elements only",
                    code="form_data_content",
                )
            )
            continue
        name = (child.get("id") or "").strip()
        if not _NAME.match(name):
            result.problems.append(
                problem(
                    child,
                    f"form field id '{name}' is not a variable name (letters, digits and _, "
                    "starting with a letter)",
                    code="form_field_id",
                    id=name,
                )
            )
            continue
        if _reserved(name):
            result.problems.append(
                problem(
                    child,
                    f"form field id '{name}' is a reserved name (a Python keyword, a function "
                    "of expressions or a pf_ name): no form may take it",
                    code="form_field_reserved",
                    id=name,
                )
            )
            continue
        if name in result.schema["properties"]:
            result.problems.append(
                problem(
                    child, f"form field '{name}' is defined twice", code="form_field_twice", id=name
                )
            )
            continue
        prop, must = _field(child, name, result)
        result.schema["properties"][name] = prop
        if must:
            required.append(name)
    if required:
        result.schema["required"] = required
    # a field's id is no element of the diagram: its problems point at the task or event
    # (the line still points at the field)
    owner = element.get("id", "")
    result.problems = [replace(p, element_id=owner) for p in result.problems]
    result.warnings = [replace(p, element_id=owner) for p in result.warnings]
    return result


def _reserved(name: str) -> bool:
    """Names the engine refuses in submitted data, whatever the form says."""
    return keyword.iskeyword(name) or name.startswith("pf_") or name in RESERVED_FUNCTIONS


def _field(field_el: etree._Element, name: str, result: Generated) -> tuple[dict[str, Any], bool]:
    """One form field as a JSON Schema property, and whether it is required."""
    kind = (field_el.get("type") or "").strip()
    prop: dict[str, Any] = {}
    if not kind:
        kind = "string"  # Camunda passes an untyped field's value on as it comes
        result.warnings.append(
            problem(
                field_el,
                f"form field '{name}' has no type: it is taken as a string",
                code="form_field_untyped",
                id=name,
            )
        )
    if kind == "textarea":
        # SpiffWorkflow's form-field dialect: a string field shown as several lines
        kind = "string"
        prop["x-widget"] = "textarea"
    if kind not in TYPES:
        result.problems.append(
            problem(
                field_el,
                f"form field '{name}' has type '{kind}', which is not supported: use one "
                f"of {', '.join(TYPES)}",
                code="form_field_type",
                id=name,
                type=kind,
                types=", ".join(TYPES),
            )
        )
    elif kind == "long":
        prop["type"] = "integer"
    elif kind == "date":
        prop.update(type="string", format="date")
    elif kind == "enum":
        prop["type"] = "string"
    else:
        prop["type"] = kind
    label = (field_el.get("label") or "").strip()
    if label:
        prop["title"] = label
    values, labels = _values(field_el, name, kind, result)
    if kind == "enum":
        prop.update({"enum": values, "x-enum-labels": labels, "x-widget": "select"})
    default = field_el.get("defaultValue")
    if default is not None and default.strip() and kind in TYPES:
        converted = _default(default.strip(), kind, values)
        if isinstance(converted, str) and converted.startswith("!"):
            result.problems.append(
                problem(
                    field_el,
                    f"form field '{name}': defaultValue '{default}' {converted[1:]}",
                    code="form_field_default",
                    id=name,
                    value=default,
                    reason=converted[1:],
                )
            )
        else:
            prop["default"] = converted
    must = _constraints(field_el, name, kind, prop, result)
    _properties(field_el, name, prop, result)
    return prop, must and not prop.get("readOnly")


def _values(
    field_el: etree._Element, name: str, kind: str, result: Generated
) -> tuple[list[str], list[str]]:
    values: list[str] = []
    labels: list[str] = []
    for value in field_el.iterfind(camunda("value")):
        if kind != "enum":
            result.problems.append(
                problem(
                    field_el,
                    line=value.sourceline,
                    message=f"form field '{name}': camunda:value belongs to enum fields only",
                    code="form_field_value",
                    id=name,
                )
            )
            break
        value_id = (value.get("id") or "").strip()
        if not value_id:
            result.problems.append(
                problem(
                    field_el,
                    line=value.sourceline,
                    message=f"form field '{name}': an enum value needs an id",
                    code="form_field_value",
                    id=name,
                )
            )
        elif value_id in values:
            result.problems.append(
                problem(
                    field_el,
                    line=value.sourceline,
                    message=f"form field '{name}': enum value '{value_id}' is listed twice",
                    code="form_field_value",
                    id=name,
                )
            )
        else:
            values.append(value_id)
            labels.append((value.get("name") or "").strip() or value_id)
    if (
        kind == "enum"
        and not values
        and not any(p.element_id == field_el.get("id") for p in result.problems)
    ):
        result.problems.append(
            problem(
                field_el,
                f"form field '{name}' is an enum without values (add camunda:value elements)",
                code="form_field_value",
                id=name,
            )
        )
    return values, labels


def _default(text: str, kind: str, values: list[str]) -> Any:
    """The default converted to the field's type, or '!reason' when it cannot be."""
    if text.startswith(("${", "#{")):
        return "!is an expression; give a literal value"
    if kind == "long":
        try:
            return int(text)
        except ValueError:
            return "!is not a whole number"
    if kind == "boolean":
        word = text.casefold()
        if word in _BOOLEAN_WORDS:
            return _BOOLEAN_WORDS[word]
        return "!is neither true nor false"
    if kind == "date":
        for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
            try:
                return datetime.strptime(text, pattern).date().isoformat()
            except ValueError:
                continue
        return "!is not a date (YYYY-MM-DD or dd/MM/yyyy)"
    if kind == "enum" and text not in values:
        return "!is none of the enum's values"
    return text


def _constraints(
    field_el: etree._Element, name: str, kind: str, prop: dict[str, Any], result: Generated
) -> bool:
    must = False
    path = f"{camunda('validation')}/{camunda('constraint')}"
    for constraint in field_el.iterfind(path):
        what = (constraint.get("name") or "").strip()
        config = (constraint.get("config") or "").strip()
        reason = _constraint(what, config, kind, prop)
        if what == "required":
            must = True
        if reason:
            result.problems.append(
                problem(
                    constraint,
                    f"form field '{name}': validation '{what}' {reason}",
                    code="form_field_constraint",
                    id=name,
                    constraint=what,
                    reason=reason,
                )
            )
    return must


def _constraint(what: str, config: str, kind: str, prop: dict[str, Any]) -> str | None:
    """Apply one constraint to ``prop``; why it cannot be applied, or None."""
    if what == "required":
        if kind == "string" and "minLength" not in prop:
            prop["minLength"] = 1
        return None
    if what == "readonly":
        prop["readOnly"] = True
        return None
    if what in ("minlength", "maxlength"):
        if kind not in ("string", "enum"):
            return "applies to string and enum fields only"
        if not config.isdigit():
            return f"needs a whole number as config, not '{config}'"
        prop["minLength" if what == "minlength" else "maxLength"] = int(config)
        return None
    if what in ("min", "max"):
        if kind == "long":
            try:
                prop["minimum" if what == "min" else "maximum"] = int(config)
            except ValueError:
                return f"needs a whole number as config, not '{config}'"
            return None
        return "applies to long fields only"
    return f"is not supported (Parkflow checks {', '.join(CONSTRAINTS)})"


def _properties(
    field_el: etree._Element, name: str, prop: dict[str, Any], result: Generated
) -> None:
    path = f"{camunda('properties')}/{camunda('property')}"
    for item in field_el.iterfind(path):
        key = (item.get("id") or item.get("name") or "").strip()
        value = item.get("value") or ""
        if key == "description" and value.strip():
            prop["description"] = value.strip()
        elif key == "widget" and value.strip() == "textarea" and prop.get("type") == "string":
            prop["x-widget"] = "textarea"
        elif key == "pattern" and prop.get("type") == "string":
            try:
                re.compile(value)
            except re.error as exc:
                result.problems.append(
                    problem(
                        item,
                        f"form field '{name}': pattern '{value}' is not a regular "
                        f"expression ({exc})",
                        code="form_field_pattern",
                        id=name,
                    )
                )
                continue
            prop["pattern"] = value
        elif key == "prefill" and value.strip():
            prop["x-prefill"] = value.strip()
        else:
            result.warnings.append(
                problem(
                    item,
                    f"form field '{name}': property '{key}' is not used by Parkflow "
                    f"(it reads {', '.join(FIELD_PROPERTIES)})",
                    code="form_field_property",
                    id=name,
                    property=key,
                )
            )
