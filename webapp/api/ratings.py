"""好差评: the enterprise's rating of a finished application, the rectification (整改) a bad
one opens for the park, its follow-up (回访), and the park's settings for the loop.

See ``webapp.services.ratings`` for the loop itself.
"""

# flask-smorest and Flask-Limiter ship no type hints for their decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from webapp.api.bodies import ApiBlueprint
from webapp.api.caller import current_viewer
from webapp.api.idempotency import idempotent
from webapp.api.schemas import ErrorSchema
from webapp.api.scoping import instance_for, park_for
from webapp.db import utcnow
from webapp.extensions import store
from webapp.models import Rating
from webapp.services import ratings
from webapp.services.errors import NotFound

blp = ApiBlueprint(
    "ratings",
    __name__,
    url_prefix="/api/v1",
    description="好差评: ratings, the rectifications (整改) bad ones open, their follow-up "
    "(回访), and the park's settings for them.",
)
GRADE = validate.OneOf(sorted(ratings.GRADES))
STAFF = ("admin", "reviewer")


class DimensionsSchema(Schema):
    efficiency = fields.Integer(strict=True, validate=GRADE, metadata={"description": "办事效率"})
    convenience = fields.Integer(strict=True, validate=GRADE, metadata={"description": "便捷度"})
    attitude = fields.Integer(strict=True, validate=GRADE, metadata={"description": "服务态度"})
    standards = fields.Integer(strict=True, validate=GRADE, metadata={"description": "规范性"})


class RatingRequestSchema(Schema):
    grade = fields.Integer(
        required=True,
        strict=True,
        validate=GRADE,
        metadata={"description": "5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意"},
    )
    dimensions = fields.Nested(DimensionsSchema, load_default=dict)
    comment = fields.String(load_default="", validate=validate.Length(max=ratings.MAX_COMMENT))


class RatingSchema(Schema):
    instance_id = fields.String()
    grade = fields.Integer()
    grade_name = fields.String()
    dimensions = fields.Dict(keys=fields.String(), values=fields.Integer())
    comment = fields.String(allow_none=True)
    rated_at = fields.DateTime()
    rectification_id = fields.String(
        allow_none=True, metadata={"description": "the rectification a bad grade opened"}
    )


class RectificationSchema(Schema):
    id = fields.String()
    instance_id = fields.String()
    reference = fields.String()
    procedure = fields.String()
    grade = fields.Integer()
    grade_name = fields.String()
    status = fields.String(metadata={"description": "open | rectified | closed"})
    group = fields.String(allow_none=True, metadata={"description": "null: the park's admins"})
    opened_at = fields.DateTime()
    due_at = fields.DateTime()
    overdue = fields.Boolean(metadata={"description": "past its due time and not closed"})
    measures = fields.String(allow_none=True)
    rectified_by = fields.String(allow_none=True)
    rectified_at = fields.DateTime(allow_none=True)
    follow_up = fields.String(allow_none=True, metadata={"description": "the enterprise's answer"})
    accepted = fields.Boolean(allow_none=True)
    followed_up_by = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class RectificationArgsSchema(Schema):
    status = fields.String(
        validate=validate.OneOf(("open", "rectified", "closed")), load_default=None
    )
    overdue = fields.Boolean(load_default=None)


class MeasuresRequestSchema(Schema):
    measures = fields.String(required=True, validate=validate.Length(min=1, max=ratings.MAX_TEXT))


class FollowUpRequestSchema(Schema):
    answer = fields.String(required=True, validate=validate.Length(min=1, max=ratings.MAX_TEXT))
    accepted = fields.Boolean(
        required=True, metadata={"description": "whether the enterprise accepts the rectification"}
    )


class RatingSettingsSchema(Schema):
    rectification_working_days = fields.Integer(
        strict=True,
        validate=validate.Range(1, ratings.MAX_DAYS),
        metadata={"description": "working days a rectification is due in (default 5)"},
    )
    rectification_group = fields.String(
        allow_none=True,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "the group that handles rectifications; null: the admins"},
    )
    rating_invitation_days = fields.Integer(
        strict=True,
        validate=validate.Range(1, ratings.MAX_DAYS),
        metadata={"description": "days after completion an unrated application is invited"},
    )


def rating_view(rating: Rating, rectification_id: str | None) -> dict[str, Any]:
    """A rating as the API shows it."""
    return {
        "instance_id": rating.instance_id,
        "grade": rating.grade,
        "grade_name": ratings.GRADES[rating.grade],
        "dimensions": dict(rating.dimensions or {}),
        "comment": rating.comment,
        "rated_at": rating.rated_at,
        "rectification_id": rectification_id,
    }


def _rating(instance_id: str) -> dict[str, Any]:
    with store.database.read() as session:
        instance_for(session, current_viewer(), instance_id)
        found = ratings.rating_of(session, instance_id)
        if found is None:
            raise NotFound(f"a rating of application {instance_id!r}")
        rectification = ratings.rectification_of(session, instance_id)
        return rating_view(found, rectification.id if rectification else None)


