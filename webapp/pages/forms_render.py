"""JSON Schema forms as HTML form fields, and submitted fields back as form data.

A form is a JSON Schema object (see ``forms/``). Each property becomes one field: its widget
follows from the type and the extension keywords (``x-widget``: ``textarea``, ``file``,
``select`` for an enum, ``x-enum-labels``,
``readOnly``). What comes back from the browser is converted to the schema's types and then
checked on the server with ``forms.data_errors`` (the very check the engine applies when the
task completes); every message is put in the user's language beside its field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import format_decimal
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from forms import data_errors
from forms.bounds import field_bounds

FORM_ERRORS = "(form)"
RADIO_LIMIT = 4
Raw = Mapping[str, Any]


@dataclass(frozen=True)
class Option:
    """One choice of a radio group, select, or set of check boxes."""

    value: str
    label: str
    final: bool = False  # choosing it ends the application: the page asks before sending


@dataclass
class FormField:
    """One field of a rendered form: what the template needs to draw it and its errors."""

    name: str
    widget: str
    label: str
    help: str | None
    required: bool
    value: Any
    options: list[Option] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    max_length: int | None = None
    step: str | None = None
    bounds: tuple[float, float] | None = None
    shown: str = ""
    items: list[str] = field(default_factory=list)


def properties(schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The form's fields by name, in the order the form lists them."""
    found = schema.get("properties") or {}
    return {name: prop for name, prop in found.items() if isinstance(prop, Mapping)}


def widget_of(prop: Mapping[str, Any]) -> str:
    """The kind of input a property is drawn with."""
    kind = _type(prop)
    if prop.get("readOnly"):
        return "readonly"
    if prop.get("x-widget") == "file":
        return "file"
    if kind == "array":
        items = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        return "checkboxes" if "enum" in items else "lines"
    if "enum" in prop:
        if prop.get("x-widget") == "select":
            return "select"
        return "radio" if len(prop["enum"]) <= RADIO_LIMIT else "select"
    if kind in ("boolean", "number", "integer"):
        return {"boolean": "checkbox", "number": "number", "integer": "integer"}[kind]
    if prop.get("format") == "date":
        return "date"
    return "textarea" if prop.get("x-widget") == "textarea" else "text"


def _type(prop: Mapping[str, Any]) -> str | None:
    kind = prop.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), None)
    return kind if isinstance(kind, str) else None


# the choices that cannot be undone (不予受理, 不予批准): a form lists them in "x-final";
# without it, "reject" is, as every procedure of the park names its refusal
FINAL_CHOICES = "x-final"
DEFAULT_FINAL = ["reject"]


def options_of(prop: Mapping[str, Any]) -> list[Option]:
    """The choices of an enum property (or of an array's enum items), labelled."""
    source = prop.get("items") if _type(prop) == "array" else prop
    if not isinstance(source, Mapping) or "enum" not in source:
        return []
    values = list(source["enum"])
    labels = source.get("x-enum-labels") or prop.get("x-enum-labels") or []
    final = prop.get(FINAL_CHOICES, DEFAULT_FINAL)
    final = final if isinstance(final, list) else DEFAULT_FINAL
    return [Option(_as_text(value), str(labels[i]) if i < len(labels) else _as_text(value),
                   final=value in final)
            for i, value in enumerate(values)]


# --- drawing -----------------------------------------------------------------------------


