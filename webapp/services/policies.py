"""免申即享 (policies find the enterprise): profiles, policies, and the offers they make.

An enterprise's profile holds tags and facts (industry, size, R&D spend, certifications ...);
a policy holds its eligibility as a DMN table over those facts (``engine.eligibility``) and
names the procedure an application for it runs. Whenever a profile or a policy changes, the
table is taken again for what changed: an enterprise it now finds gets an offer — a notice,
and the application filled in from its profile and the table's outputs — which it only
confirms (``confirm_offer`` starts the application) or declines; an offer not yet answered is
withdrawn when the enterprise no longer matches. An offer answered stays answered: a policy
is offered to an enterprise once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from engine import InvalidProcess
from engine.eligibility import Eligibility, read_eligibility
from forms.fields import fields_of
from webapp.db import Database, utcnow
from webapp.models import (
    Enterprise,
    EnterpriseProfile,
    Membership,
    Notification,
    Park,
    Policy,
    PolicyOffer,
    User,
)
from webapp.services import audit
from webapp.services.accounts import find_user, get_park
from webapp.services.applications import start_application
from webapp.services.engines import version_of
from webapp.services.errors import Conflict, Forbidden, Invalid, NotFound
from webapp.services.processes import latest_definition
from webapp.services.taskforms import form_of

KEY = re.compile(r"[a-z][a-z0-9_-]{0,63}")
FACT_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
MAX_FACTS = 50
MAX_TAGS = 50
MAX_TEXT = 500
MAX_DMN_BYTES = 512 * 1024
# the facts the profile form offers; any other identifier-like fact may be kept too
KNOWN_FACTS = ("industry", "size", "employees", "revenue", "rd_spend", "founded_year",
               "certifications")
SIZES = ("micro", "small", "medium", "large")
# the facts a table sees beside the profile's own: its tags
TAGS_VARIABLE = "tags"


@dataclass(frozen=True)
class Rematch:
    """What taking the tables again changed: offers made, refreshed and withdrawn."""

    offered: int = 0
    refreshed: int = 0
    withdrawn: int = 0


# --- profiles ---------------------------------------------------------------------------------


def check_profile(tags: Any, facts: Any) -> tuple[list[str], dict[str, Any]]:
    """The profile as stored, or Invalid naming each bad entry."""
    errors: dict[str, list[str]] = {}
    if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
        errors["tags"] = ["must be a list of texts"]
        tags = []
    cleaned_tags = list(dict.fromkeys(t.strip() for t in tags if t.strip()))
    if len(cleaned_tags) > MAX_TAGS:
        errors["tags"] = [f"at most {MAX_TAGS} tags"]
    if any(len(t) > 64 for t in cleaned_tags):
        errors["tags"] = ["a tag has at most 64 characters"]
    if not isinstance(facts, dict):
        errors["facts"] = ["must be an object of fact names and values"]
        facts = {}
    if len(facts) > MAX_FACTS:
        errors["facts"] = [f"at most {MAX_FACTS} facts"]
    cleaned: dict[str, Any] = {}
    for name, value in facts.items():
        why = _fact_problem(name, value)
        if why:
            errors.setdefault(f"facts.{name}", []).append(why)
        elif value is not None and value != "":
            cleaned[name] = [v.strip() for v in value] if isinstance(value, list) else value
    if errors:
        raise Invalid("the profile has errors", details=errors)
    return cleaned_tags, cleaned


def _fact_problem(name: Any, value: Any) -> str | None:
    if not isinstance(name, str) or not FACT_NAME.fullmatch(name) or name == TAGS_VARIABLE:
        return "a fact's name is a letter then letters, digits or _ (and not 'tags')"
    if name == "size" and value not in (None, "", *SIZES):
        return f"is one of {', '.join(SIZES)}"
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return None if math.isfinite(value) and abs(value) < 1e15 else "is not a sensible number"
    if isinstance(value, str):
        return None if len(value) <= MAX_TEXT else f"has more than {MAX_TEXT} characters"
    if isinstance(value, list):
        if all(isinstance(v, str) and len(v) <= 100 for v in value) and len(value) <= 50:
            return None
        return "a list holds at most 50 texts of 100 characters"
    return "is a text, a number, true/false or a list of texts"


def profile_of(session: Session, enterprise_id: str) -> EnterpriseProfile | None:
    """The enterprise's profile, when one was given."""
    return session.get(EnterpriseProfile, enterprise_id)