@blp.route("/instances/<instance_id>/rating", methods=["GET"])
@blp.response(200, RatingSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Not rated (or not visible)")
def get_rating(instance_id: str) -> dict[str, Any]:
    """The application's rating (好差评)."""
    return _rating(instance_id)


@blp.route("/instances/<instance_id>/rating", methods=["POST"])
@idempotent
@blp.arguments(RatingRequestSchema())
@blp.response(201, RatingSchema)
@blp.alt_response(403, schema=ErrorSchema, description="The caller is not the applicant")
@blp.alt_response(409, schema=ErrorSchema, description="Not completed, or rated already")
def rate(body: dict[str, Any], instance_id: str) -> dict[str, Any]:
    """Rate a completed application once, as its enterprise: a grade, the dimensions, a
    comment. A grade in the bottom two opens a rectification for the park."""
    with store.database.read() as session:
        instance_for(session, current_viewer(), instance_id)
    ratings.rate_application(
        store.database,
        instance_id=instance_id,
        grade=body["grade"],
        comment=body["comment"],
        dimensions=body["dimensions"],
        actor=current_viewer().username,
    )
    return _rating(instance_id)


@blp.route("/parks/<park>/rating-settings", methods=["GET"])
@blp.response(200, RatingSettingsSchema)
def get_settings(park: str) -> dict[str, Any]:
    """The park's 好差评 settings."""
    with store.database.read() as session:
        return ratings.settings_of(park_for(session, current_viewer(), park))


@blp.route("/parks/<park>/rating-settings", methods=["PATCH"])
@blp.arguments(RatingSettingsSchema())
@blp.response(200, RatingSettingsSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Only park admins change settings")
@blp.alt_response(422, schema=ErrorSchema, description="Out of range, or an unknown group")
def change_settings(body: dict[str, Any], park: str) -> dict[str, Any]:
    """Change the park's 好差评 settings (park admins)."""
    viewer = current_viewer()
    with store.database.write() as session:
        found = park_for(session, viewer, park, roles=("admin",))
        return ratings.update_settings(session, found, actor=viewer.username, changes=body)


@blp.route("/parks/<park>/rectifications", methods=["GET"])
@blp.arguments(RectificationArgsSchema(), location="query")
@blp.response(200, RectificationSchema(many=True))
@blp.alt_response(403, schema=ErrorSchema, description="Enterprise users see none")
def list_rectifications(args: dict[str, Any], park: str) -> list[dict[str, Any]]:
    """The park's rectifications: unfinished first by due date (overdue ones flagged)."""
    now = utcnow()
    with store.database.read() as session:
        found = park_for(session, current_viewer(), park, roles=STAFF)
        return [
            ratings.view(r, now)
            for r in ratings.rectifications(
                session, found, now=now, status=args["status"], overdue=args["overdue"]
            )
        ]


def _park_of(rectification_id: str) -> str:
    """The park of a rectification the caller's staff role there lets them see."""
    viewer = current_viewer()
    with store.database.read() as session:
        found = ratings.find_rectification(session, rectification_id)
        role = viewer.parks.get(found.park_id) if found is not None else None
        if found is None or role is None or role.role not in STAFF:
            raise NotFound(f"rectification {rectification_id!r}")
        return found.park_id


def _shown(park_id: str, rectification_id: str) -> dict[str, Any]:
    with store.database.read() as session:
        return ratings.view(ratings.rectification_in(session, park_id, rectification_id), utcnow())


@blp.route("/rectifications/<rectification_id>", methods=["GET"])
@blp.response(200, RectificationSchema)
@blp.alt_response(
    404, schema=ErrorSchema, description="No such rectification in the caller's parks"
)
def get_rectification(rectification_id: str) -> dict[str, Any]:
    """One rectification."""
    return _shown(_park_of(rectification_id), rectification_id)


@blp.route("/rectifications/<rectification_id>/measures", methods=["POST"])
@idempotent
@blp.arguments(MeasuresRequestSchema())
@blp.response(200, RectificationSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Neither an admin nor in its group")
@blp.alt_response(409, schema=ErrorSchema, description="Closed already")
def record_measures(body: dict[str, Any], rectification_id: str) -> dict[str, Any]:
    """Record the measures taken (整改措施); the follow-up is next."""
    park_id = _park_of(rectification_id)
    ratings.record_measures(
        store.database,
        park_id=park_id,
        rectification_id=rectification_id,
        measures=body["measures"],
        actor=current_viewer().username,
    )
    return _shown(park_id, rectification_id)


@blp.route("/rectifications/<rectification_id>/follow-up", methods=["POST"])
@idempotent
@blp.arguments(FollowUpRequestSchema())
@blp.response(200, RectificationSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Neither an admin nor in its group")
@blp.alt_response(409, schema=ErrorSchema, description="No measures recorded yet, or closed")
def record_follow_up(body: dict[str, Any], rectification_id: str) -> dict[str, Any]:
    """Record the follow-up (回访) with the enterprise's answer: closes the rectification
    (counted as rectified) and tells the enterprise the outcome."""
    park_id = _park_of(rectification_id)
    ratings.follow_up(
        store.database,
        park_id=park_id,
        rectification_id=rectification_id,
        answer=body["answer"],
        accepted=body["accepted"],
        actor=current_viewer().username,
    )
    return _shown(park_id, rectification_id)
