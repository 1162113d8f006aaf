"""An export of ``webapp.services.exports`` sent as a download, to API callers and pages alike.

The rows are read in a session of the response's own, open while they are sent, so a long
export never holds the request's session; the headers are in the reader's language.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from flask import Response, request, stream_with_context

from webapp.extensions import store
from webapp.models import Park
from webapp.services import exports, stats


def export_response(
    wanted: exports.Export, fmt: str, name: str, park_id: str, groups: frozenset[str] | None
) -> Response:
    """Stream an export (checked already) as a download."""
    title = exports.headers(wanted.kind, wanted.language)

    def body() -> Iterator[list[Any]]:
        with store.database.read() as session:
            park = session.get_one(Park, park_id)
            scoped = replace(wanted, scope=stats.Scope(park, groups))
            yield from exports.rows(session, scoped)

    chunks = (
        exports.csv_chunks(title, body())
        if fmt == "csv"
        else exports.xlsx_chunks(title, body(), wanted.kind)
    )
    return Response(
        stream_with_context(chunks),
        mimetype=exports.MEDIA_TYPES[fmt],
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


def reader_language(saved: str | None) -> str:
    """The export's language: the reader's saved one, else the browser's (zh or en)."""
    if saved:
        return "en" if saved.startswith("en") else "zh"
    best = request.accept_languages.best_match(["zh", "zh-CN", "en"], default="zh")
    return "en" if best == "en" else "zh"
