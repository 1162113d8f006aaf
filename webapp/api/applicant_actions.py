"""The applicant's and the reader's actions: 撤回, 催办, 抄送, the park's rules for them, and
each person's common phrases (常用语)."""

# flask-smorest and Flask-Limiter ship no type hints for their decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import Any

from flask import Response
from marshmallow import Schema, fields, validate

from webapp.api.bodies import ApiBlueprint
from webapp.api.caller import current_viewer
from webapp.api.idempotency import idempotent
from webapp.api.instances import instance_view
from webapp.api.schemas import ErrorSchema, InstanceViewSchema
from webapp.api.scoping import instance_for, park_for
from webapp.extensions import store
from webapp.services import applicant_actions, copies, phrases

blp = ApiBlueprint(
    "applicant_actions",
    __name__,
    url_prefix="/api/v1",
    description="撤回, 催办 and 抄送 of an application; the park's rules for "
    "them; the caller's common phrases (常用语).",
)

MAX_COMMENT = 2000


class WithdrawRequestSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=MAX_COMMENT))


class UrgeRequestSchema(Schema):
    comment = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_COMMENT)
    )


class CopyRequestSchema(Schema):
    usernames = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        required=True,
        validate=validate.Length(min=1, max=copies.MAX_COPIES),
    )
    comment = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=MAX_COMMENT)
    )


class ApplicantRulesSchema(Schema):
    withdraw_rule = fields.String(
        validate=validate.Length(min=1, max=40),
        metadata={
            "description": "before_action (default: before any reviewer acted) | within_hours:N | "
            "never"
        },
    )
    urge_interval_hours = fields.Integer(
        strict=True,
        metadata={
            "description": "how long after an urge the application may be urged again (default 24)"
        },
    )


class PhraseRequestSchema(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=phrases.MAX_LENGTH))


class PhraseSchema(Schema):
    id = fields.Integer(allow_none=True, metadata={"description": "null for a default phrase"})
    text = fields.String(required=True)
    builtin = fields.Boolean(
        required=True,
        metadata={"description": "one of the defaults everyone has; it cannot be removed"},
    )


def _visible(instance_id: str) -> None:
    """404 unless the caller may see the application."""
    with store.database.read() as session:
        instance_for(session, current_viewer(), instance_id)


@blp.route("/instances/<instance_id>/withdraw", methods=["POST"])
@idempotent
@blp.arguments(WithdrawRequestSchema())
@blp.response(200, InstanceViewSchema)
@blp.alt_response(403, schema=ErrorSchema, description="The caller is not the applicant")
@blp.alt_response(409, schema=ErrorSchema, description="The park's rule no longer allows it")
def withdraw(body: dict[str, Any], instance_id: str) -> Response:
    """Withdraw an application (撤回) as its applicant, while the park's rule allows it."""
    _visible(instance_id)
    applicant_actions.withdraw_application(
        store.database,
        instance_id=instance_id,
        actor=current_viewer().username,
        reason=body["reason"].strip(),
    )
    return instance_view(instance_id)


@blp.route("/instances/<instance_id>/urge", methods=["POST"])
@idempotent
@blp.arguments(UrgeRequestSchema())
@blp.response(200, InstanceViewSchema)
@blp.alt_response(403, schema=ErrorSchema, description="The caller is not the applicant")
@blp.alt_response(409, schema=ErrorSchema, description="Nothing waits for the park's reviewers")
@blp.alt_response(
    429,
    schema=ErrorSchema,
    description="Urged within the park's interval; details.retry_at says when",
)
def urge(body: dict[str, Any], instance_id: str) -> Response:
    """Urge (催办) the people holding the application's open tasks."""
    _visible(instance_id)
    comment = (body["comment"] or "").strip() or None
    applicant_actions.urge_application(
        store.database, instance_id=instance_id, actor=current_viewer().username, comment=comment
    )
    return instance_view(instance_id)


@blp.route("/instances/<instance_id>/cc", methods=["POST"])
@idempotent
@blp.arguments(CopyRequestSchema())
@blp.response(200, InstanceViewSchema)
@blp.alt_response(
    403,
    schema=ErrorSchema,
    description="Neither a reviewer of the application nor an administrator",
)
@blp.alt_response(422, schema=ErrorSchema, description="Someone named is not the park's staff")
def copy(body: dict[str, Any], instance_id: str) -> Response:
    """Copy (抄送) the application to park staff, who may then read it."""
    _visible(instance_id)
    copies.copy_application(
        store.database,
        instance_id=instance_id,
        actor=current_viewer().username,
        usernames=body["usernames"],
        comment=(body["comment"] or "").strip() or None,
    )
    return instance_view(instance_id)


@blp.route("/instances/<instance_id>/cc/read", methods=["POST"])
@blp.response(204)
def read_copy(instance_id: str) -> Response:
    """Mark the caller's copy of the application read (again is fine)."""
    viewer = current_viewer()
    _visible(instance_id)
    copies.mark_read(store.database, instance_id=instance_id, user_id=viewer.user_id)
    return Response(status=204)


@blp.route("/parks/<park>/settings", methods=["GET"])
@blp.response(200, ApplicantRulesSchema)
def get_rules(park: str) -> dict[str, Any]:
    """Show the park's rules for withdrawing and urging applications."""
    with store.database.read() as session:
        return applicant_actions.rules_of(park_for(session, current_viewer(), park))


@blp.route("/parks/<park>/settings", methods=["PATCH"])
@blp.arguments(ApplicantRulesSchema())
@blp.response(200, ApplicantRulesSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Only park admins change settings")
@blp.alt_response(422, schema=ErrorSchema, description="A rule that cannot be read")
def change_rules(body: dict[str, Any], park: str) -> dict[str, Any]:
    """Change the park's rules for withdrawing and urging applications (park admins)."""
    viewer = current_viewer()
    with store.database.write() as session:
        found = park_for(session, viewer, park, roles=("admin",))
        return applicant_actions.update_rules(
            session,
            found,
            actor=viewer.username,
            withdraw=body.get("withdraw_rule"),
            urge_hours=body.get("urge_interval_hours"),
        )


@blp.route("/me/phrases", methods=["GET"])
@blp.response(200, PhraseSchema(many=True))
def list_phrases() -> list[dict[str, Any]]:
    """List the caller's common phrases: the defaults, then their own."""
    with store.database.read() as session:
        return phrases.list_phrases(session, current_viewer().user_id)


@blp.route("/me/phrases", methods=["POST"])
@blp.arguments(PhraseRequestSchema())
@blp.response(201, PhraseSchema)
@blp.alt_response(422, schema=ErrorSchema, description="Empty, too long, or too many")
def add_phrase(body: dict[str, Any]) -> dict[str, Any]:
    """Keep a common phrase (the one kept already when the caller has it)."""
    return phrases.add_phrase(store.database, user_id=current_viewer().user_id, text=body["text"])


@blp.route("/me/phrases/<int:phrase_id>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, schema=ErrorSchema, description="Not one of the caller's own phrases")
def remove_phrase(phrase_id: int) -> Response:
    """Remove one of the caller's own common phrases."""
    phrases.remove_phrase(store.database, user_id=current_viewer().user_id, phrase_id=phrase_id)
    return Response(status=204)
