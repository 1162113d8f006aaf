"""退回 and 批量同意: return a task to an earlier step, list where it may go, approve many."""

# flask-smorest ships no type hints for its decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import Any

from flask import Response
from marshmallow import Schema, fields, validate

from webapp.api.answers import prebuilt
from webapp.api.bodies import ApiBlueprint
from webapp.api.caller import current_viewer
from webapp.api.idempotency import idempotent
from webapp.api.schemas import ErrorSchema, InstanceViewSchema
from webapp.api.scoping import task_for, worker_in
from webapp.extensions import store
from webapp.services import batch, queries, returns

blp = ApiBlueprint(
    "returns",
    __name__,
    url_prefix="/api/v1/tasks",
    description="退回 to an earlier step and 批量同意 of many tasks.",
)

MAX_REASONS = 20


class ReturnTargetSchema(Schema):
    element_id = fields.String(
        required=True, metadata={"description": "an earlier step, or `applicant`"}
    )
    name = fields.String(required=True)


class ReturnRequestSchema(Schema):
    to = fields.String(required=True, validate=validate.Length(min=1, max=255))
    reasons = fields.List(
        fields.String(validate=validate.Length(min=1, max=500)),
        required=True,
        validate=validate.Length(min=1, max=MAX_REASONS),
    )
    resume = fields.String(
        load_default="flow",
        validate=validate.OneOf(returns.RESUME_MODES),
        metadata={"description": "`to_me`: straight back to this step"},
    )
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class BatchRequestSchema(Schema):
    task_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        required=True,
        validate=validate.Length(min=1, max=batch.MAX_BATCH),
    )
    data = fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), load_default=dict)
    comment = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=2000))


class BatchResultSchema(Schema):
    task_id = fields.String(required=True)
    status = fields.String(required=True, metadata={"description": "completed | failed"})
    code = fields.String(allow_none=True, metadata={"description": "the error's code"})
    error = fields.String(allow_none=True)


class BatchAnswerSchema(Schema):
    results = fields.List(fields.Nested(BatchResultSchema), required=True)


@blp.route("/<task_id>/return-targets", methods=["GET"])
@blp.response(200, ReturnTargetSchema(many=True))
def return_targets(task_id: str) -> list[dict[str, str]]:
    """List the earlier steps (and the applicant) this task may be returned to."""
    with store.database.read() as session:
        return returns.return_targets(session, task_for(session, current_viewer(), task_id))


@blp.route("/<task_id>/return", methods=["POST"])
@idempotent
@blp.arguments(ReturnRequestSchema())
@blp.response(200, InstanceViewSchema)
@blp.alt_response(403, schema=ErrorSchema, description="The caller may not act on this task")
@blp.alt_response(409, schema=ErrorSchema, description="The task is no longer open")
@blp.alt_response(422, schema=ErrorSchema, description="Not a step it can return to")
def return_task(body: dict[str, Any], task_id: str) -> Response:
    """Return the application to an earlier step or the applicant, with reasons (退回)."""
    viewer = current_viewer()
    view = returns.return_task(
        store.database,
        task_id=task_id,
        to=body["to"],
        reasons=body["reasons"],
        resume=body["resume"],
        comment=body["comment"],
        actor=viewer.username,
        check=lambda session, task: task_for(session, viewer, task.id),
        known_as=lambda park: worker_in(viewer, park),
        then=queries.instance_view,
    )
    return prebuilt(view)


@blp.route("/batch-complete", methods=["POST"])
@idempotent
@blp.arguments(BatchRequestSchema())
@blp.response(200, BatchAnswerSchema)
def batch_complete(body: dict[str, Any]) -> dict[str, Any]:
    """Complete several tasks with the same data (批量同意); one result per task."""
    viewer = current_viewer()
    results = batch.batch_complete(
        store.database,
        task_ids=body["task_ids"],
        data=body["data"],
        comment=body["comment"],
        actor=viewer.username,
        check=lambda session, task: task_for(session, viewer, task.id),
        known_as=lambda park: worker_in(viewer, park),
    )
    return {"results": results}