def raw_from_data(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values as the browser would send them, from stored data (to prefill)."""
    raw: dict[str, Any] = {}
    for name, prop in properties(schema).items():
        if name not in data or data[name] is None:
            continue
        value = data[name]
        widget = widget_of(prop)
        if widget in ("checkboxes", "file"):
            raw[name] = [_as_text(v) for v in value] if isinstance(value, list) else []
        elif widget == "lines":
            raw[name] = "\n".join(_as_text(v) for v in value) if isinstance(value, list) else ""
        elif widget == "checkbox":
            raw[name] = "on" if value is True else ""
        else:
            raw[name] = _as_text(value)
    return raw


def raw_from_request(schema: Mapping[str, Any], form: MultiDict[str, str]) -> dict[str, Any]:
    """The submitted values of the form's fields, as typed."""
    raw: dict[str, Any] = {}
    for name, prop in properties(schema).items():
        if widget_of(prop) in ("checkboxes", "file"):
            raw[name] = form.getlist(name)
        elif name in form:
            raw[name] = form.get(name, "")
    return raw


def build_fields(schema: Mapping[str, Any], raw: Raw, *, shown: Mapping[str, Any],
                 errors: Mapping[str, list[str]],
                 files: Mapping[str, str]) -> list[FormField]:
    """The fields to draw: inputs prefilled from ``raw``, read-only ones showing ``shown``."""
    required = set(schema.get("required") or [])
    fields = []
    for name, prop in properties(schema).items():
        widget = widget_of(prop)
        default = [] if widget in ("checkboxes", "file") else ""
        fields.append(FormField(
            name=name, widget=widget, label=str(prop.get("title") or name),
            help=str(prop["description"]) if prop.get("description") else None,
            required=name in required and widget != "readonly",
            value=raw.get(name, default), options=_field_options(widget, prop, raw, files),
            errors=list(errors.get(name, [])),
            max_length=prop.get("maxLength") if isinstance(prop.get("maxLength"), int) else None,
            step="1" if widget == "integer" else "any",
            bounds=field_bounds(prop) if widget in ("number", "integer") else None,
            shown=display(prop, shown.get(name), files) if widget == "readonly" else "",
            items=_items(prop, shown.get(name), files) if widget == "readonly" else [],
        ))
    return fields


def _items(prop: Mapping[str, Any], value: Any, files: Mapping[str, str]) -> list[str]:
    if not isinstance(value, list):
        return []
    item_prop = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
    return [display(item_prop, item, files) for item in value]


def _field_options(widget: str, prop: Mapping[str, Any], raw: Raw,
                   files: Mapping[str, str]) -> list[Option]:
    if widget == "file":
        return [Option(attachment_id, filename) for attachment_id, filename in files.items()]
    return options_of(prop)


def display(prop: Mapping[str, Any], value: Any, files: Mapping[str, str] | None = None) -> str:
    """A stored value as a person reads it: labels for codes, grouped digits, file names."""
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, list):
        item_prop = prop.get("items") if isinstance(prop.get("items"), Mapping) else {}
        shown = [display({**item_prop, "x-enum-labels": prop.get("x-enum-labels")}, item, files)
                 for item in value]
        return "；".join(shown)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    labels = {option.value: option.label for option in options_of(prop)}
    if _as_text(value) in labels:
        return labels[_as_text(value)]
    if files and isinstance(value, str) and value in files:
        return files[value]
    if isinstance(value, int | float):
        return str(format_decimal(value))
    return str(value)


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


# --- reading back ------------------------------------------------------------------------


