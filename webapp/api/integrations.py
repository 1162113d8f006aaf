"""A park's links to other systems (park admins): outbound webhooks and the HTTP connector.

Webhook subscriptions and their delivery log; the connector's allow-list and its secrets,
whose values are written here and never read back.
"""

# flask-smorest ships no type hints for its decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, fields, validate

from webapp.api.bodies import ApiBlueprint
from webapp.api.caller import current_viewer
from webapp.api.schemas import ErrorSchema
from webapp.api.scoping import park_for
from webapp.extensions import store
from webapp.models import WEBHOOK_EVENTS, WebhookDelivery, WebhookSubscription
from webapp.services import http_connector, webhooks
from webapp.services.errors import NotFound

blp = ApiBlueprint(
    "integrations",
    __name__,
    url_prefix="/api/v1/parks/<park>",
    description="Outbound webhooks and the HTTP connector's settings of a park (admins).",
)
MAX_DELIVERIES = 200


def _events(required: bool) -> fields.List:
    return fields.List(
        fields.String(validate=validate.OneOf(WEBHOOK_EVENTS)),
        required=required,
        validate=validate.Length(min=1, max=10),
    )


class SubscriptionRequestSchema(Schema):
    url = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    events = _events(True)
    description = fields.String(load_default="", validate=validate.Length(max=255))


class SubscriptionChangeSchema(Schema):
    url = fields.String(validate=validate.Length(min=1, max=2000))
    events = _events(False)
    description = fields.String(validate=validate.Length(max=255))
    enabled = fields.Boolean()
    new_secret = fields.Boolean(
        load_default=False, metadata={"description": "true: replace the signing secret"}
    )


class SubscriptionSchema(Schema):
    id = fields.String(required=True)
    url = fields.String(required=True)
    events = fields.List(fields.String(), required=True)
    description = fields.String(required=True)
    enabled = fields.Boolean(required=True)
    secret = fields.String(
        required=True, metadata={"description": "the HMAC-SHA256 key of X-Parkflow-Signature"}
    )
    created_at = fields.DateTime(required=True)


class DeliverySchema(Schema):
    id = fields.String(required=True)
    subscription_id = fields.String(required=True)
    event = fields.String(required=True)
    instance_id = fields.String(allow_none=True)
    status = fields.String(
        required=True, metadata={"description": "pending, delivered, failed or skipped"}
    )
    attempts = fields.Integer(required=True)
    last_status_code = fields.Integer(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    last_attempt_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    delivered_at = fields.DateTime(allow_none=True)
    payload = fields.Dict(required=True)


class DeliveryQuerySchema(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_DELIVERIES))


class ConnectorSettingsSchema(Schema):
    allowlist = fields.List(fields.String(), required=True)
    secrets = fields.List(
        fields.String(),
        required=True,
        metadata={"description": "the names only; values are never shown"},
    )


class AllowlistRequestSchema(Schema):
    allowlist = fields.List(
        fields.String(validate=validate.Length(max=2000)),
        required=True,
        validate=validate.Length(max=http_connector.MAX_ALLOWLIST),
    )


class SecretRequestSchema(Schema):
    value = fields.String(required=True, validate=validate.Length(min=1, max=4000))


def _subscription(found: WebhookSubscription) -> dict[str, Any]:
    return {
        "id": found.id,
        "url": found.url,
        "events": list(found.events),
        "description": found.description,
        "enabled": found.enabled,
        "secret": found.secret,
        "created_at": found.created_at,
    }


def _delivery(found: WebhookDelivery) -> dict[str, Any]:
    return {column: getattr(found, column) for column in DeliverySchema().fields}


# --- webhooks ------------------------------------------------------------------------------


@blp.route("/webhooks", methods=["GET"])
@blp.response(200, SubscriptionSchema(many=True))
@blp.alt_response(403, schema=ErrorSchema, description="Only park admins")
def list_subscriptions(park: str) -> list[dict[str, Any]]:
    """The park's webhook subscriptions, oldest first."""
    with store.database.read() as session:
        found = park_for(session, current_viewer(), park, roles=("admin",))
        return [_subscription(sub) for sub in webhooks.subscriptions(session, found)]


