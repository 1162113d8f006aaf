"""Keyset paging: ``?limit=`` and an opaque ``?cursor=``; the next page's URL in ``Link``.

A cursor is the sort key of the last item served, as base64url JSON. Clients must treat it as
opaque; the server checks its shape against the list's key and refuses anything else with 400.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from flask import request

from webapp.api.errors import ApiError
from webapp.services.queries import KeyKind, Page

BAD_CURSOR = "the cursor is not valid; start again from the first page"


def encode_cursor(key: tuple[Any, ...]) -> str:
    """Return the opaque form of a sort key."""
    plain = [value.isoformat() if isinstance(value, datetime) else value for value in key]
    raw = json.dumps(plain, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def decode_cursor(cursor: str | None, kinds: tuple[KeyKind, ...]) -> tuple[Any, ...] | None:
    """Return the sort key a cursor stands for, checked against the list's key ``kinds``."""
    if cursor is None:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw.decode("utf-8"))
    except (binascii.Error, ValueError):
        raise ApiError(400, BAD_CURSOR, code="bad_cursor") from None
    if not isinstance(values, list) or len(values) != len(kinds):
        raise ApiError(400, BAD_CURSOR, code="bad_cursor")
    return tuple(_typed(value, kind) for value, kind in zip(values, kinds, strict=True))


def _typed(value: Any, kind: KeyKind) -> Any:
    if kind == "time" and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ApiError(400, BAD_CURSOR, code="bad_cursor") from None
        if parsed.tzinfo is not None:
            return parsed
    elif kind == "int" and isinstance(value, int) and not isinstance(value, bool):
        if 0 <= value < 2**63:
            return value
    elif kind == "str" and isinstance(value, str) and "\x00" not in value and len(value) <= 255:
        return value
    raise ApiError(400, BAD_CURSOR, code="bad_cursor")


def link_headers(page: Page) -> dict[str, str]:
    """Return the ``Link: <...>; rel="next"`` header when there is a next page."""
    if page.next_key is None:
        return {}
    args = request.args.to_dict(flat=False)
    args["cursor"] = [encode_cursor(page.next_key)]
    url = f"{request.path}?{urlencode(args, doseq=True)}"
    return {"Link": f'<{url}>; rel="next"'}