def parse(schema: Mapping[str, Any], raw: Raw, *, uploaded: Mapping[str, list[str]],
          allowed_files: Iterable[str]) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Convert submitted values to the schema's types; the data and the conversion errors.

    Read-only fields are never taken from the browser. A file field's value is the list of
    attachment ids kept (only ids in ``allowed_files``) plus those just ``uploaded``.
    """
    data: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    allowed = set(allowed_files)
    for name, prop in properties(schema).items():
        widget = widget_of(prop)
        if widget == "readonly":
            continue
        if widget == "file":
            kept = [v for v in _list(raw.get(name)) if v in allowed]
            files = list(dict.fromkeys([*kept, *uploaded.get(name, [])]))
            if files:
                data[name] = files if _type(prop) == "array" else files[-1]
            continue
        try:
            value = _convert(widget, prop, raw.get(name))
        except ValueError as exc:
            errors[name] = [str(exc)]
            continue
        if value is not None:
            data[name] = value
    return data, errors


def _convert(widget: str, prop: Mapping[str, Any], raw: Any) -> Any:
    if widget == "checkbox":
        return raw in ("on", "true", "1", "yes")
    if widget == "checkboxes":
        return [_typed_choice(prop.get("items") or {}, v) for v in _list(raw)] or None
    text = raw if isinstance(raw, str) else ""
    if widget == "lines":
        lines = [line.strip() for line in text.replace("\r\n", "\n").split("\n")]
        return [line for line in lines if line] or None
    text = text.strip() if widget != "textarea" else text.replace("\r\n", "\n").strip()
    if not text:
        return None
    if widget in ("radio", "select"):
        return _typed_choice(prop, text)
    if widget == "number":
        return _number(text)
    if widget == "integer":
        return _integer(text)
    return text


def _list(raw: Any) -> list[str]:
    if isinstance(raw, list):
        return [str(v) for v in raw if str(v).strip()]
    return [raw] if isinstance(raw, str) and raw.strip() else []


def _typed_choice(prop: Mapping[str, Any], text: str) -> Any:
    """The enum value whose text the browser sent (enums may hold numbers)."""
    for value in prop.get("enum") or []:
        if _as_text(value) == text:
            return value
    return text


def _number(text: str) -> int | float:
    try:
        number = Decimal(text.replace(",", "").replace(" ", ""))
    except InvalidOperation:
        raise ValueError(_("Enter a number.")) from None
    if not number.is_finite():
        raise ValueError(_("Enter a number."))
    return int(number) if number == number.to_integral_value() else float(number)


def _integer(text: str) -> int:
    try:
        number = _number(text)
    except ValueError:
        raise ValueError(_("Enter a whole number.")) from None
    if isinstance(number, float):
        raise ValueError(_("Enter a whole number."))
    return number


# --- checking ----------------------------------------------------------------------------

# what a page's form sends beside the schema's fields
PAGE_FIELDS = frozenset({"csrf_token"})


def strangers(schema: Mapping[str, Any], names: Iterable[str], *,
              also: Iterable[str] = ()) -> dict[str, list[str]]:
    """A form-wide error naming what was sent that the form does not define (none: empty).

    A browser sends only the form's own fields (and the inputs ``also`` names); anything else
    was added on purpose, and is refused as the API refuses it rather than dropped unseen.
    """
    known = {*properties(schema), *PAGE_FIELDS, *also}
    found = sorted({name for name in names if name not in known})
    if not found:
        return {}
    return {FORM_ERRORS: [_("Fields this form does not define: %(names)s",
                            names="、".join(found))]}



def check(schema: Mapping[str, Any], data: Mapping[str, Any],
          conversion_errors: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Every problem of the submitted form by field, in the user's language (empty: valid)."""
    errors: dict[str, list[str]] = {k: list(v) for k, v in conversion_errors.items()}
    return merge_errors(schema, data_errors(schema, data), errors)


def merge_errors(schema: Mapping[str, Any], found: Mapping[str, list[str]],
                 into: dict[str, list[str]] | None = None) -> dict[str, list[str]]:
    """Add the engine's field messages (``field`` or ``field.index`` paths) in the user's words."""
    errors = into if into is not None else {}
    props = properties(schema)
    for path, messages in found.items():
        name, _dot, index = path.partition(".")
        if name in errors:
            continue  # its value could not even be read; one message is enough
        target = name if name in props else FORM_ERRORS
        prop = props.get(name, {})
        for message in messages:
            text = localize(message, prop, item=index.isdigit())
            if index.isdigit():
                text = _("Item %(number)d: %(problem)s", number=int(index) + 1, problem=text)
            if text not in errors.get(target, []):
                errors.setdefault(target, []).append(text)
    return errors