@blp.route("/webhooks", methods=["POST"])
@blp.arguments(SubscriptionRequestSchema())
@blp.response(201, SubscriptionSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Only park admins")
@blp.alt_response(422, schema=ErrorSchema, description="A bad URL or no known event")
def create_subscription(body: dict[str, Any], park: str) -> dict[str, Any]:
    """Subscribe a URL to events; the answer holds its signing secret."""
    viewer = current_viewer()
    with store.database.write() as session:
        found = park_for(session, viewer, park, roles=("admin",))
        made = webhooks.subscribe(
            session,
            found,
            actor=viewer.username,
            url=body["url"],
            events=body["events"],
            description=body["description"],
            now=datetime.now(UTC),
        )
        return _subscription(made)


@blp.route("/webhooks/<subscription_id>", methods=["GET"])
@blp.response(200, SubscriptionSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such subscription in the park")
def get_subscription(park: str, subscription_id: str) -> dict[str, Any]:
    """One subscription."""
    with store.database.read() as session:
        found = park_for(session, current_viewer(), park, roles=("admin",))
        return _subscription(webhooks.subscription(session, found, subscription_id))


@blp.route("/webhooks/<subscription_id>", methods=["PATCH"])
@blp.arguments(SubscriptionChangeSchema())
@blp.response(200, SubscriptionSchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such subscription in the park")
@blp.alt_response(422, schema=ErrorSchema, description="A bad URL or no known event")
def change_subscription(body: dict[str, Any], park: str, subscription_id: str) -> dict[str, Any]:
    """Change a subscription's URL, events or description; disable or enable it."""
    viewer = current_viewer()
    with store.database.write() as session:
        found = park_for(session, viewer, park, roles=("admin",))
        changed = webhooks.change(
            session,
            found,
            subscription_id,
            actor=viewer.username,
            url=body.get("url"),
            events=body.get("events"),
            description=body.get("description"),
            enabled=body.get("enabled"),
            new_secret_wanted=body["new_secret"],
            now=datetime.now(UTC),
        )
        return _subscription(changed)


@blp.route("/webhooks/<subscription_id>/deliveries", methods=["GET"])
@blp.arguments(DeliveryQuerySchema, location="query")
@blp.response(200, DeliverySchema(many=True))
@blp.alt_response(404, schema=ErrorSchema, description="No such subscription in the park")
def list_deliveries(query: dict[str, Any], park: str, subscription_id: str) -> list[dict[str, Any]]:
    """A subscription's deliveries, newest first, with their status code and attempts."""
    with store.database.read() as session:
        found = park_for(session, current_viewer(), park, roles=("admin",))
        sub = webhooks.subscription(session, found, subscription_id)
        return [
            _delivery(d)
            for d in webhooks.deliveries(
                session, found, subscription_id=sub.id, limit=query["limit"]
            )
        ]


@blp.route("/webhook-deliveries/<delivery_id>/redeliver", methods=["POST"])
@blp.response(200, DeliverySchema)
@blp.alt_response(404, schema=ErrorSchema, description="No such delivery in the park")
def redeliver(park: str, delivery_id: str) -> dict[str, Any]:
    """Send a delivery again now, with fresh attempts (same id and body)."""
    viewer = current_viewer()
    with store.database.write() as session:
        found = park_for(session, viewer, park, roles=("admin",))
        return _delivery(
            webhooks.redeliver(
                session, found, delivery_id, actor=viewer.username, now=datetime.now(UTC)
            )
        )


# --- the HTTP connector --------------------------------------------------------------------


@blp.route("/http-connector", methods=["GET"])
@blp.response(200, ConnectorSettingsSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Only park admins")
def connector_settings(park: str) -> dict[str, Any]:
    """The addresses the park's diagrams may call, and the names of its secrets."""
    with store.database.read() as session:
        found = park_for(session, current_viewer(), park, roles=("admin",))
        return http_connector.connector_settings(found)


@blp.route("/http-connector/allowlist", methods=["PUT"])
@blp.arguments(AllowlistRequestSchema())
@blp.response(200, ConnectorSettingsSchema)
@blp.alt_response(422, schema=ErrorSchema, description="An entry that is no http(s) address")
def set_allowlist(body: dict[str, Any], park: str) -> dict[str, Any]:
    """Replace the allow-list: a call goes only to an address under one of these."""
    viewer = current_viewer()
    with store.database.write() as session:
        found = park_for(session, viewer, park, roles=("admin",))
        http_connector.set_allowlist(
            session, found, actor=viewer.username, entries=body["allowlist"]
        )
        return http_connector.connector_settings(found)


@blp.route("/secrets/<name>", methods=["PUT"])
@blp.arguments(SecretRequestSchema())
@blp.response(204)
@blp.alt_response(422, schema=ErrorSchema, description="A bad name or value")
def put_secret(body: dict[str, Any], park: str, name: str) -> None:
    """Store a secret for ``${secret.NAME}`` in connector URLs and headers."""
    viewer = current_viewer()
    with store.database.write() as session:
        found = park_for(session, viewer, park, roles=("admin",))
        http_connector.set_secret(
            session, found, actor=viewer.username, name=name, value=body["value"]
        )


@blp.route("/secrets/<name>", methods=["DELETE"])
@blp.response(204)
@blp.alt_response(404, schema=ErrorSchema, description="No secret of that name")
def delete_secret(park: str, name: str) -> None:
    """Forget a secret."""
    viewer = current_viewer()
    with store.database.write() as session:
        found = park_for(session, viewer, park, roles=("admin",))
        if not http_connector.remove_secret(session, found, actor=viewer.username, name=name):
            raise NotFound(f"secret {name!r}")
