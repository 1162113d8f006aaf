"""Holiday schedules: the State Council's yearly schedule of a park, listed, previewed,
imported and removed (park admins)."""

# flask-smorest ships no type hints for its decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

import base64
import binascii
from typing import Any

from marshmallow import Schema, fields, validate

from webapp.api.bodies import ApiBlueprint
from webapp.api.caller import current_viewer
from webapp.api.schemas import ErrorSchema
from webapp.api.scoping import park_for
from webapp.extensions import store
from webapp.services import holidays
from webapp.services.errors import Invalid, NotFound

blp = ApiBlueprint(
    "holidays",
    __name__,
    url_prefix="/api/v1/parks/<park>/holiday-schedules",
    description="The statutory holiday schedules a park imported, by year.",
)
ADMIN = ("admin",)


class ScheduleRequestSchema(Schema):
    year = fields.Integer(required=True, validate=validate.Range(min=2000, max=2100))
    text = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=holidays.MAX_TEXT),
        metadata={"description": "the dates, as the calendar page takes them"},
    )
    ics = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=holidays.MAX_TEXT * 6),
        metadata={"description": "an .ics file, base64-encoded"},
    )
    preview = fields.Boolean(
        load_default=False, metadata={"description": "answer what would be saved; save nothing"}
    )


class ScheduleSchema(Schema):
    year = fields.Integer(required=True)
    source = fields.String(required=True)
    holidays = fields.List(fields.Date(), required=True)
    workdays = fields.List(fields.Date(), required=True)
    saved = fields.Boolean(required=True)


def _shown(schedule: holidays.Schedule, *, saved: bool) -> dict[str, Any]:
    return {
        "year": schedule.year,
        "source": schedule.source,
        "holidays": schedule.holidays,
        "workdays": schedule.workdays,
        "saved": saved,
    }


@blp.route("", methods=["GET"])
@blp.response(200, ScheduleSchema(many=True))
@blp.alt_response(403, schema=ErrorSchema, description="Only park admins")
def list_schedules(park: str) -> list[dict[str, Any]]:
    """The park's imported schedules, newest year first."""
    with store.database.read() as session:
        found = park_for(session, current_viewer(), park, roles=ADMIN)
        return [
            _shown(holidays.stored(row), saved=True) for row in holidays.schedules(session, found)
        ]


@blp.route("", methods=["POST"])
@blp.arguments(ScheduleRequestSchema())
@blp.response(201, ScheduleSchema)
@blp.alt_response(200, schema=ScheduleSchema, description="A preview: nothing was saved")
@blp.alt_response(403, schema=ErrorSchema, description="Only park admins")
@blp.alt_response(422, schema=ErrorSchema, description="The dates cannot be read")
def import_schedule(body: dict[str, Any], park: str) -> tuple[dict[str, Any], int]:
    """Import (or with ``preview`` only read) the schedule of a year, replacing an earlier one."""
    viewer = current_viewer()
    with store.database.read() as session:
        park_for(session, viewer, park, roles=ADMIN)
    if bool(body["text"]) == bool(body["ics"]):
        raise Invalid(
            "give the dates as text or as an .ics file, one of the two",
            details={"text": ["give text or ics"]},
        )
    if body["ics"]:
        try:
            content = base64.b64decode(body["ics"], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Invalid("ics must be base64", details={"ics": ["is not base64"]}) from exc
        schedule = holidays.parse_ics(content, body["year"])
    else:
        schedule = holidays.parse_pasted(body["text"], body["year"])
    if body["preview"]:
        return _shown(schedule, saved=False), 200
    with store.database.write() as session:
        found = park_for(session, viewer, park, roles=ADMIN)
        holidays.save(session, found, schedule, actor=viewer.username)
    return _shown(schedule, saved=True), 201


@blp.route("/<int:year>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(403, schema=ErrorSchema, description="Only park admins")
@blp.alt_response(404, schema=ErrorSchema, description="No schedule of that year")
def remove_schedule(park: str, year: int) -> None:
    """Drop the imported schedule of a year: the built-in one (or weekends) applies again."""
    viewer = current_viewer()
    with store.database.write() as session:
        found = park_for(session, viewer, park, roles=ADMIN)
        # a year the schedules cannot hold has none (and must not reach the database)
        if not 2000 <= year <= 2100 or not holidays.remove(
            session, found, year, actor=viewer.username
        ):
            raise NotFound(f"schedule of {year}")
