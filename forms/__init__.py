"""Task forms: JSON Schema documents named by a user task's ``camunda:formKey``.

The ``*.json`` files beside this module are the demo park's forms. The same functions check a
form when it is deployed and check submitted data on the server every time a task completes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema_rs
import orjson
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

from forms.bounds import bounded
from forms.fields import NOT_A_FIELD, undefined_fields

FORMS_DIR = Path(__file__).parent


class FormLoadError(Exception):
    """A form file cannot be read as JSON."""


def load_forms(directory: Path | str = FORMS_DIR) -> dict[str, Any]:
    """All ``<formKey>.json`` files of a folder, by form key."""
    folder = Path(directory)
    if not folder.is_dir():
        raise FormLoadError(f"form folder {folder} does not exist")
    forms: dict[str, Any] = {}
    for path in sorted(folder.glob("*.json")):
        try:
            forms[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise FormLoadError(f"{path.name}: not valid JSON ({exc})") from exc
    return forms


def schema_problems(schema: Any) -> list[str]:
    """Why ``schema`` is not a usable form (empty when it is)."""
    if not isinstance(schema, Mapping):
        return ["a form must be a JSON object"]
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        where = "/".join(str(p) for p in exc.path) or "(top)"
        return [f"not a valid JSON Schema at {where}: {exc.message}"]
    if schema.get("type") != "object":
        return ['a form\'s top-level "type" must be "object"']
    return []


# schema object -> its validators, by identity: a deployed process keeps its forms for its
# life, so a form is keyed without serializing it (the entry holds the schema, so the id
# cannot be reused while it is here)
_BY_IDENTITY: dict[int, tuple[Mapping[str, Any], Draft202012Validator, Any]] = {}
_IDENTITY_LIMIT = 512


def _validators_of(schema: Mapping[str, Any]) -> tuple[Draft202012Validator, Any]:
    found = _BY_IDENTITY.get(id(schema))
    if found is not None and found[0] is schema:
        return found[1], found[2]
    key = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS)
    validator, quick = _validator(key), _quick_validator(key)
    if len(_BY_IDENTITY) >= _IDENTITY_LIMIT:
        _BY_IDENTITY.clear()
    _BY_IDENTITY[id(schema)] = (schema, validator, quick)
    return validator, quick


def checked_schema(schema: Any) -> Any:
    """What data submitted through a form is checked against: the form as written, with the
    default bounds of the number fields it leaves open (forms.bounds), and closed to names it
    does not define (forms.fields), whether or not it forbids ``additionalProperties``.

    Both validators are made from this copy, never from the form alone: otherwise the Python
    validator, which has the final say, would take a field the form lacks or a number past
    the bounds that the quick path refuses, and the two would disagree.
    """
    checked = bounded(schema)
    if isinstance(checked, dict):
        checked["additionalProperties"] = False
    return checked


@lru_cache(maxsize=512)
def _validator(schema_json: bytes) -> Draft202012Validator:
    """The Python validator of a form (given as its JSON), as data_errors checks with it."""
    return Draft202012Validator(checked_schema(orjson.loads(schema_json)),
                                format_checker=FormatChecker())


@lru_cache(maxsize=512)
def _quick_validator(schema_json: bytes) -> Any:
    """The compiled validator of a schema, or None where it might accept what the Python
    validator rejects, or cannot take the schema (then the Python validator alone decides)."""
    schema = checked_schema(orjson.loads(schema_json))
    if not _quick_agrees(schema):
        return None
    try:
        return jsonschema_rs.Draft202012Validator(schema, validate_formats=True)
    except Exception:  # noqa: BLE001 -- any schema it refuses is simply checked the slow way
        return None


# where the two validators could differ, the quick one is not used: float remainders, remote
# references (it would fetch them), formats other than these, and regular expressions with
# classes that mean more in one dialect than in the other (ECMA's \s also matches U+FEFF;
# Python's \D, \W and [^\d] exclude every Unicode digit or letter)
_AGREED_FORMATS = frozenset({"date", "email"})
_PORTABLE_PATTERN = re.compile(r"(?:[^\\(]|\\[dw.\-+*?()\[\]{}|^$/]|\((?!\?))*")


def _quick_agrees(node: Any) -> bool:
    if isinstance(node, list):
        return all(_quick_agrees(item) for item in node)
    if not isinstance(node, Mapping):
        return True
    if "multipleOf" in node or "$dynamicRef" in node or "patternProperties" in node:
        return False
    ref = node.get("$ref")
    if ref is not None and not (isinstance(ref, str) and ref.startswith("#")):
        return False
    fmt = node.get("format")
    if fmt is not None and not (isinstance(fmt, str) and fmt in _AGREED_FORMATS):
        return False
    pattern = node.get("pattern")
    if pattern is not None and not (isinstance(pattern, str) and "[^" not in pattern
                                    and _PORTABLE_PATTERN.fullmatch(pattern)):
        return False
    return all(_quick_agrees(value) for key, value in node.items()
               if key not in ("enum", "const", "default", "examples"))


def _quickly_valid(quick: Any, data: Mapping[str, Any]) -> bool:
    try:
        return bool(quick.is_valid(data))
    except Exception:  # noqa: BLE001 -- values it cannot convert go the slow way
        return False


def data_errors(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Field path -> messages for every way ``data`` fails ``schema`` (empty when valid).

    This runs on every task completion. Valid data, by far the common case, is recognised by
    a compiled validator in a few microseconds; only data it rejects goes through the
    Python validator, which words the messages (and has the final say).

    A name the form does not define is refused whether or not the schema forbids
    ``additionalProperties``: a form's fields are all that may be submitted through it.
    """
    validator, quick = _validators_of(schema)
    errors: dict[str, list[str]] = {name: [NOT_A_FIELD] for name in undefined_fields(schema, data)}
    if not errors and quick is not None and _quickly_valid(quick, data):
        return {}
    for error in validator.iter_errors(data):
        path = list(error.absolute_path)
        if error.validator == "required" and isinstance(error.instance, Mapping):
            missing = [name for name in error.validator_value if name not in error.instance]
            for name in missing:
                messages = errors.setdefault(".".join(map(str, [*path, name])), [])
                # jsonschema reports each missing name once per 'required' it breaks
                if "is required" not in messages:
                    messages.append("is required")
            continue
        if error.validator == "additionalProperties" and isinstance(error.instance, Mapping):
            allowed = set(error.schema.get("properties", {}))
            for name in (key for key in error.instance if key not in allowed):
                messages = errors.setdefault(".".join(map(str, [*path, name])), [])
                if NOT_A_FIELD not in messages:
                    messages.append(NOT_A_FIELD)
            continue
        field = ".".join(map(str, path)) or "(form)"
        errors.setdefault(field, []).append(error.message)
    return errors
