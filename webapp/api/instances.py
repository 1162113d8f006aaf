"""Applications: start one, list and view them, read their audit trail, message or cancel."""

# flask-smorest and Flask-Limiter ship no type hints for their decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import Any

from flask import Response

from webapp.api import paging
from webapp.api.answers import prebuilt
from webapp.api.bodies import ApiBlueprint
from webapp.api.caller import current_viewer
from webapp.api.idempotency import idempotent
from webapp.api.schemas import (
    AuditEntrySchema,
    CancelRequestSchema,
    ErrorSchema,
    HistoryEntrySchema,
    InstanceListArgsSchema,
    InstanceSummarySchema,
    InstanceViewSchema,
    MessageRequestSchema,
    PageArgsSchema,
    StartRequestSchema,
)
from webapp.api.scoping import instance_for, park_for, visible_instances
from webapp.extensions import store
from webapp.services import applications, queries

blp = ApiBlueprint("instances", __name__, url_prefix="/api/v1",
                   description="Applications: start, follow, message and cancel them.")

Listing = tuple[list[dict[str, Any]], int, dict[str, str]]
STAFF = ("admin", "reviewer")


def instance_view(instance_id: str, *, roles: tuple[str, ...] | None = None,
                  status: int = 200) -> Response:
    """Answer with the view of an application the caller may see (or act on in one of
    ``roles``); built in the shape InstanceViewSchema documents (see webapp.api.answers)."""
    with store.database.read() as session:
        instance = instance_for(session, current_viewer(), instance_id, roles=roles)
        return prebuilt(queries.instance_view(session, instance), status)


@blp.route("/parks/<park>/instances", methods=["POST"])
@idempotent
@blp.arguments(StartRequestSchema())
@blp.response(201, InstanceViewSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Reviewers cannot apply")
@blp.alt_response(422, schema=ErrorSchema, description="The data fails the start form")
def start(body: dict[str, Any], park: str) -> Response:
    """Start an application of the newest version of a procedure."""
    viewer = current_viewer()
    with store.database.read() as session:
        park_for(session, viewer, park)
    instance_id = applications.start_application(
        store.database, park_slug=park, process_key=body["process_key"], data=body["data"],
        actor=viewer.username, enterprise_name=body["enterprise"])
    return instance_view(instance_id, status=201)


@blp.route("/parks/<park>/instances", methods=["GET"])
@blp.arguments(InstanceListArgsSchema(), location="query")
@blp.response(200, InstanceSummarySchema(many=True))
def list_instances(args: dict[str, Any], park: str) -> Listing:
    """List the applications the caller may see, newest first."""
    viewer = current_viewer()
    with store.database.read() as session:
        found = park_for(session, viewer, park)
        page = queries.list_instances(
            session,
            visible_instances(session, viewer, found),
            status=_chosen(args, "status"),
            result=_chosen(args, "result"),
            process_key=args.get("process_key"),
            limit=args["limit"],
            after=paging.decode_cursor(args.get("cursor"), queries.INSTANCE_KEY),
        )
    return page.items, 200, paging.link_headers(page)


def _chosen(args: dict[str, Any], name: str) -> str | None:
    """A list filter's value; None for every value (the filter left out, or ``all``)."""
    value = args.get(name)
    return None if value in (None, "all") else str(value)


@blp.route("/instances/<instance_id>", methods=["GET"])
@blp.response(200, InstanceViewSchema)
def get_instance(instance_id: str) -> Response:
    """Show where an application stands: current steps, promise, history."""
    return instance_view(instance_id)


@blp.route("/instances/<instance_id>/audit", methods=["GET"])
@blp.arguments(PageArgsSchema(), location="query")
@blp.response(200, AuditEntrySchema(many=True))
def get_audit(args: dict[str, Any], instance_id: str) -> Listing:
    """List every recorded change of an application, oldest first."""
    with store.database.read() as session:
        instance = instance_for(session, current_viewer(), instance_id)
        page = queries.audit_trail(
            session, instance.id, limit=args["limit"],
            after=paging.decode_cursor(args.get("cursor"), queries.AUDIT_KEY))
    return page.items, 200, paging.link_headers(page)


@blp.route("/instances/<instance_id>/history", methods=["GET"])
@blp.arguments(PageArgsSchema(), location="query")
@blp.response(200, HistoryEntrySchema(many=True))
def get_history(args: dict[str, Any], instance_id: str) -> Listing:
    """List every step taken in an application, oldest first."""
    with store.database.read() as session:
        instance = instance_for(session, current_viewer(), instance_id)
        page = queries.step_history(
            session, instance.id, limit=args["limit"],
            after=paging.decode_cursor(args.get("cursor"), queries.HISTORY_KEY))
    return page.items, 200, paging.link_headers(page)


@blp.route("/instances/<instance_id>/messages/<message_name>", methods=["POST"])
@idempotent
@blp.arguments(MessageRequestSchema())
@blp.response(200, InstanceViewSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Nothing waits for the message")
@blp.alt_response(409, schema=ErrorSchema, description="The application has ended")
def deliver_message(body: dict[str, Any], instance_id: str, message_name: str) -> Response:
    """Deliver a BPMN message to an application waiting for it (park staff)."""
    viewer = current_viewer()
    with store.database.read() as session:
        instance_for(session, viewer, instance_id, roles=STAFF)
    applications.deliver_message(store.database, instance_id=instance_id, name=message_name,
                                 payload=body["payload"], actor=viewer.username)
    return instance_view(instance_id, roles=STAFF)


@blp.route("/instances/<instance_id>/cancel", methods=["POST"])
@idempotent
@blp.arguments(CancelRequestSchema())
@blp.response(200, InstanceViewSchema)
@blp.alt_response(409, schema=ErrorSchema, description="The application has already ended")
def cancel(body: dict[str, Any], instance_id: str) -> Response:
    """Withdraw an application: its open tasks and timers go away (park admins)."""
    viewer = current_viewer()
    with store.database.read() as session:
        instance_for(session, viewer, instance_id, roles=("admin",))
    applications.cancel_application(store.database, instance_id=instance_id,
                                    actor=viewer.username, reason=body["reason"])
    return instance_view(instance_id)
