"""Names of codes the pages show (statuses, outcomes, step kinds), in the user's language."""

from __future__ import annotations

import re

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext

STATUS_LABELS = {
    "active": lazy_gettext("In progress"),
    "completed": lazy_gettext("Completed"),
    "cancelled": lazy_gettext("Withdrawn"),
    "error": lazy_gettext("Needs attention"),
}
OUTCOME_LABELS = {
    "approve": lazy_gettext("Approved"),
    "return": lazy_gettext("Returned for correction"),
    "reject": lazy_gettext("Rejected"),
    "agreed": lazy_gettext("Agreed"),
    "failed": lazy_gettext("Not agreed"),
    "confirmed": lazy_gettext("Confirmed"),
    "wait": lazy_gettext("Keep waiting"),
}
KIND_LABELS = {
    "StartEvent": lazy_gettext("Submitted"),
    "EndEvent": lazy_gettext("Finished"),
    "BusinessRuleTask": lazy_gettext("Decided by the rules"),
    "IntermediateCatchEvent": lazy_gettext("Waiting period over"),
    "BoundaryEvent": lazy_gettext("Time limit reached"),
}
NOTIFICATION_LABELS = {
    "task_waiting": lazy_gettext("New task"),
    "returned": lazy_gettext("Returned"),
    "due_soon": lazy_gettext("Due soon"),
    "overdue": lazy_gettext("Overdue"),
    "escalated": lazy_gettext("Escalated"),
    "completed": lazy_gettext("Completed"),
}
WORKING_DAYS = re.compile(r"^(\d+)WD$")
ROLE_LABELS = {
    "admin": lazy_gettext("Park administrator"),
    "reviewer": lazy_gettext("Reviewer"),
    "enterprise": lazy_gettext("Enterprise"),
}


def promised(duration: str | None) -> str:
    """A promised duration as words: “20 working days”; other forms as written."""
    if not duration:
        return ""
    match = WORKING_DAYS.match(duration)
    if match:
        return _("%(count)s working days", count=match.group(1))
    return duration


def init_labels(app: Flask) -> None:
    """Make the label tables available to every template."""
    app.jinja_env.globals.update(
        STATUS_LABELS=STATUS_LABELS, OUTCOME_LABELS=OUTCOME_LABELS, KIND_LABELS=KIND_LABELS,
        NOTIFICATION_LABELS=NOTIFICATION_LABELS, ROLE_LABELS=ROLE_LABELS, promised=promised)
