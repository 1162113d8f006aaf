"""The bounds every number field has, whether or not its form gives them.

A form's ``minimum``/``maximum`` (or the exclusive ones) are the field's bounds. Where a form
gives none on a side, the field still may not go past a default bound there: one thousand
trillion (10^15, 千万亿), larger than any sum, count or measure a park's procedure deals in
(a whole country's yearly output is about 10^14 yuan), and the largest round number whose
integers and cents all survive the trip through JSON's doubles (2^53 is about 9 * 10^15).
So ``1e99`` typed as 研发投入 is refused beside its field instead of being stored as a number
no report can add up, and a form that wants more states its own ``maximum``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_BOUND = 10**15
NUMBER_TYPES = frozenset({"number", "integer"})


def is_number_field(prop: Mapping[str, Any]) -> bool:
    """Whether the field holds a number (its ``type`` is number or integer, or lists one)."""
    kind = prop.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(k in NUMBER_TYPES for k in kinds if isinstance(k, str))


def field_bounds(prop: Mapping[str, Any]) -> tuple[float, float]:
    """The lowest and highest value a number field takes, the default bounds filling gaps.

    Exclusive bounds are given as they are (a browser's ``min``/``max`` are inclusive; the
    server refuses the bound itself).
    """
    low = _first_number(prop, "minimum", "exclusiveMinimum")
    high = _first_number(prop, "maximum", "exclusiveMaximum")
    return (low if low is not None else -DEFAULT_BOUND, high if high is not None else DEFAULT_BOUND)


def bounded(schema: Any) -> Any:
    """``schema`` with the default bounds added to every number field that lacks one.

    The form as written is left alone (it is what the park deployed and what the API shows);
    the copy is what submitted data is checked against.
    """
    if isinstance(schema, list):
        return [bounded(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    found = {
        key: value if key in ("enum", "const", "default", "examples") else bounded(value)
        for key, value in schema.items()
    }
    if is_number_field(schema):
        if _first_number(schema, "minimum", "exclusiveMinimum") is None:
            found["minimum"] = -DEFAULT_BOUND
        if _first_number(schema, "maximum", "exclusiveMaximum") is None:
            found["maximum"] = DEFAULT_BOUND
    return found


def _first_number(prop: Mapping[str, Any], *keys: str) -> float | None:
    for key in keys:
        value = prop.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return value
    return None


__all__ = ["DEFAULT_BOUND", "bounded", "field_bounds", "is_number_field"]
