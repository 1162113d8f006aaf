"""The caller's saved inbox filters (常用筛选): list, save and delete them."""

# flask-smorest and Flask-Limiter ship no type hints for their decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import Any

from flask import Response
from marshmallow import Schema, fields, validate

from webapp.api.bodies import ApiBlueprint
from webapp.api.caller import current_viewer
from webapp.api.errors import ApiError
from webapp.api.schemas import ErrorSchema
from webapp.api.scoping import Viewer
from webapp.extensions import store
from webapp.models import Park, SavedFilter
from webapp.services import saved_filters
from webapp.services.inbox import MAX_TEXT, SCOPES, SORTS, InboxFilter

blp = ApiBlueprint(
    "saved_filters",
    __name__,
    url_prefix="/api/v1/me/filters",
    description="The caller's saved inbox filters (常用筛选).",
)


class SavedFilterSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    park = fields.String(required=True, metadata={"description": "the park's slug"})
    scope = fields.String(required=True)
    process_key = fields.String(allow_none=True)
    q = fields.String(allow_none=True)
    overdue = fields.Boolean(required=True)
    sort = fields.String(required=True)
    created_at = fields.DateTime(required=True)


class SavedFilterRequestSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=saved_filters.MAX_NAME))
    park = fields.String(
        load_default=None,
        validate=validate.Length(max=64),
        metadata={"description": "the park's slug; needed only when the caller belongs to several"},
    )
    scope = fields.String(load_default="all", validate=validate.OneOf(SCOPES))
    process_key = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=255)
    )
    q = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=MAX_TEXT))
    overdue = fields.Boolean(load_default=False)
    sort = fields.String(load_default="due", metadata={"enum": list(SORTS)})


def _item(saved: SavedFilter, slugs: dict[str, str]) -> dict[str, Any]:
    chosen = saved_filters.filter_of(saved)
    return {
        "id": saved.id,
        "name": saved.name,
        "park": slugs.get(saved.park_id, ""),
        "scope": chosen.scope,
        "process_key": chosen.process_key,
        "q": chosen.text,
        "overdue": chosen.overdue_only,
        "sort": chosen.sort,
        "created_at": saved.created_at,
    }


def _slugs(viewer: Viewer) -> dict[str, str]:
    return {role.park_id: role.slug for role in viewer.parks.values()}


@blp.route("", methods=["GET"])
@blp.response(200, SavedFilterSchema(many=True))
def list_filters() -> list[dict[str, Any]]:
    """List the caller's saved inbox filters in the parks they belong to, by name."""
    viewer = current_viewer()
    slugs = _slugs(viewer)
    with store.database.read() as session:
        return [
            _item(one, slugs)
            for one in saved_filters.filters_of(session, user_id=viewer.user_id)
            if one.park_id in slugs
        ]


@blp.route("", methods=["POST"])
@blp.arguments(SavedFilterRequestSchema())
@blp.response(201, SavedFilterSchema)
@blp.alt_response(400, schema=ErrorSchema, description="An unknown sort, or no park named")
@blp.alt_response(422, schema=ErrorSchema, description="No name, too long, or too many")
def save_filter(body: dict[str, Any]) -> dict[str, Any]:
    """Save a filter and order of ``GET /api/v1/tasks`` under a name (the same name again
    replaces what it held)."""
    viewer = current_viewer()
    if body["sort"] not in SORTS:
        raise ApiError(400, f"sort must be one of: {', '.join(SORTS)}", code="bad_sort")
    slugs = _slugs(viewer)
    slug = body["park"]
    if slug is None:
        if len(slugs) != 1:
            raise ApiError(
                400,
                "name the park (park=<slug>): the caller belongs to several",
                code="park_needed",
            )
        slug = next(iter(slugs.values()))
    park_id = next((pid for pid, one in slugs.items() if one == slug), None)
    if park_id is None:
        raise ApiError(404, f"park {slug!r} not found", code="not_found")
    chosen = InboxFilter(
        scope=body["scope"],
        process_key=body["process_key"] or None,
        text=(body["q"] or "").strip() or None,
        overdue_only=body["overdue"],
        sort=body["sort"],
    )
    with store.database.write() as session:
        session.get_one(Park, park_id)
        saved = saved_filters.save_filter(
            session,
            user_id=viewer.user_id,
            username=viewer.username,
            park_id=park_id,
            name=body["name"],
            chosen=chosen,
        )
        return _item(saved, slugs)


@blp.route("/<filter_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, schema=ErrorSchema, description="Not one of the caller's filters")
def delete_filter(filter_id: str) -> Response:
    """Delete one of the caller's saved filters."""
    viewer = current_viewer()
    with store.database.write() as session:
        saved_filters.delete_filter(
            session, user_id=viewer.user_id, username=viewer.username, filter_id=filter_id
        )
    return Response(status=204)