def set_profile(
    db: Database, *, park_slug: str, enterprise_id: str, tags: Any, facts: Any, actor: str
) -> tuple[EnterpriseProfile, Rematch]:
    """Replace an enterprise's profile (its own users or the park's admins) and offer it
    every active policy that now finds it."""
    cleaned_tags, cleaned_facts = check_profile(tags, facts)
    with db.write() as session:
        park = get_park(session, park_slug)
        enterprise = session.get(Enterprise, enterprise_id)
        if enterprise is None or enterprise.park_id != park.id:
            raise NotFound(f"enterprise {enterprise_id!r}")
        _may_edit_profile(session, park, enterprise, actor)
        now = utcnow()
        profile = session.get(EnterpriseProfile, enterprise.id)
        before = None
        if profile is None:
            profile = EnterpriseProfile(enterprise_id=enterprise.id, park_id=park.id)
            session.add(profile)
        else:
            before = {"tags": profile.tags, "facts": profile.facts}
        profile.tags, profile.facts = cleaned_tags, cleaned_facts
        profile.updated_at, profile.updated_by = now, actor
        session.flush()
        audit.append(session, park_id=park.id, actor=actor, action="enterprise.profile_updated",
                     at=now, details={"enterprise": enterprise.name, "before": before,
                                      "tags": cleaned_tags, "facts": cleaned_facts})
        changed = Rematch()
        for policy in _active_policies(session, park):
            changed = _sum(changed, _rematch(session, park, policy, [(enterprise, profile)],
                                             actor=actor, now=now))
        return profile, changed


def _may_edit_profile(session: Session, park: Park, enterprise: Enterprise, actor: str) -> None:
    membership = _membership(session, park, actor)
    if membership.role == "admin":
        return
    if membership.role == "enterprise":
        if membership.enterprise_id == enterprise.id:
            return
        # another enterprise's objects are not there for it (never 403, which would confirm them)
        raise NotFound(f"enterprise {enterprise.id!r}")
    raise Forbidden("only the enterprise itself or the park's administrators edit its profile")


def _membership(session: Session, park: Park, actor: str) -> Membership:
    user = find_user(session, actor)
    membership = session.get(Membership, (user.id, park.id)) if user is not None else None
    if user is None or not user.is_active or membership is None:
        raise Forbidden(f"{actor!r} is not a member of park {park.slug!r}")
    return membership


# --- policies ---------------------------------------------------------------------------------