def details_of(details: Any, message: str) -> dict[str, list[str]]:
    """A service's ``Invalid`` details as field messages (its message when it has none)."""
    found: dict[str, list[str]] = {}
    if isinstance(details, Mapping):
        for key, value in details.items():
            found[str(key)] = ([str(m) for m in value] if isinstance(value, list | tuple)
                               else [str(value)])
    return found or {FORM_ERRORS: [message]}


Rule = tuple[re.Pattern[str], Callable[[re.Match[str], Mapping[str, Any], bool], str]]


def _length(match: re.Match[str], prop: Mapping[str, Any], item: bool, *, longest: bool) -> str:
    target = prop.get("items", {}) if item else prop
    if _type(target) == "array":
        count = target.get("maxItems" if longest else "minItems")
        if isinstance(count, int):
            return (_("Give at most %(count)d items.", count=count) if longest
                    else _("Give at least %(count)d items.", count=count))
    count = target.get("maxLength" if longest else "minLength")
    if isinstance(count, int):
        return (_("Enter at most %(count)d characters.", count=count) if longest
                else _("Enter at least %(count)d characters.", count=count))
    return _("This is too long.") if longest else _("This is too short.")


def _wrong_type(match: re.Match[str], prop: Mapping[str, Any], item: bool) -> str:
    expected = match.group(1)
    if expected == "number":
        return _("Enter a number.")
    if expected == "integer":
        return _("Enter a whole number.")
    return _("This value has the wrong kind.")


def _limit(text: str) -> str:
    """A bound as people read it: 1,000,000,000,000,000 rather than 1000000000000000."""
    try:
        return str(format_decimal(Decimal(text)))
    except (InvalidOperation, ValueError):
        return text


RULES: list[Rule] = [
    (re.compile(r"^is required$"), lambda m, p, i: _("This field is required.")),
    (re.compile(r"^is not a field of this form$"),
     lambda m, p, i: _("This is not a field of this form.")),
    (re.compile(r"should be non-empty$"), lambda m, p, i: _("This field must not be empty.")),
    (re.compile(r"is too short$"), lambda m, p, i: _length(m, p, i, longest=False)),
    (re.compile(r"is too long$"), lambda m, p, i: _length(m, p, i, longest=True)),
    (re.compile(r" does not match "),
     lambda m, p, i: _("The format is not valid; see the hint under the field.")
     if p.get("description") else _("The format is not valid.")),
    (re.compile(r"is less than or equal to the minimum of (\S+)$"),
     lambda m, p, i: _("Must be greater than %(limit)s.", limit=_limit(m.group(1)))),
    (re.compile(r"is less than the minimum of (\S+)$"),
     lambda m, p, i: _("Must be at least %(limit)s.", limit=_limit(m.group(1)))),
    (re.compile(r"is greater than or equal to the maximum of (\S+)$"),
     lambda m, p, i: _("Must be less than %(limit)s.", limit=_limit(m.group(1)))),
    (re.compile(r"is greater than the maximum of (\S+)$"),
     lambda m, p, i: _("Must be at most %(limit)s.", limit=_limit(m.group(1)))),
    (re.compile(r"^True was expected$"), lambda m, p, i: _("Please tick this box.")),
    (re.compile(r" was expected$"), lambda m, p, i: _("This value is not allowed.")),
    (re.compile(r" is not one of "), lambda m, p, i: _("Choose one of the options offered.")),
    (re.compile(r" is not of type '(\w+)'"), _wrong_type),
    (re.compile(r" is not a 'date'$"), lambda m, p, i: _("Enter a date as YYYY-MM-DD.")),
    (re.compile(r" is not a '[\w-]+'$"), lambda m, p, i: _("The format is not valid.")),
    (re.compile(r"^is a reserved name$"), lambda m, p, i: _("This is not a field of this form.")),
]


def localize(message: str, prop: Mapping[str, Any], *, item: bool = False) -> str:
    """A validation message of ``forms.data_errors`` in the user's language."""
    for pattern, say in RULES:
        match = pattern.search(message)
        if match is not None:
            return say(match, prop, item)
    return message
