"""External work: workers fetch and lock external tasks, then report on them (Camunda's API).

The caller is a park's service token (its park only) or a park administrator (the parks they
administer). A task of another park is answered 404, a report without the worker's live lock
409, a malformed body 422.
"""

# flask-smorest ships no type hints for its decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, fields, validate

from webapp.api.bodies import ApiBlueprint
from webapp.api.caller import current_service, current_viewer
from webapp.api.schemas import ErrorSchema
from webapp.api.scoping import park_for
from webapp.extensions import store
from webapp.services import external_tasks
from webapp.services.errors import Forbidden
from webapp.services.external_tasks import Topic, WorkerCall
from webapp.services.service_tokens import issue_service_token, revoke_service_token

blp = ApiBlueprint(
    "external_tasks",
    __name__,
    url_prefix="/api/v1/external-tasks",
    description="External service tasks, done by the park's outside workers.",
)
tokens_blp = ApiBlueprint(
    "service_tokens",
    __name__,
    url_prefix="/api/v1/parks/<park>/service-tokens",
    description="Park service tokens for external workers (admins).",
)

# a lock longer than a day is a worker that forgot to report
MAX_LOCK_SECONDS = 24 * 3600
MAX_RETRY_SECONDS = 7 * 24 * 3600
MAX_TASKS = 100


def _worker_id() -> fields.String:
    return fields.String(required=True, validate=validate.Length(min=1, max=255))


def _variables() -> fields.Dict:
    return fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True), load_default=dict)


class TopicSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=255))
    lock_seconds = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_LOCK_SECONDS)
    )


class FetchRequestSchema(Schema):
    worker_id = _worker_id()
    max_tasks = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_TASKS)
    )
    topics = fields.List(
        fields.Nested(TopicSchema), required=True, validate=validate.Length(min=1, max=50)
    )


class LockedTaskSchema(Schema):
    id = fields.String(required=True)
    topic = fields.String(required=True)
    instance_id = fields.String(required=True)
    variables = fields.Dict(required=True)
    retries = fields.Integer(allow_none=True)


class ExternalCompleteRequestSchema(Schema):
    worker_id = _worker_id()
    variables = _variables()


class FailureRequestSchema(Schema):
    worker_id = _worker_id()
    message = fields.String(required=True, validate=validate.Length(min=1, max=4000))
    retries = fields.Integer(required=True, strict=True, validate=validate.Range(min=0, max=1000))
    retry_seconds = fields.Integer(
        strict=True, load_default=0, validate=validate.Range(min=0, max=MAX_RETRY_SECONDS)
    )


class BpmnErrorRequestSchema(Schema):
    worker_id = _worker_id()
    code = fields.String(required=True, validate=validate.Length(min=1, max=255))
    message = fields.String(load_default="", validate=validate.Length(max=4000))
    variables = _variables()


class ExtendLockRequestSchema(Schema):
    worker_id = _worker_id()
    seconds = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_LOCK_SECONDS)
    )


class BpmnErrorResultSchema(Schema):
    caught = fields.Boolean(
        required=True,
        metadata={"description": "false: no error event catches the code; the task is an incident"},
    )


class ServiceTokenRequestSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=100))


class ServiceTokenSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)
    token = fields.String(required=True, metadata={"description": "shown once"})


def _call(worker_id: str, *, fetching: bool = False) -> WorkerCall:
    """The caller's standing for external work; fetching, 403 for someone who administers no
    park (a task they name is simply not there for them: 404)."""
    service = current_service()
    if service is not None:
        return WorkerCall(service.actor, frozenset({service.park_id}), worker_id)
    viewer = current_viewer()
    parks = frozenset(p for p, role in viewer.parks.items() if role.role == "admin")
    if fetching and not parks:
        raise Forbidden(
            "external tasks are worked with a park's service token or by its administrators"
        )
    return WorkerCall(viewer.username, parks, worker_id)


@blp.route("/fetch-and-lock", methods=["POST"])
@blp.arguments(FetchRequestSchema())
@blp.response(200, LockedTaskSchema(many=True))
@blp.alt_response(403, schema=ErrorSchema, description="Neither a service token nor an admin")
@blp.alt_response(422, schema=ErrorSchema, description="A malformed request")
def fetch_and_lock(body: dict[str, Any]) -> list[dict[str, Any]]:
    """Lock up to max_tasks waiting tasks of the topics to the worker, oldest first."""
    topics = [Topic(t["name"], t["lock_seconds"]) for t in body["topics"]]
    return external_tasks.fetch_and_lock(
        store.database,
        _call(body["worker_id"], fetching=True),
        topics=topics,
        max_tasks=body["max_tasks"],
        now=datetime.now(UTC),
    )