def save_policy(
    db: Database,
    *,
    park_slug: str,
    key: str,
    name: str,
    process_key: str,
    eligibility: str,
    actor: str,
    description: str = "",
    decision_id: str | None = None,
    prefill: Mapping[str, str] | None = None,
    active: bool = True,
) -> tuple[Policy, Rematch]:
    """Create or change a policy (park administrators), then offer it to every enterprise
    its table now finds and withdraw the unanswered offers it no longer does."""
    errors: dict[str, list[str]] = {}
    if not KEY.fullmatch(key or ""):
        errors["key"] = ["lower-case letters, digits, - and _, starting with a letter"]
    if not (name or "").strip() or len(name) > 200:
        errors["name"] = ["is required, at most 200 characters"]
    if len(description or "") > 5000:
        errors["description"] = ["has more than 5000 characters"]
    prefill = dict(prefill or {})
    if not all(isinstance(k, str) and isinstance(v, str) and FACT_NAME.fullmatch(v)
               for k, v in prefill.items()):
        errors["prefill"] = ["maps form fields to fact names"]
    content = (eligibility or "").encode()
    if not content.strip():
        errors["eligibility"] = ["the eligibility table (a DMN file) is required"]
    elif len(content) > MAX_DMN_BYTES:
        errors["eligibility"] = [f"is larger than {MAX_DMN_BYTES // 1024} KiB"]
    table: Eligibility | None = None
    if "eligibility" not in errors:
        try:
            table = read_eligibility(content, decision_id or None)
        except InvalidProcess as refused:
            errors["eligibility"] = [str(p) for p in refused.problems]
    if errors:
        raise Invalid("the policy has errors", details=errors)
    assert table is not None
    with db.write() as session:
        park = get_park(session, park_slug)
        if _membership(session, park, actor).role != "admin":
            raise Forbidden("only the park's administrators change its policies")
        definition = latest_definition(session, park, process_key)
        if definition is None:
            raise Invalid(f"no procedure {process_key!r} in park {park.slug!r}",
                          details={"process_key": ["is no procedure of the park"]})
        start_fields = set(fields_of(form_of(definition, version_of(definition).start_form_key)))
        unknown = sorted(set(prefill) - start_fields)
        if unknown:
            raise Invalid("the prefill names fields the application form does not have",
                          details={"prefill": [f"no field {', '.join(unknown)}"]})
        now = utcnow()
        policy = session.scalars(
            select(Policy).where(Policy.park_id == park.id, Policy.key == key)
        ).one_or_none()
        created = policy is None
        if policy is None:
            policy = Policy(park_id=park.id, key=key, created_at=now, revision=0)
            session.add(policy)
        policy.name, policy.description = name.strip(), (description or "").strip()
        policy.process_key, policy.eligibility = process_key, content.decode()
        policy.decision_id, policy.prefill, policy.active = table.decision_id, prefill, active
        policy.revision += 1
        policy.updated_at = now
        session.flush()
        audit.append(session, park_id=park.id, actor=actor,
                     action="policy.created" if created else "policy.changed", at=now,
                     details={"policy": key, "name": policy.name, "revision": policy.revision,
                              "process_key": process_key, "active": active})
        everyone = _profiles(session, park)
        changed = _rematch(session, park, policy, everyone, actor=actor, now=now, table=table)
        return policy, changed


def policies_of(session: Session, park: Park) -> list[Policy]:
    """The park's policies, by name."""
    return list(session.scalars(
        select(Policy).where(Policy.park_id == park.id).order_by(Policy.name, Policy.key)))


def get_policy(session: Session, park: Park, key: str) -> Policy:
    """The park's policy ``key`` (NotFound otherwise)."""
    policy = session.scalars(
        select(Policy).where(Policy.park_id == park.id, Policy.key == key)).one_or_none()
    if policy is None:
        raise NotFound(f"policy {key!r}")
    return policy


def offers_of_policy(session: Session, policy: Policy) -> list[tuple[PolicyOffer, Enterprise]]:
    """Every enterprise the policy found, with what became of its offer, by name."""
    return [(offer, enterprise) for offer, enterprise in session.execute(
        select(PolicyOffer, Enterprise).join(Enterprise, Enterprise.id == PolicyOffer.enterprise_id)
        .where(PolicyOffer.policy_id == policy.id).order_by(Enterprise.name))]


def offer_counts(session: Session, park: Park) -> dict[str, dict[str, int]]:
    """policy id -> offer status -> how many, over the park's policies, in one query."""
    found: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(PolicyOffer.policy_id, PolicyOffer.status, func.count())
        .where(PolicyOffer.park_id == park.id)
        .group_by(PolicyOffer.policy_id, PolicyOffer.status))
    for policy_id, status, count in rows:
        found.setdefault(policy_id, {})[status] = count
    return found


def _active_policies(session: Session, park: Park) -> list[Policy]:
    return list(session.scalars(
        select(Policy).where(Policy.park_id == park.id, Policy.active.is_(True))))


def _profiles(session: Session, park: Park) -> list[tuple[Enterprise, EnterpriseProfile | None]]:
    return [(enterprise, profile) for enterprise, profile in session.execute(
        select(Enterprise, EnterpriseProfile)
        .outerjoin(EnterpriseProfile, EnterpriseProfile.enterprise_id == Enterprise.id)
        .where(Enterprise.park_id == park.id).order_by(Enterprise.name))]


# --- matching ---------------------------------------------------------------------------------


