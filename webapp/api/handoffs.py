"""Hand-offs of a task (转办, 委派, 加签, 减签), substitutes while away (委托) and the park's
people to pick from."""

# flask-smorest and Flask-Limiter ship no type hints for their decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response
from sqlalchemy.orm import Session

from webapp.api.answers import prebuilt
from webapp.api.bodies import ApiBlueprint
from webapp.api.caller import current_viewer
from webapp.api.idempotency import idempotent
from webapp.api.schemas import (
    AddSignersRequestSchema,
    DelegateRequestSchema,
    ErrorSchema,
    InstanceViewSchema,
    PeopleArgsSchema,
    PersonSchema,
    RemoveSignersRequestSchema,
    SubstituteArgsSchema,
    SubstituteRequestSchema,
    SubstituteSchema,
    TransferRequestSchema,
)
from webapp.api.scoping import Viewer, park_for, task_for
from webapp.extensions import store
from webapp.models import Instance, Park
from webapp.services import colleagues, handoffs, queries, substitutes
from webapp.services.errors import Invalid

blp = ApiBlueprint(
    "handoffs",
    __name__,
    url_prefix="/api/v1",
    description="Hand-offs of tasks, substitutes while away, the park's people.",
)


def _view(session: Session, instance: Instance) -> dict[str, Any]:
    return queries.instance_view(session, instance)


def _visible(task_id: str) -> None:
    with store.database.read() as session:
        task_for(session, current_viewer(), task_id)


def _acted(action: Callable[..., Any], task_id: str, **arguments: Any) -> Response:
    _visible(task_id)
    view = action(
        store.database, task_id=task_id, actor=current_viewer().username, then=_view, **arguments
    )
    # built in the shape InstanceViewSchema documents (see webapp.api.answers)
    return prebuilt(view)


def _documented(view: Callable[..., Any]) -> Callable[..., Any]:
    view = blp.alt_response(422, schema=ErrorSchema, description="Bad input, with reasons")(view)
    view = blp.alt_response(
        409, schema=ErrorSchema, description="The task is no longer open, or its state refuses it"
    )(view)
    return blp.alt_response(
        403, schema=ErrorSchema, description="The caller does not hold the task"
    )(view)


@blp.route("/tasks/<task_id>/transfer", methods=["POST"])
@idempotent
@blp.arguments(TransferRequestSchema())
@blp.response(200, InstanceViewSchema)
@_documented
def transfer(body: dict[str, Any], task_id: str) -> Response:
    """转办: the task is now theirs; the caller no longer holds it."""
    return _acted(
        handoffs.transfer_task, task_id, username=body["username"], comment=body["comment"]
    )


@blp.route("/tasks/<task_id>/delegate", methods=["POST"])
@idempotent
@blp.arguments(DelegateRequestSchema())
@blp.response(200, InstanceViewSchema)
@_documented
def delegate(body: dict[str, Any], task_id: str) -> Response:
    """委派: they resolve the task, then it comes back to the caller to complete."""
    return _acted(
        handoffs.delegate_task, task_id, username=body["username"], comment=body["comment"]
    )


@blp.route("/tasks/<task_id>/add-signers", methods=["POST"])
@idempotent
@blp.arguments(AddSignersRequestSchema())
@blp.response(200, InstanceViewSchema)
@_documented
def add_signers(body: dict[str, Any], task_id: str) -> Response:
    """加签: they sign before the caller, after the caller, or beside the caller."""
    return _acted(
        handoffs.add_signers,
        task_id,
        usernames=body["usernames"],
        position=body["position"],
        comment=body["comment"],
    )


@blp.route("/tasks/<task_id>/remove-signers", methods=["POST"])
@idempotent
@blp.arguments(RemoveSignersRequestSchema())
@blp.response(200, InstanceViewSchema)
@_documented
def remove_signers(body: dict[str, Any], task_id: str) -> Response:
    """减签: added signers who have not signed no longer sign."""
    return _acted(
        handoffs.remove_signers, task_id, usernames=body["usernames"], comment=body["comment"]
    )


@blp.route("/me/substitute", methods=["GET"])
@blp.response(200, SubstituteSchema(many=True))
def my_substitutes() -> list[dict[str, object]]:
    """The caller's substitutions that are current or still to come."""
    with store.database.read() as session:
        return [s.as_dict() for s in substitutes.mine(session, current_viewer().username)]


@blp.route("/me/substitute", methods=["PUT"])
@idempotent
@blp.arguments(SubstituteRequestSchema())
@blp.response(200, SubstituteSchema)
@blp.alt_response(422, schema=ErrorSchema, description="Bad substitute or window")
def set_substitute(body: dict[str, Any]) -> dict[str, object]:
    """委托: while away (from … until), tasks that reach the caller go to the substitute."""
    return substitutes.set_substitute(
        store.database,
        actor=current_viewer().username,
        username=body["username"],
        starts_at=body["from"],
        ends_at=body["until"],
        park_slug=body["park"],
    ).as_dict()


@blp.route("/me/substitute", methods=["DELETE"])
@blp.arguments(SubstituteArgsSchema(), location="query")
@blp.response(204)
def end_substitute(args: dict[str, Any]) -> None:
    """End the caller's substitution (from now on their tasks reach them again)."""
    substitutes.end_substitute(
        store.database, actor=current_viewer().username, park_slug=args["park"]
    )


@blp.route("/parks/<park>/substitutes", methods=["GET"])
@blp.response(200, SubstituteSchema(many=True))
def park_substitutes(park: str) -> list[dict[str, object]]:
    """The park's current and coming substitutions (park admins)."""
    with store.database.read() as session:
        found = park_for(session, current_viewer(), park, roles=("admin",))
        return [s.as_dict() for s in substitutes.of_park(session, found)]


@blp.route("/parks/<park>/substitutes/<substitution_id>", methods=["DELETE"])
@blp.response(204)
def end_park_substitute(park: str, substitution_id: str) -> None:
    """End one of the park's substitutions (park admins)."""
    with store.database.read() as session:
        park_id = park_for(session, current_viewer(), park, roles=("admin",)).id
    substitutes.end_substitute(
        store.database,
        actor=current_viewer().username,
        substitution_id=substitution_id[:64],
        park_id=park_id,
    )


@blp.route("/people", methods=["GET"])
@blp.arguments(PeopleArgsSchema(), location="query")
@blp.response(200, PersonSchema(many=True))
def people(args: dict[str, Any]) -> list[dict[str, Any]]:
    """The park's staff whose username, name or group holds ``q`` (the people picker)."""
    viewer = current_viewer()
    with store.database.read() as session:
        park = _picker_park(session, viewer, args["park"])
        return colleagues.search(session, park, args["q"], limit=args["limit"])


def _picker_park(session: Session, viewer: Viewer, slug: str | None) -> Park:
    if slug is not None:
        return park_for(session, viewer, slug, roles=("admin", "reviewer"))
    staff = [role.slug for role in viewer.parks.values() if role.role != "enterprise"]
    if len(staff) != 1:
        if staff:
            raise Invalid("name the park", details={"park": ["is required"]})
        return park_for(
            session,
            viewer,
            next(iter(viewer.parks.values())).slug if viewer.parks else "",
            roles=("admin", "reviewer"),
        )
    return park_for(session, viewer, staff[0])
