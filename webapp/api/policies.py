"""免申即享: enterprise profiles, the park's policies and their eligibility tables, and the
offers a policy makes to the enterprises it finds."""

# flask-smorest and Flask-Limiter ship no type hints for their decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from webapp.api.bodies import ApiBlueprint
from webapp.api.caller import current_viewer
from webapp.api.schemas import ErrorSchema
from webapp.api.scoping import park_for
from webapp.extensions import store
from webapp.models import Enterprise, EnterpriseProfile, Policy, PolicyOffer
from webapp.services import policies
from webapp.services.errors import NotFound

blp = ApiBlueprint(
    "policies",
    __name__,
    url_prefix="/api/v1",
    description="免申即享: enterprise profiles, policies with their eligibility tables (DMN), "
    "and the offers they make.",
)


class ProfileSchema(Schema):
    enterprise_id = fields.String(dump_only=True)
    tags = fields.List(fields.String(), load_default=list)
    facts = fields.Dict(
        keys=fields.String(),
        load_default=dict,
        metadata={"description": "industry, size (micro|small|medium|large), employees, revenue, "
                  "rd_spend (万元), founded_year, certifications (list), or any other fact named "
                  "like a variable; what the eligibility tables read"},
    )
    updated_at = fields.DateTime(dump_only=True, allow_none=True)
    updated_by = fields.String(dump_only=True, allow_none=True)


class RematchSchema(Schema):
    offered = fields.Integer()
    refreshed = fields.Integer()
    withdrawn = fields.Integer()


class ProfileAnswerSchema(Schema):
    profile = fields.Nested(ProfileSchema)
    offers = fields.Nested(RematchSchema)