@blp.route("/<task_id>/complete", methods=["POST"])
@blp.arguments(ExternalCompleteRequestSchema())
@blp.response(204)
@blp.alt_response(404, schema=ErrorSchema, description="No such task in the caller's parks")
@blp.alt_response(409, schema=ErrorSchema, description="Not locked to this worker (any more)")
@blp.alt_response(422, schema=ErrorSchema, description="A malformed request or variable")
def complete(body: dict[str, Any], task_id: str) -> None:
    """Complete a locked task with variables; the application runs on."""
    external_tasks.complete(
        store.database,
        _call(body["worker_id"]),
        task_id,
        variables=body["variables"],
        now=datetime.now(UTC),
    )


@blp.route("/<task_id>/failure", methods=["POST"])
@blp.arguments(FailureRequestSchema())
@blp.response(204)
@blp.alt_response(404, schema=ErrorSchema, description="No such task in the caller's parks")
@blp.alt_response(409, schema=ErrorSchema, description="Not locked to this worker (any more)")
@blp.alt_response(422, schema=ErrorSchema, description="A malformed request")
def failure(body: dict[str, Any], task_id: str) -> None:
    """Report a failure: offered again after retry_seconds, or an incident with 0 retries."""
    external_tasks.report_failure(
        store.database,
        _call(body["worker_id"]),
        task_id,
        message=body["message"],
        retries=body["retries"],
        retry_seconds=body["retry_seconds"],
        now=datetime.now(UTC),
    )


@blp.route("/<task_id>/bpmn-error", methods=["POST"])
@blp.arguments(BpmnErrorRequestSchema())
@blp.response(200, BpmnErrorResultSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such task in the caller's parks")
@blp.alt_response(409, schema=ErrorSchema, description="Not locked to this worker (any more)")
@blp.alt_response(422, schema=ErrorSchema, description="A malformed request")
def bpmn_error(body: dict[str, Any], task_id: str) -> dict[str, bool]:
    """Throw a BPMN error at the task, for an error boundary event with its code to catch."""
    caught = external_tasks.throw_bpmn_error(
        store.database,
        _call(body["worker_id"]),
        task_id,
        code=body["code"],
        message=body["message"],
        variables=body["variables"],
        now=datetime.now(UTC),
    )
    return {"caught": caught}


@blp.route("/<task_id>/extend-lock", methods=["POST"])
@blp.arguments(ExtendLockRequestSchema())
@blp.response(204)
@blp.alt_response(404, schema=ErrorSchema, description="No such task in the caller's parks")
@blp.alt_response(409, schema=ErrorSchema, description="Not locked to this worker (any more)")
@blp.alt_response(422, schema=ErrorSchema, description="A malformed request")
def extend_lock(body: dict[str, Any], task_id: str) -> None:
    """Keep the lock the given seconds longer, counted from now."""
    external_tasks.extend_lock(
        store.database,
        _call(body["worker_id"]),
        task_id,
        seconds=body["seconds"],
        now=datetime.now(UTC),
    )


@tokens_blp.route("", methods=["POST"])
@tokens_blp.arguments(ServiceTokenRequestSchema())
@tokens_blp.response(201, ServiceTokenSchema)
@tokens_blp.alt_response(403, schema=ErrorSchema, description="Only park admins")
def create_service_token(body: dict[str, Any], park: str) -> dict[str, str]:
    """Create a service token for the park's external workers (shown once)."""
    viewer = current_viewer()
    with store.database.write() as session:
        found = park_for(session, viewer, park, roles=("admin",))
        issued = issue_service_token(session, found, name=body["name"], actor=viewer.username)
    return {"id": issued.id, "name": issued.name, "token": issued.secret}


@tokens_blp.route("/<token_id>", methods=["DELETE"])
@tokens_blp.response(204)
@tokens_blp.alt_response(403, schema=ErrorSchema, description="Only park admins")
@tokens_blp.alt_response(404, schema=ErrorSchema, description="No such live token")
def revoke(park: str, token_id: str) -> None:
    """Revoke a service token of the park at once."""
    viewer = current_viewer()
    with store.database.write() as session:
        found = park_for(session, viewer, park, roles=("admin",))
        revoke_service_token(session, found, token_id, actor=viewer.username)
