"""Supervision: a park's figures (按时办结率, 超期件, working days, steps, groups, ratings) and
its exports (applications, tasks, ratings, audit) as CSV or XLSX.

Park administrators see the whole park, reviewers their own groups; enterprise users are
refused (403). See ``webapp.services.stats`` for what is counted and how.
"""

# flask-smorest and Flask-Limiter ship no type hints for their decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response
from marshmallow import Schema, fields, validate

from webapp.api.bodies import ApiBlueprint
from webapp.api.caller import current_viewer
from webapp.api.schemas import ErrorSchema
from webapp.api.scoping import Viewer, park_for
from webapp.db import utcnow
from webapp.downloads import export_response, reader_language
from webapp.extensions import store
from webapp.models import Park, User
from webapp.services import exports, stats
from webapp.services.errors import NotFound

blp = ApiBlueprint(
    "supervision",
    __name__,
    url_prefix="/api/v1",
    description="Supervision: a park's figures and exports.",
)
STAFF = ("admin", "reviewer")


class StatsArgsSchema(Schema):
    date_from = fields.Date(
        data_key="from",
        load_default=None,
        metadata={"description": "first day of receipt (local), YYYY-MM-DD"},
    )
    date_to = fields.Date(
        data_key="to",
        load_default=None,
        metadata={"description": "last day of receipt (local), YYYY-MM-DD"},
    )
    process_key = fields.String(validate=validate.Length(min=1, max=255), load_default=None)


class ExportArgsSchema(StatsArgsSchema):
    lang = fields.String(
        validate=validate.OneOf(exports.LANGUAGES),
        load_default=None,
        metadata={
            "description": "the headers' language; default: the "
            "caller's saved one, else Accept-Language"
        },
    )


class RatingFiguresSchema(Schema):
    count = fields.Integer()
    satisfied_rate = fields.Float(allow_none=True)
    bad = fields.Integer()
    bad_rectified = fields.Integer()


class StepFiguresSchema(Schema):
    element_id = fields.String()
    name = fields.String()
    avg_working_days = fields.Float(allow_none=True)
    overdue = fields.Integer()
    open = fields.Integer()


class GroupFiguresSchema(Schema):
    group = fields.String()
    completed = fields.Integer()
    on_time_rate = fields.Float(allow_none=True)
    overdue_open = fields.Integer()


class StatsSchema(Schema):
    applications = fields.Integer()
    completed = fields.Integer()
    on_time_rate = fields.Float(allow_none=True)
    overdue_open = fields.Integer()
    avg_working_days = fields.Float(allow_none=True)
    promised_working_days = fields.Float(allow_none=True)
    ratings = fields.Nested(RatingFiguresSchema)
    steps = fields.List(fields.Nested(StepFiguresSchema))
    by_group = fields.List(fields.Nested(GroupFiguresSchema))


def scope_of(viewer: Viewer, park: Park) -> stats.Scope:
    """The viewer's scope in ``park`` (403 for enterprise users)."""
    role = viewer.parks[park.id]
    return stats.scope_for(park, role.role, role.groups)


@blp.route("/parks/<park>/stats", methods=["GET"])
@blp.arguments(StatsArgsSchema(), location="query")
@blp.response(200, StatsSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Enterprise users see no figures")
@blp.alt_response(422, schema=ErrorSchema, description="Bad dates or an unknown procedure")
def park_stats(args: dict[str, Any], park: str) -> dict[str, Any]:
    """The park's supervision figures for applications received in the range."""
    viewer = current_viewer()
    with store.database.read() as session:
        found = park_for(session, viewer, park, roles=STAFF)
        scope = scope_of(viewer, found)
        filters = stats.check_filters(
            session,
            found,
            date_from=args["date_from"],
            date_to=args["date_to"],
            process_key=args["process_key"],
        )
        return stats.park_stats(session, scope, filters, utcnow())


@blp.route("/parks/<park>/export/<what>.<fmt>", methods=["GET"])
@blp.arguments(ExportArgsSchema(), location="query")
@blp.alt_response(403, schema=ErrorSchema, description="Enterprise users export nothing")
@blp.alt_response(404, schema=ErrorSchema, description="No such export or format")
@blp.alt_response(422, schema=ErrorSchema, description="Bad dates or an unknown procedure")
def export(args: dict[str, Any], park: str, what: str, fmt: str) -> Response:
    """One row per application, task, rating or audit event, as CSV or XLSX."""
    if what not in exports.KINDS:
        raise NotFound(f"export {what!r} (one of {', '.join(exports.KINDS)})")
    if fmt not in exports.FORMATS:
        raise NotFound(f"format {fmt!r} (csv or xlsx)")
    viewer = current_viewer()
    with store.database.read() as session:
        found = park_for(session, viewer, park, roles=STAFF)
        scope = scope_of(viewer, found)
        filters = stats.check_filters(
            session,
            found,
            date_from=args["date_from"],
            date_to=args["date_to"],
            process_key=args["process_key"],
        )
        user = session.get(User, viewer.user_id)
        language = args["lang"] or reader_language(user.locale if user else None)
        wanted = exports.Export(what, scope, filters, language, utcnow())
        name = exports.filename(wanted, fmt)
        park_id, groups = found.id, scope.groups
    return export_response(wanted, fmt, name, park_id, groups)


def parse_day(text: str | None) -> date | None:
    """A YYYY-MM-DD query argument, None when empty; ValueError when malformed."""
    return date.fromisoformat(text) if text else None
