"""Answers a service builds in their documented shape already, written without a schema dump.

flask-smorest writes what a view returns through the view's marshmallow schema: a few Python
calls for every field of every object. An application's view answers every completion, so
its dump was a fair share of a step (when it listed the whole history, more than the step
itself for a long-lived application; now it carries the latest steps, see services/history).
`queries.instance_view` builds the view field by field as `InstanceViewSchema` documents it,
so it is written as it is; the schema still documents it in the OpenAPI description.
Timestamps are written as the schema writes them (``datetime.isoformat``), and
tests/webapp/api/test_answers.py holds the answers of every kind of application to the
schema's dump.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from flask import Response, current_app

from webapp import jsontext


def prebuilt(data: Any, status: int = 200) -> Response:
    """``data``, made only of JSON values and timestamps, as the API's JSON answer."""
    text = jsontext.dumps(data, options=jsontext.ISO_TIMESTAMPS, fallback=_standard)
    # ending in a newline, as Flask's own JSON answers do
    return current_app.response_class(text + "\n", status=status, mimetype="application/json")


def _standard(value: Any) -> str:
    # what orjson will not write (an integer beyond 64 bits), written as compact as orjson does
    return json.dumps(value, default=_timestamp, ensure_ascii=False, separators=(",", ":"))


def _timestamp(value: Any) -> str:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not a JSON value")


__all__ = ["prebuilt"]
