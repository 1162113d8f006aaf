"""Instance migration: check and move waiting applications to another version of their
procedure, one at a time or in bulk (park admins)."""

# flask-smorest ships no type hints for its decorators
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
from webapp.services import migrations

blp = ApiBlueprint(
    "migrations",
    __name__,
    url_prefix="/api/v1",
    description="Move waiting applications to another version of a procedure.",
)

ADMIN = ("admin",)
Mapping_ = fields.Dict(
    keys=fields.String(validate=validate.Length(min=1, max=255)),
    values=fields.String(validate=validate.Length(min=1, max=255)),
    load_default=dict,
    metadata={"description": "old element id -> new element id; the others map by id"},
)


class MigrateRequestSchema(Schema):
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    mapping = Mapping_


class BulkMigrateRequestSchema(Schema):
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    mapping = Mapping_
    instance_ids = fields.List(
        fields.String(validate=validate.Length(min=1, max=64)),
        load_default=None,
        allow_none=True,
        validate=validate.Length(min=1, max=migrations.MAX_BULK),
        metadata={"description": "omitted: every one that can move"},
    )


class MigrationProblemSchema(Schema):
    element_id = fields.String(required=True)
    code = fields.String(required=True)
    message = fields.String(required=True)


class MigrationCheckSchema(Schema):
    can_move = fields.Boolean(required=True)
    problems = fields.List(fields.Nested(MigrationProblemSchema), required=True)


class RefusedMoveSchema(Schema):
    instance_id = fields.String(required=True)
    reference = fields.String(allow_none=True)
    problems = fields.List(fields.Nested(MigrationProblemSchema), required=True)


class MovedSchema(Schema):
    instance_id = fields.String(required=True)
    reference = fields.String(required=True)
    from_version = fields.Integer(required=True)
    to_version = fields.Integer(required=True)
    tasks = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={"description": "old open task id -> its new id"},
    )


class BulkMigrateSchema(Schema):
    moved = fields.List(fields.Nested(MovedSchema), required=True)
    refused = fields.List(fields.Nested(RefusedMoveSchema), required=True)


@blp.route("/instances/<instance_id>/migrate/check", methods=["POST"])
@blp.arguments(MigrateRequestSchema())
@blp.response(200, MigrationCheckSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such application or version")
def check(body: dict[str, Any], instance_id: str) -> dict[str, Any]:
    """Whether the application can move to ``version``, and every reason it cannot."""
    viewer = current_viewer()
    mapping = migrations.clean_mapping(body["mapping"])
    with store.database.read() as session:
        instance = instance_for(session, viewer, instance_id, roles=ADMIN)
        target = migrations.target_definition(
            session, instance.park_id, instance.definition.key, body["version"]
        )
        problems = migrations.problems_of(session, instance, target, mapping)
    return {"can_move": not problems, "problems": problems}


@blp.route("/instances/<instance_id>/migrate", methods=["POST"])
@idempotent
@blp.arguments(MigrateRequestSchema())
@blp.response(200, InstanceViewSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such application or version")
@blp.alt_response(422, schema=ErrorSchema, description="It cannot move; details.problems lists why")
def migrate(body: dict[str, Any], instance_id: str) -> Response:
    """Move a waiting application to another version of its procedure (park admins)."""
    viewer = current_viewer()
    mapping = migrations.clean_mapping(body["mapping"])
    with store.database.read() as session:
        instance_for(session, viewer, instance_id, roles=ADMIN)
    migrations.migrate(
        store.database,
        instance_id=instance_id,
        version=body["version"],
        mapping=mapping,
        actor=viewer.username,
    )
    return instance_view(instance_id, roles=ADMIN)


@blp.route("/parks/<park>/processes/<key>/migrate", methods=["POST"])
@idempotent
@blp.arguments(BulkMigrateRequestSchema())
@blp.response(200, BulkMigrateSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such park or version")
def migrate_many(body: dict[str, Any], park: str, key: str) -> dict[str, Any]:
    """Move the given applications of a procedure (or all that can move) to ``version``."""
    viewer = current_viewer()
    mapping = migrations.clean_mapping(body["mapping"])
    with store.database.read() as session:
        park_id = park_for(session, viewer, park, roles=ADMIN).id
    return migrations.migrate_many(
        store.database,
        park_id=park_id,
        key=key,
        version=body["version"],
        instance_ids=body["instance_ids"],
        mapping=mapping,
        actor=viewer.username,
    )
