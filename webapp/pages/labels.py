"""Names of codes the pages show (statuses, outcomes, step kinds), in the user's language."""

from __future__ import annotations

import re

from flask import Flask
from flask_babel import gettext as _
from flask_babel import lazy_gettext

from engine import ApprovalProgress
from webapp.services.attachments import ALLOWED

STATUS_LABELS = {
    "active": lazy_gettext("In progress"),
    "completed": lazy_gettext("Completed"),
    "cancelled": lazy_gettext("Cancelled"),
    "error": lazy_gettext("Needs attention"),
}
# how an ended application ended; shown in place of its status
RESULT_LABELS = {
    "approved": lazy_gettext("Granted"),
    "rejected": lazy_gettext("Not granted"),
    "withdrawn": lazy_gettext("Withdrawn"),
    "cancelled": lazy_gettext("Cancelled"),
}
# what an open application waits for; shown in place of "In progress"
DETAIL_LABELS = {
    "with_applicant": lazy_gettext("Awaiting correction"),
}
OUTCOME_LABELS = {
    "approve": lazy_gettext("Approved"),
    "return": lazy_gettext("Returned for correction"),
    "reject": lazy_gettext("Rejected"),
    # how an approval node (会签, 或签, ...) ended
    "approved": lazy_gettext("Approved"),
    "rejected": lazy_gettext("Rejected"),
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
    "transferred": lazy_gettext("Transferred"),
    "delegated": lazy_gettext("Delegated"),
    "delegation_resolved": lazy_gettext("Delegation resolved"),
    "signers_added": lazy_gettext("Signers added"),
}
# how a resubmission changed a file
FILE_CHANGE_LABELS = {
    "added": lazy_gettext("Added"),
    "removed": lazy_gettext("Removed"),
    "replaced": lazy_gettext("Replaced"),
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


def held(seconds: int) -> str:
    """A paused time as words: “2 days 3 hours”, or minutes under an hour."""
    days, rest = divmod(max(int(seconds), 0), 86400)
    hours, minutes = rest // 3600, (rest % 3600) // 60
    if days:
        return str(_("%(days)d d %(hours)d h", days=days, hours=hours))
    if hours:
        return str(_("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes))
    if minutes:
        return str(_("%(minutes)d min", minutes=minutes))
    return str(_("under a minute"))


def init_labels(app: Flask) -> None:
    """Make the label tables available to every template."""
    app.jinja_env.globals.update(
        STATUS_LABELS=STATUS_LABELS, RESULT_LABELS=RESULT_LABELS, DETAIL_LABELS=DETAIL_LABELS,
        OUTCOME_LABELS=OUTCOME_LABELS, KIND_LABELS=KIND_LABELS,
        FILE_CHANGE_LABELS=FILE_CHANGE_LABELS,
        NOTIFICATION_LABELS=NOTIFICATION_LABELS, ROLE_LABELS=ROLE_LABELS, promised=promised,
        held=held, UPLOAD_TYPES=sorted(ALLOWED))


def approval_standing(progress: ApprovalProgress) -> str:
    """Where an approval node stands, as the pages say it: “会签 2/3 已同意”."""
    text = _("%(mode)s %(approved)d/%(total)d approved", mode=approval_mode_label(progress),
             approved=progress.approved, total=progress.total)
    if progress.rejected:
        text += _(", %(rejected)d rejected", rejected=progress.rejected)
    return text


def approval_mode_label(progress: ApprovalProgress) -> str:
    """The node's mode in the reader's language (或签, 会签, 依次审批, 按比例通过 60%)."""
    if progress.mode == "ratio":
        return _("Pass by share %(share)s%%", share=f"{(progress.ratio or 0) * 100:g}")
    return {"any": _("Any one signs"), "all": _("Countersign"),
            "sequential": _("Sign in turn")}.get(progress.mode, progress.mode)