def variables_of(profile: EnterpriseProfile | None) -> dict[str, Any]:
    """What an eligibility table sees of an enterprise: its facts and its tags."""
    if profile is None:
        return {TAGS_VARIABLE: []}
    return {**profile.facts, TAGS_VARIABLE: list(profile.tags)}


def _rematch(
    session: Session,
    park: Park,
    policy: Policy,
    enterprises: Iterable[tuple[Enterprise, EnterpriseProfile | None]],
    *,
    actor: str,
    now: datetime,
    table: Eligibility | None = None,
) -> Rematch:
    table = table or read_eligibility(policy.eligibility.encode(), policy.decision_id)
    chosen = list(enterprises)
    existing = {
        offer.enterprise_id: offer
        for offer in session.scalars(select(PolicyOffer).where(
            PolicyOffer.policy_id == policy.id,
            PolicyOffer.enterprise_id.in_([e.id for e, _ in chosen])))
    }
    start_fields = None
    offered = refreshed = withdrawn = 0
    for enterprise, profile in chosen:
        offer = existing.get(enterprise.id)
        judged = table.judge(variables_of(profile)) if policy.active else None
        if judged is None or not judged.eligible:
            if offer is not None and offer.status == "offered":
                offer.status, offer.answered_at = "withdrawn", now
                withdrawn += 1
                audit.append(session, park_id=park.id, actor=actor,
                             action="policy.offer_withdrawn", at=now,
                             details={"policy": policy.key, "enterprise": enterprise.name})
            continue
        if start_fields is None:
            start_fields = _start_fields(session, park, policy)
        prefilled = _prefilled(policy, start_fields, profile, judged.outputs)
        if offer is not None and offer.status in ("confirmed", "declined"):
            continue
        if offer is not None and offer.status == "offered":
            offer.prefilled, offer.policy_revision = prefilled, policy.revision
            refreshed += 1
            continue
        if offer is None:
            offer = PolicyOffer(park_id=park.id, policy_id=policy.id, enterprise_id=enterprise.id)
            session.add(offer)
        offer.status, offer.prefilled, offer.policy_revision = "offered", prefilled, policy.revision
        offer.offered_at, offer.answered_at, offer.answered_by = now, None, None
        offered += 1
        audit.append(session, park_id=park.id, actor=actor, action="policy.offered", at=now,
                     details={"policy": policy.key, "enterprise": enterprise.name,
                              "revision": policy.revision})
        _notify(session, park, policy, enterprise, now)
    session.flush()
    return Rematch(offered, refreshed, withdrawn)


def _start_fields(session: Session, park: Park, policy: Policy) -> dict[str, Any]:
    definition = latest_definition(session, park, policy.process_key)
    if definition is None:
        return {}
    return fields_of(form_of(definition, version_of(definition).start_form_key))


def _prefilled(policy: Policy, start_fields: Mapping[str, Any],
               profile: EnterpriseProfile | None, outputs: Mapping[str, Any]) -> dict[str, Any]:
    """The application an offer starts: the form's fields named like a fact or an output of
    the table, and those the policy maps to a fact."""
    facts = variables_of(profile)
    filled: dict[str, Any] = {}
    for name in start_fields:
        source = policy.prefill.get(name)
        if source is not None and source in facts:
            filled[name] = facts[source]
        elif name in outputs and outputs[name] is not None:
            filled[name] = outputs[name]
        elif name in facts and name != TAGS_VARIABLE:
            filled[name] = facts[name]
    return filled


def _notify(session: Session, park: Park, policy: Policy, enterprise: Enterprise,
            now: datetime) -> None:
    users = session.scalars(
        select(User).join(Membership, Membership.user_id == User.id).where(
            Membership.park_id == park.id, Membership.enterprise_id == enterprise.id,
            User.is_active.is_(True)))
    for user in users:
        english = (user.locale or "").startswith("en")
        title = (f"A policy for you: {policy.name}" if english
                 else f"政策「{policy.name}」与贵企业匹配")
        body = ("Your application is filled in from your profile: confirm it to apply."
                if english else "已根据企业画像为您预填申请，确认即可提交（免申即享）。")
        session.add(Notification(user_id=user.id, park_id=park.id, at=now, kind="policy_offer",
                                 title=title[:255], body=body))


