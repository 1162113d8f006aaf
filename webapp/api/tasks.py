"""The inbox and task work: list, show, claim, give back, assign and complete tasks."""

# flask-smorest and Flask-Limiter ship no type hints for their decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flask import Response

from webapp.api import paging
from webapp.api.answers import prebuilt
from webapp.api.bodies import ApiBlueprint
from webapp.api.caller import current_viewer
from webapp.api.errors import ApiError
from webapp.api.idempotency import idempotent
from webapp.api.schemas import (
    AssignRequestSchema,
    CompleteRequestSchema,
    ErrorSchema,
    InstanceViewSchema,
    TaskDetailSchema,
    TaskListArgsSchema,
    TaskSchema,
)
from webapp.api.scoping import inbox_condition, task_for, worker_in
from webapp.extensions import store
from webapp.services import applications, inbox, inbox_tabs, queries
from webapp.services import tasks as task_service

blp = ApiBlueprint("tasks", __name__, url_prefix="/api/v1/tasks",
                   description="The inbox: tasks waiting for the caller or their groups.")


def _task_item(task_id: str) -> dict[str, Any]:
    with store.database.read() as session:
        return queries.task_item(task_for(session, current_viewer(), task_id))


def _check_visible(task_id: str) -> None:
    with store.database.read() as session:
        task_for(session, current_viewer(), task_id)


@blp.route("", methods=["GET"])
@blp.arguments(TaskListArgsSchema(), location="query")
@blp.response(200, TaskSchema(many=True))
def list_tasks(args: dict[str, Any]
               ) -> tuple[list[dict[str, Any]], int, dict[str, str]] | Response:
    """List open tasks for the caller, overdue and soonest due first (or in the ``sort``
    order); narrowed to a procedure, a reference or enterprise name, or overdue tasks."""
    if args["scope"] in ("done", "cc"):
        return _worked(args)
    sort = args["sort"]
    if sort not in inbox.SORTS:
        raise ApiError(400, f"sort must be one of: {', '.join(inbox.SORTS)}", code="bad_sort")
    chosen = inbox.InboxFilter(
        scope=args["scope"],
        process_key=args.get("process_key"),
        text=args.get("q"),
        overdue_only=args["overdue"],
        sort=sort,
    )
    kinds = queries.INBOX_KEY if sort == inbox.DEFAULT_SORT else inbox.SORT_KEYS[sort]
    after = paging.decode_cursor(args.get("cursor"), kinds)
    if not inbox.key_fits(sort, after):
        raise ApiError(400, paging.BAD_CURSOR, code="bad_cursor")
    now = datetime.now(UTC)
    with store.database.read() as session:
        visible = inbox_condition(session, current_viewer(), chosen.scope)
        condition = inbox.matching(session, visible, chosen, now)
        items, next_key = inbox.page(session, condition, limit=args["limit"], after=after,
                                     now=now, sort=sort)
    return items, 200, paging.link_headers(queries.Page(items, next_key))


def _worked(args: dict[str, Any]) -> Response:
    """已办 and 抄送我, in their own shapes (see API.md): a page written as it is built."""
    viewer = current_viewer()
    now = datetime.now(UTC)
    with store.database.read() as session:
        if args["scope"] == "done":
            page = inbox_tabs.done_page(
                session, inbox_tabs.completed_by(viewer.username, viewer.parks),
                limit=args["limit"], now=now,
                after=paging.decode_cursor(args.get("cursor"), inbox_tabs.DONE_KEY))
        else:
            page = inbox_tabs.copies_page(
                session, inbox_tabs.copied_to(viewer.user_id, viewer.parks),
                limit=args["limit"],
                after=paging.decode_cursor(args.get("cursor"), inbox_tabs.COPIES_KEY))
    answer = prebuilt(page.items)
    answer.headers.update(paging.link_headers(page))
    return answer


@blp.route("/<task_id>", methods=["GET"])
@blp.response(200, TaskDetailSchema)
def get_task(task_id: str) -> dict[str, Any]:
    """Show a task with its form schema and the data it shows."""
    with store.database.read() as session:
        detail = queries.task_detail(session, task_for(session, current_viewer(), task_id))
        detail["urged"] = inbox_tabs.urge_marks(session, [task_id]).get(task_id)
        return detail


@blp.route("/<task_id>/claim", methods=["POST"])
@idempotent
@blp.response(200, TaskSchema)
@blp.alt_response(403, schema=ErrorSchema, description="The caller is not a candidate")
@blp.alt_response(409, schema=ErrorSchema, description="Claimed by someone else, or no longer open")
def claim(task_id: str) -> dict[str, Any]:
    """Take a task, so that it leaves the group inbox."""
    _check_visible(task_id)
    task_service.claim_task(store.database, task_id=task_id, actor=current_viewer().username)
    return _task_item(task_id)


@blp.route("/<task_id>/unclaim", methods=["POST"])
@idempotent
@blp.response(200, TaskSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Held by someone else")
@blp.alt_response(409, schema=ErrorSchema, description="Not claimed, or no longer open")
def unclaim(task_id: str) -> dict[str, Any]:
    """Give a claimed task back to its groups."""
    _check_visible(task_id)
    task_service.unclaim_task(store.database, task_id=task_id, actor=current_viewer().username)
    return _task_item(task_id)


@blp.route("/<task_id>/assign", methods=["POST"])
@idempotent
@blp.arguments(AssignRequestSchema())
@blp.response(200, TaskSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Only park admins assign")
@blp.alt_response(409, schema=ErrorSchema, description="No longer open")
def assign(body: dict[str, Any], task_id: str) -> dict[str, Any]:
    """Give a task to a member of the park (park admins)."""
    _check_visible(task_id)
    task_service.assign_task(store.database, task_id=task_id, username=body["username"],
                             actor=current_viewer().username)
    return _task_item(task_id)


@blp.route("/<task_id>/complete", methods=["POST"])
@idempotent
@blp.arguments(CompleteRequestSchema())
@blp.response(200, InstanceViewSchema)
@blp.alt_response(403, schema=ErrorSchema, description="The caller is not a candidate")
@blp.alt_response(409, schema=ErrorSchema, description="The task is no longer open")
@blp.alt_response(422, schema=ErrorSchema, description="The data fails the task's form")
def complete(body: dict[str, Any], task_id: str) -> Response:
    """Complete a task with the form's data; returns the application after the engine ran on."""
    viewer = current_viewer()
    view: dict[str, Any] = applications.complete_task(
        store.database, task_id=task_id, data=body["data"], actor=viewer.username,
        check=lambda session, task: task_for(session, viewer, task.id),
        then=queries.instance_view, known_as=lambda park: worker_in(viewer, park))
    # built in the shape InstanceViewSchema documents (see webapp.api.answers)
    return prebuilt(view)
