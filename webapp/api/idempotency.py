"""``Idempotency-Key``: a repeated request gets the first answer instead of acting twice.

Keys belong to the user who sent them. The first request with a key reserves it (a row with
status 0) before the view runs; a successful (2xx) answer is stored on the row and replayed
with ``Idempotent-Replayed: true`` to every later request with the same key and the same
method, path and body. An error answer releases the key, so the request can be corrected and
sent again. The rules for a key in use:

* same key, different method, path or body: 422 ``idempotency_key_reused``;
* same key while the first request is still running: 409 ``idempotency_key_in_use``.

Keys are remembered for ``KEEP_FOR``; a reservation whose request died is freed after
``STALE_AFTER``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from contextlib import suppress
from copy import deepcopy
from datetime import timedelta
from functools import wraps
from typing import Any, TypeVar, cast

from flask import Response, jsonify, make_response, request
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from webapp.api.bodies import is_json, loads
from webapp.api.caller import current_viewer
from webapp.api.errors import ApiError
from webapp.db import Database, utcnow
from webapp.extensions import store
from webapp.models import IdempotencyKey

HEADER = "Idempotency-Key"
KEEP_FOR = timedelta(hours=24)
STALE_AFTER = timedelta(minutes=5)
IN_PROGRESS = 0
HEADER_DOC = {
    "in": "header", "name": HEADER, "required": False,
    "schema": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": "^[!-~]+$"},
    "description": "Send the same key again to get the first answer instead of acting twice; "
                   "the same key with another body is 422, while the first still runs 409.",
}
_KEY_PATTERN = re.compile(r"[\x21-\x7e]{1,200}")

View = TypeVar("View", bound=Callable[..., Any])


def idempotent(view: View) -> View:
    """Honour an ``Idempotency-Key`` header on a state-changing view."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        key = request.headers.get(HEADER)
        if key is None:
            return view(*args, **kwargs)
        if not _KEY_PATTERN.fullmatch(key):
            raise ApiError(400, f"{HEADER} must be 1-200 visible ASCII characters")
        database = store.database
        user_id = current_viewer().user_id
        fingerprint = _fingerprint()
        replay = _reserve(database, user_id, key, fingerprint)
        if replay is not None:
            return replay
        try:
            response = make_response(view(*args, **kwargs))
        except BaseException:
            _release(database, user_id, key)
            raise
        if 200 <= response.status_code < 300:
            _remember(database, user_id, key, response)
        else:
            _release(database, user_id, key)
        return response

    _document(wrapper)
    return cast(View, wrapper)


def _document(wrapper: Any) -> None:
    """Add the header to the OpenAPI operation (the views take no query parameters)."""
    doc = deepcopy(getattr(wrapper, "_apidoc", {}))
    doc.setdefault("manual_doc", {}).setdefault("parameters", []).append(HEADER_DOC)
    wrapper._apidoc = doc


def _fingerprint() -> str:
    body = request.get_data(cache=True)
    if body and is_json(request.mimetype):
        # the same JSON spelled differently is the same request
        with suppress(ValueError):
            body = json.dumps(loads(body), sort_keys=True, separators=(",", ":")).encode()
    digest = hashlib.sha256(f"{request.method} {request.path}\n".encode())
    digest.update(body)
    return digest.hexdigest()


def _reserve(database: Database, user_id: str, key: str, fingerprint: str) -> Response | None:
    now = utcnow()
    try:
        with database.write() as session:
            row = session.get(IdempotencyKey, (user_id, key))
            if row is not None and _expired(row, now):
                session.delete(row)
                session.flush()
                row = None
            if row is None:
                session.add(IdempotencyKey(user_id=user_id, key=key, request_hash=fingerprint,
                                           response_status=IN_PROGRESS, created_at=now))
                return None
            if row.request_hash != fingerprint:
                raise ApiError(422, f"this {HEADER} was already used for a different request; "
                               "use a new key", code="idempotency_key_reused")
            if row.response_status == IN_PROGRESS:
                raise _in_use()
            return _replay(row)
    except IntegrityError:
        # another request reserved the same key at the same moment
        raise _in_use() from None


def _expired(row: IdempotencyKey, now: Any) -> bool:
    if row.response_status == IN_PROGRESS:
        return bool(row.created_at < now - STALE_AFTER)
    return bool(row.created_at < now - KEEP_FOR)


def _in_use() -> ApiError:
    return ApiError(409, f"a request with this {HEADER} is still being processed; "
                    "retry in a moment", code="idempotency_key_in_use")


def _replay(row: IdempotencyKey) -> Response:
    response = jsonify(row.response_body) if row.response_body is not None else Response()
    response.status_code = row.response_status
    response.headers["Idempotent-Replayed"] = "true"
    return response


def _remember(database: Database, user_id: str, key: str, response: Response) -> None:
    with database.write() as session:
        row = session.get(IdempotencyKey, (user_id, key))
        if row is not None:
            row.response_status = response.status_code
            row.response_body = response.get_json(silent=True)


def _release(database: Database, user_id: str, key: str) -> None:
    with database.write() as session:
        session.execute(delete(IdempotencyKey).where(
            IdempotencyKey.user_id == user_id, IdempotencyKey.key == key,
            IdempotencyKey.response_status == IN_PROGRESS))
