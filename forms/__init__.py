"""Task forms: JSON Schema documents named by a user task's ``camunda:formKey``.

The ``*.json`` files beside this module are the demo park's forms. The same functions check a
form when it is deployed and check submitted data on the server every time a task completes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

import orjson
from jsonschema import Draft202012Validator, FormatChecker
from jsonschema.exceptions import SchemaError

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


@lru_cache(maxsize=512)
def _validator(schema_json: bytes) -> Draft202012Validator:
    return Draft202012Validator(orjson.loads(schema_json), format_checker=FormatChecker())


def data_errors(schema: Mapping[str, Any], data: Mapping[str, Any]) -> dict[str, list[str]]:
    """Field path -> messages for every way ``data`` fails ``schema`` (empty when valid)."""
    validator = _validator(orjson.dumps(schema, option=orjson.OPT_SORT_KEYS))
    errors: dict[str, list[str]] = {}
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
                errors.setdefault(".".join(map(str, [*path, name])), []).append(
                    "is not a field of this form")
            continue
        field = ".".join(map(str, path)) or "(form)"
        errors.setdefault(field, []).append(error.message)
    return errors
