"""JSON text written by orjson where it writes what the standard library would.

orjson is about ten times faster than ``json``, and a task completion writes and reads a
dozen JSON values (columns, the answer). Where the two differ, the standard library's
behaviour is kept: values orjson will not write go to a fallback, and text with integers
too long for 64 bits (which orjson reads as floats) is read by ``json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import orjson

# dates, dataclasses and str/int subclasses are not orjson's to write: they reach ``default``
# (or, without one, the fallback) as they would reach the standard library's
OPTIONS = (orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME
           | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_SUBCLASS)
# the same, but timestamps are written by orjson itself: the text ``datetime.isoformat`` gives
ISO_TIMESTAMPS = OPTIONS & ~orjson.OPT_PASSTHROUGH_DATETIME
# 19 digits and more may not fit in 64 bits
LONG_NUMBER = re.compile(r"[0-9]{19}")


def dumps(value: Any, *, default: Callable[[Any], Any] | None = None,
          fallback: Callable[[Any], str] = json.dumps, options: int = OPTIONS) -> str:
    """``value`` as compact JSON text (UTF-8, not ASCII escapes); what orjson refuses (an
    integer beyond 64 bits, a value ``default`` does not know) is written by ``fallback``."""
    try:
        return orjson.dumps(value, default=default, option=options).decode()
    except TypeError:
        return fallback(value)


def loads(text: str | bytes) -> Any:
    """JSON text read back: by orjson, unless only the standard library reads it as written
    (integers beyond 64 bits, NaN written by the standard library)."""
    if not isinstance(text, str):
        text = bytes(text).decode()
    if LONG_NUMBER.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


__all__ = ["ISO_TIMESTAMPS", "LONG_NUMBER", "OPTIONS", "dumps", "loads"]