class PolicyRequestSchema(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    description = fields.String(load_default="", validate=validate.Length(max=5000))
    process_key = fields.String(required=True, validate=validate.Length(min=1, max=255))
    eligibility = fields.String(
        required=True,
        metadata={"description": "the DMN file: a decision with an output 'eligible'"},
    )
    decision_id = fields.String(load_default=None, allow_none=True,
                                validate=validate.Length(max=255))
    prefill = fields.Dict(keys=fields.String(), values=fields.String(), load_default=dict,
                          metadata={"description": "application form field -> profile fact"})
    active = fields.Boolean(load_default=True)


class PolicySchema(Schema):
    key = fields.String()
    name = fields.String()
    description = fields.String()
    process_key = fields.String()
    decision_id = fields.String()
    prefill = fields.Dict()
    active = fields.Boolean()
    revision = fields.Integer()
    updated_at = fields.DateTime()
    eligibility = fields.String()


class MatchSchema(Schema):
    offer_id = fields.Integer()
    enterprise_id = fields.String()
    enterprise = fields.String()
    status = fields.String(metadata={"description": "offered | confirmed | declined | withdrawn"})
    offered_at = fields.DateTime()
    answered_at = fields.DateTime(allow_none=True)
    instance_id = fields.String(allow_none=True)


class PolicyDetailSchema(PolicySchema):
    matches = fields.List(fields.Nested(MatchSchema))


class PolicyAnswerSchema(Schema):
    policy = fields.Nested(PolicySchema)
    offers = fields.Nested(RematchSchema)


class OfferSchema(Schema):
    id = fields.Integer()
    policy = fields.String(metadata={"description": "the policy's key"})
    policy_name = fields.String()
    description = fields.String()
    process_key = fields.String()
    status = fields.String()
    prefilled = fields.Dict(metadata={"description": "what the application starts with"})
    offered_at = fields.DateTime()
    instance_id = fields.String(allow_none=True)


class OffersArgsSchema(Schema):
    park = fields.String(required=True, validate=validate.Length(min=1, max=40))


class ConfirmedSchema(Schema):
    instance_id = fields.String()


def _profile(enterprise_id: str, profile: EnterpriseProfile | None) -> dict[str, Any]:
    if profile is None:
        return {"enterprise_id": enterprise_id, "tags": [], "facts": {}, "updated_at": None,
                "updated_by": None}
    return {"enterprise_id": enterprise_id, "tags": profile.tags, "facts": profile.facts,
            "updated_at": profile.updated_at, "updated_by": profile.updated_by}


def _policy(policy: Policy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in (
        "key", "name", "description", "process_key", "decision_id", "prefill", "active",
        "revision", "updated_at", "eligibility")}


def _rematch(found: policies.Rematch) -> dict[str, int]:
    return {"offered": found.offered, "refreshed": found.refreshed, "withdrawn": found.withdrawn}


@blp.route("/parks/<park>/enterprises/<enterprise_id>/profile", methods=["GET"])
@blp.response(200, ProfileSchema)
@blp.alt_response(404, schema=ErrorSchema, description="Another enterprise's profile")
def get_profile(park: str, enterprise_id: str) -> dict[str, Any]:
    """An enterprise's profile: its own users and the park's staff read it."""
    viewer = current_viewer()
    with store.database.read() as session:
        found = park_for(session, viewer, park)
        role = viewer.parks[found.id]
        enterprise = session.get(Enterprise, enterprise_id)
        if enterprise is None or enterprise.park_id != found.id or (
                role.role == "enterprise" and role.enterprise_id != enterprise_id):
            raise NotFound(f"enterprise {enterprise_id!r}")
        return _profile(enterprise_id, policies.profile_of(session, enterprise_id))


@blp.route("/parks/<park>/enterprises/<enterprise_id>/profile", methods=["PUT"])
@blp.arguments(ProfileSchema())
@blp.response(200, ProfileAnswerSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Park staff other than admins")
@blp.alt_response(404, schema=ErrorSchema, description="Another enterprise's profile")
@blp.alt_response(422, schema=ErrorSchema, description="A bad tag or fact")
def put_profile(body: dict[str, Any], park: str, enterprise_id: str) -> dict[str, Any]:
    """Replace an enterprise's profile; every active policy that now finds it offers itself."""
    viewer = current_viewer()
    with store.database.read() as session:
        park_for(session, viewer, park)
    profile, changed = policies.set_profile(
        store.database, park_slug=park, enterprise_id=enterprise_id, tags=body["tags"],
        facts=body["facts"], actor=viewer.username)
    return {"profile": _profile(enterprise_id, profile), "offers": _rematch(changed)}


@blp.route("/parks/<park>/policies", methods=["GET"])
@blp.response(200, PolicySchema(many=True))
@blp.alt_response(403, schema=ErrorSchema, description="Enterprise users")
def list_policies(park: str) -> list[dict[str, Any]]:
    """The park's policies."""
    with store.database.read() as session:
        found = park_for(session, current_viewer(), park, roles=("admin", "reviewer"))
        return [_policy(p) for p in policies.policies_of(session, found)]


@blp.route("/parks/<park>/policies/<key>", methods=["GET"])
@blp.response(200, PolicyDetailSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Enterprise users")
def get_policy(park: str, key: str) -> dict[str, Any]:
    """A policy, and every enterprise it found with what became of its offer."""
    with store.database.read() as session:
        found = park_for(session, current_viewer(), park, roles=("admin", "reviewer"))
        policy = policies.get_policy(session, found, key)
        return {**_policy(policy), "matches": [_match(o, e) for o, e in
                                                policies.offers_of_policy(session, policy)]}


def _match(offer: PolicyOffer, enterprise: Enterprise) -> dict[str, Any]:
    return {"offer_id": offer.id, "enterprise_id": enterprise.id, "enterprise": enterprise.name,
            "status": offer.status, "offered_at": offer.offered_at,
            "answered_at": offer.answered_at, "instance_id": offer.instance_id}


@blp.route("/parks/<park>/policies/<key>", methods=["PUT"])
@blp.arguments(PolicyRequestSchema())
@blp.response(200, PolicyAnswerSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Not a park administrator")
@blp.alt_response(422, schema=ErrorSchema, description="A bad table, procedure or prefill")
def put_policy(body: dict[str, Any], park: str, key: str) -> dict[str, Any]:
    """Create or change a policy; the enterprises its table now finds get an offer."""
    viewer = current_viewer()
    with store.database.read() as session:
        park_for(session, viewer, park, roles=("admin",))
    policy, changed = policies.save_policy(store.database, park_slug=park, key=key,
                                           actor=viewer.username, **body)
    return {"policy": _policy(policy), "offers": _rematch(changed)}


@blp.route("/me/offers", methods=["GET"])
@blp.arguments(OffersArgsSchema(), location="query")
@blp.response(200, OfferSchema(many=True))
@blp.alt_response(403, schema=ErrorSchema, description="Not an enterprise user of the park")
def my_offers(args: dict[str, Any]) -> list[dict[str, Any]]:
    """The policies offered to the caller's enterprise (免申即享), the newest first."""
    viewer = current_viewer()
    with store.database.read() as session:
        found = park_for(session, viewer, args["park"], roles=("enterprise",))
        enterprise_id = viewer.parks[found.id].enterprise_id or ""
        return [_offer(o, p) for o, p in policies.offers_for(session, found, enterprise_id)]


def _offer(offer: PolicyOffer, policy: Policy) -> dict[str, Any]:
    return {"id": offer.id, "policy": policy.key, "policy_name": policy.name,
            "description": policy.description, "process_key": policy.process_key,
            "status": offer.status, "prefilled": offer.prefilled,
            "offered_at": offer.offered_at, "instance_id": offer.instance_id}


@blp.route("/offers/<int:offer_id>/confirm", methods=["POST"])
@blp.response(201, ConfirmedSchema)
@blp.alt_response(403, schema=ErrorSchema, description="Not an enterprise user")
@blp.alt_response(404, schema=ErrorSchema, description="No such offer to the caller's enterprise")
@blp.alt_response(409, schema=ErrorSchema, description="Answered already")
@blp.alt_response(422, schema=ErrorSchema,
                  description="The form needs more than the profile holds: apply with the form")
def confirm(offer_id: int) -> dict[str, Any]:
    """Apply for the offered policy with the prefilled application."""
    instance_id = policies.confirm_offer(store.database, offer_id=offer_id,
                                         actor=current_viewer().username)
    return {"instance_id": instance_id}


@blp.route("/offers/<int:offer_id>/decline", methods=["POST"])
@blp.response(204)
@blp.alt_response(403, schema=ErrorSchema, description="Not an enterprise user")
@blp.alt_response(404, schema=ErrorSchema, description="No such offer to the caller's enterprise")
@blp.alt_response(409, schema=ErrorSchema, description="Answered already")
def decline(offer_id: int) -> None:
    """Decline the offered policy; it is not offered again."""
    policies.decline_offer(store.database, offer_id=offer_id, actor=current_viewer().username)