def _sum(a: Rematch, b: Rematch) -> Rematch:
    return Rematch(a.offered + b.offered, a.refreshed + b.refreshed, a.withdrawn + b.withdrawn)


# --- the enterprise's answer ------------------------------------------------------------------


def offers_for(session: Session, park: Park, enterprise_id: str, *,
               open_only: bool = False) -> list[tuple[PolicyOffer, Policy]]:
    """The enterprise's offers, the newest first (only those waiting, with ``open_only``)."""
    query = (select(PolicyOffer, Policy).join(Policy, Policy.id == PolicyOffer.policy_id)
             .where(PolicyOffer.park_id == park.id, PolicyOffer.enterprise_id == enterprise_id))
    if open_only:
        query = query.where(PolicyOffer.status == "offered")
    else:
        query = query.where(PolicyOffer.status != "withdrawn")
    ordered = query.order_by(PolicyOffer.offered_at.desc(), PolicyOffer.id.desc())
    return [(offer, policy) for offer, policy in session.execute(ordered)]


def _own_offer(session: Session, offer_id: int, actor: str) -> tuple[PolicyOffer, Park]:
    # ids are 64-bit: a larger number names no offer (and must not reach the database)
    offer = session.get(PolicyOffer, offer_id) if 0 < offer_id < 2**63 else None
    user = find_user(session, actor)
    membership = (session.get(Membership, (user.id, offer.park_id))
                  if offer is not None and user is not None else None)
    if offer is None or membership is None:
        raise NotFound(f"offer {offer_id}")
    if membership.role == "enterprise" and membership.enterprise_id != offer.enterprise_id:
        raise NotFound(f"offer {offer_id}")  # another enterprise's: not there for this one
    if membership.role != "enterprise":
        raise Forbidden("only the enterprise the policy found answers its offer")
    return offer, session.get_one(Park, offer.park_id)


def confirm_offer(db: Database, *, offer_id: int, actor: str) -> str:
    """Apply for the offered policy with the prefilled application; the new instance's id.

    The offer is taken first (one confirmation wins a race) and handed back when the
    application cannot start, e.g. when the form needs what the profile does not hold:
    then the Invalid names the fields, and the enterprise applies through the form instead.
    """
    with db.write() as session:
        offer, park = _own_offer(session, offer_id, actor)
        taken = session.execute(
            update(PolicyOffer).where(PolicyOffer.id == offer.id,
                                      PolicyOffer.status == "offered")
            .values(status="confirmed", answered_at=utcnow(), answered_by=actor))
        if taken.rowcount != 1:
            raise Conflict(f"the offer is {offer.status} already")
        policy = session.get_one(Policy, offer.policy_id)
        enterprise = session.get_one(Enterprise, offer.enterprise_id)
        park_slug, process_key, prefilled = park.slug, policy.process_key, dict(offer.prefilled)
        policy_key, enterprise_name = policy.key, enterprise.name
    try:
        instance_id = start_application(db, park_slug=park_slug, process_key=process_key,
                                        data=prefilled, actor=actor)
    except BaseException:
        with db.write() as session:
            session.execute(update(PolicyOffer).where(PolicyOffer.id == offer_id)
                            .values(status="offered", answered_at=None, answered_by=None))
        raise
    with db.write() as session:
        offer = session.get_one(PolicyOffer, offer_id)
        offer.instance_id = instance_id
        audit.append(session, park_id=offer.park_id, actor=actor, action="policy.confirmed",
                     at=utcnow(), instance_id=instance_id,
                     details={"policy": policy_key, "enterprise": enterprise_name})
    return instance_id


def decline_offer(db: Database, *, offer_id: int, actor: str) -> None:
    """Say no to an offered policy; it is not offered again."""
    with db.write() as session:
        offer, _park = _own_offer(session, offer_id, actor)
        if offer.status != "offered":
            raise Conflict(f"the offer is {offer.status} already")
        now = utcnow()
        offer.status, offer.answered_at, offer.answered_by = "declined", now, actor
        policy = session.get_one(Policy, offer.policy_id)
        audit.append(session, park_id=offer.park_id, actor=actor, action="policy.declined",
                     at=now, details={"policy": policy.key})
