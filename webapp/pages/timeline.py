"""The approval actions on an application's timeline, read from its audit trail.

One registry, ``ACTIONS``, names every audit action of the shared contract with its label
and what of its details a reader is shown (to whom, reasons, comment); the timeline shows an
application's latest ones interleaved with its finished steps, in the order they happened.
A completion is shown by its step (the step carries the decision), and a user's own
substitution (``substitute.*``, no application) lives on the 我的委托 page, not here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext, lazy_pgettext
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.models import AuditEvent, HumanTask

Names = Mapping[str, str]
Note = Callable[[Mapping[str, Any], Names], str]


@dataclass(frozen=True)
class Shown:
    """How one audit action reads on the timeline: its label, a line saying to whom or what
    (from its details), the detail key of its reasons, and whether it is shown there at all."""

    label: Any
    note: Note | None = None
    reasons: str | None = None
    on_timeline: bool = True
    # the detail keys that name people, so their display names are read in one query
    people: tuple[str, ...] = ()


def _who(names: Names, value: Any) -> str:
    if isinstance(value, list | tuple):
        return "、".join(names.get(str(v), str(v)) for v in value)
    return names.get(str(value), str(value)) if value else ""


def _to(key: str = "to") -> Note:
    return lambda details, names: _("to %(who)s", who=_who(names, details.get(key)))


POSITION_LABELS = {
    "before": lazy_gettext("sign before"),
    "after": lazy_gettext("sign after"),
    "parallel": lazy_gettext("sign alongside"),
}
RESUME_LABELS = {
    "flow": lazy_gettext("resubmission follows the flow"),
    "to_me": lazy_gettext("resubmission comes straight back"),
}
SKIP_REASONS = {
    "empty": lazy_gettext("nobody could take the step"),
    "self": lazy_gettext("the applicant would have approved itself"),
}


def _signers(details: Mapping[str, Any], names: Names) -> str:
    position = POSITION_LABELS.get(str(details.get("position")), details.get("position") or "")
    return f"{_who(names, details.get('usernames'))}（{position}）"


def _substituted(details: Mapping[str, Any], names: Names) -> str:
    return _(
        "%(substitute)s on behalf of %(user)s",
        substitute=_who(names, details.get("substitute")),
        user=_who(names, details.get("for_user")),
    )


def _returned(details: Mapping[str, Any], names: Names) -> str:
    to = details.get("to_name") or details.get("to") or ""
    resume = RESUME_LABELS.get(str(details.get("resume")), "")
    return _("to %(who)s", who=to) + (f"（{resume}）" if resume else "")


def _reason(details: Mapping[str, Any], names: Names) -> str:
    return str(SKIP_REASONS.get(str(details.get("reason")), details.get("reason") or ""))


def _urged(details: Mapping[str, Any], names: Names) -> str:
    holders = details.get("holders")
    return _("to %(who)s", who=_who(names, holders)) if holders else ""


def _reminded(details: Mapping[str, Any], names: Names) -> str:
    return _("reminder %(count)s", count=details.get("count") or 1)


def _closed(details: Mapping[str, Any], names: Names) -> str:
    return _(
        "decided by %(who)s (%(mode)s)",
        who=_who(names, details.get("by")),
        mode=details.get("mode") or "",
    )


def _closed_by_return(details: Mapping[str, Any], names: Names) -> str:
    return _(
        "the task of %(holder)s, closed as %(who)s returned the application",
        holder=_who(names, details.get("assignee")),
        who=_who(names, details.get("by")),
    )


def _withdrawn(details: Mapping[str, Any], names: Names) -> str:
    return str(details.get("reason") or "")


def _migrated(details: Mapping[str, Any], names: Names) -> str:
    return _(
        "from version %(before)s to version %(after)s",
        before=details.get("from_version"),
        after=details.get("to_version"),
    )


# every audit action of the shared contract (and the older task actions), as the timeline
# shows it
ACTIONS: dict[str, Shown] = {
    "task.transferred": Shown(lazy_gettext("Transferred"), _to(), people=("to",)),
    "task.delegated": Shown(lazy_gettext("Delegated"), _to(), people=("to",)),
    "task.delegation_resolved": Shown(
        lazy_gettext("Delegation resolved"),
        lambda d, n: _("back to %(who)s", who=_who(n, d.get("to"))),
        people=("to",),
    ),
    "task.signers_added": Shown(lazy_gettext("Signers added"), _signers, people=("usernames",)),
    "task.signers_removed": Shown(
        lazy_gettext("Signers removed"),
        lambda d, n: _who(n, d.get("usernames")),
        people=("usernames",),
    ),
    "task.substituted": Shown(
        lazy_gettext("Handled by a substitute"), _substituted, people=("substitute", "for_user")
    ),
    "substitute.set": Shown(lazy_gettext("Substitute named"), on_timeline=False),
    "substitute.ended": Shown(lazy_gettext("Substitute ended"), on_timeline=False),
    "instance.withdrawn": Shown(lazy_gettext("Withdrawn"), _withdrawn),
    "instance.urged": Shown(lazy_gettext("Urged"), _urged, people=("holders",)),
    # "Copied" alone is the 抄送我 list's column (when it was copied)
    "instance.cc": Shown(
        lazy_pgettext("approval action", "Copied"), _to("usernames"), people=("usernames",)
    ),
    "task.returned": Shown(lazy_gettext("Returned"), _returned, reasons="reasons"),
    "task.completed": Shown(lazy_gettext("Completed"), on_timeline=False),
    "task.reminded": Shown(lazy_gettext("Reminded"), _reminded),
    "task.auto_approved": Shown(lazy_gettext("Approved automatically at the time limit")),
    "task.auto_returned": Shown(lazy_gettext("Returned automatically at the time limit")),
    "task.timeout_transferred": Shown(lazy_gettext("Transferred at the time limit"), _to("group")),
    "task.skipped": Shown(lazy_gettext("Skipped"), _reason),
    "task.to_admins": Shown(lazy_gettext("Passed to the park administrators"), _reason),
    "task.auto_rejected": Shown(lazy_gettext("Rejected automatically"), _reason),
    "task.closed_by_mode": Shown(
        lazy_gettext("Closed by the approval mode"), _closed, people=("by",)
    ),
    "task.closed_by_return": Shown(
        lazy_gettext("Closed by a return"), _closed_by_return, people=("by", "assignee")
    ),
    "task.claimed": Shown(lazy_gettext("Claimed"), on_timeline=False),
    "task.unclaimed": Shown(lazy_gettext("Given back"), on_timeline=False),
    "task.assigned": Shown(lazy_gettext("Assigned"), on_timeline=False),
    "instance.migrated": Shown(lazy_gettext("Moved to another version"), _migrated),
}
ON_TIMELINE = tuple(sorted(name for name, shown in ACTIONS.items() if shown.on_timeline))


@dataclass(frozen=True)
class ActionEntry:
    """What the timeline shows of one audit event."""

    action: str
    label: str
    name: str | None
    actor: str | None
    note: str
    reasons: list[str]
    comment: str | None


def describe(
    action: str, actor: str | None, details: Mapping[str, Any], names: Names
) -> ActionEntry | None:
    """One audit event as the timeline shows it; None for an action it does not show."""
    shown = ACTIONS.get(action)
    if shown is None or not shown.on_timeline:
        return None
    reasons = details.get(shown.reasons) if shown.reasons else None
    comment = details.get("comment")
    return ActionEntry(
        action=action,
        label=str(shown.label),
        name=str(details["name"]) if details.get("name") else None,
        actor=names.get(actor, actor) if actor else None,
        note=shown.note(details, names) if shown.note is not None else "",
        reasons=[str(r) for r in reasons] if isinstance(reasons, list) else [],
        comment=str(comment) if isinstance(comment, str) and comment.strip() else None,
    )


def people_in(events: Iterable[AuditEvent]) -> set[str]:
    """The usernames the events name (actors and the people in their details)."""
    found: set[str] = set()
    for event in events:
        if event.actor:
            found.add(event.actor)
        shown = ACTIONS.get(event.action)
        for key in shown.people if shown is not None else ():
            value = event.details.get(key)
            if isinstance(value, list):
                found.update(str(v) for v in value)
            elif value:
                found.add(str(value))
    return found


def latest_events(session: Session, instance_id: str, *, limit: int | None) -> list[AuditEvent]:
    """The application's latest ``limit`` audit events the timeline shows (all without a
    limit), oldest first."""
    query = select(AuditEvent).where(
        AuditEvent.instance_id == instance_id, AuditEvent.action.in_(ON_TIMELINE)
    )
    if limit is None:
        return list(session.scalars(query.order_by(AuditEvent.at, AuditEvent.id)))
    newest = session.scalars(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(limit)
    )
    return list(newest)[::-1]


def on_behalf(
    session: Session, steps: Sequence[Any], display_names: Callable[[Session, Iterable[str]], Names]
) -> list[Any]:
    """The steps with the actor of each step a substitute took written "李娜（代 张伟）"."""
    task_ids = [step.task_id for step in steps if step.task_id]
    if not task_ids:
        return list(steps)
    rows = session.execute(
        select(HumanTask.id, HumanTask.on_behalf_of).where(
            HumanTask.id.in_(task_ids), HumanTask.on_behalf_of.is_not(None)
        )
    ).all()
    if not rows:
        return list(steps)
    behalf = dict(rows)
    names = display_names(session, behalf.values())
    return [
        replace(
            step,
            actor=_(
                "%(actor)s (for %(user)s)",
                actor=step.actor,
                user=names.get(behalf[step.task_id], behalf[step.task_id]),
            ),
        )
        if step.task_id in behalf and step.actor
        else step
        for step in steps
    ]


# the steps of hand-offs' own rows (webapp.services.handoffs): a delegate's answer, a signature
STEP_LABELS = {
    "Delegation": lazy_gettext("Delegated answer"),
    "Signature": lazy_gettext("Added signature"),
}


def init_timeline(app: Flask) -> None:
    """Make the hand-off step labels available to the timeline's template."""
    app.jinja_env.globals.update(HANDOFF_STEP_LABELS=STEP_LABELS, POSITION_LABELS=POSITION_LABELS)
