"""Marshmallow schemas of the REST API: what each request accepts and each response holds."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from webapp.models import INSTANCE_RESULTS, INSTANCE_STATUSES, NOTIFICATION_KINDS, STATUS_DETAILS

MAX_LIMIT = 500
DEFAULT_LIMIT = 50


def _text(max_length: int, **kwargs: Any) -> fields.String:
    return fields.String(validate=validate.Length(min=1, max=max_length), **kwargs)


def _any_object() -> fields.Dict:
    """A JSON object with any values (checked by the task's form, not here)."""
    return fields.Dict(keys=fields.String(), values=fields.Raw(allow_none=True),
                       load_default=dict)


# --- errors ------------------------------------------------------------------------------


class ErrorBodySchema(Schema):
    code = fields.String(required=True, metadata={"description": "stable machine-readable code"})
    message = fields.String(required=True)
    details = fields.Raw(allow_none=True, metadata={"description": "the problems, when listed"})


class ErrorSchema(Schema):
    error = fields.Nested(ErrorBodySchema, required=True)


# --- paging ------------------------------------------------------------------------------


class PageArgsSchema(Schema):
    limit = fields.Integer(load_default=DEFAULT_LIMIT,
                           validate=validate.Range(min=1, max=MAX_LIMIT))
    cursor = _text(500, metadata={"description": "opaque; taken from the Link header"})


# --- auth --------------------------------------------------------------------------------


class TokenRequestSchema(Schema):
    username = _text(64, required=True)
    password = _text(1024, required=True)


class TokenSchema(Schema):
    token = fields.String(required=True)
    expires_at = fields.DateTime(required=True)


# --- processes ---------------------------------------------------------------------------


class DeployRequestSchema(Schema):
    bpmn_xml = fields.String(required=True, validate=validate.Length(min=1))
    dmn_xml = fields.List(fields.String(validate=validate.Length(min=1)), load_default=list)
    forms = fields.Dict(keys=fields.String(validate=validate.Length(min=1, max=255)),
                        values=fields.Dict(), load_default=dict)


class DeployedProcessSchema(Schema):
    key = fields.String(required=True)
    version = fields.Integer(required=True)
    name = fields.String(required=True)
    created = fields.Boolean(required=True)


class DeployWarningSchema(Schema):
    element_id = fields.String(required=True)
    line = fields.Integer(allow_none=True)
    message = fields.String(required=True)
    file = fields.String(metadata={"description": "set when the deployment had several files"})


class DeployResultSchema(Schema):
    processes = fields.List(fields.Nested(DeployedProcessSchema), required=True)
    warnings = fields.List(fields.Nested(DeployWarningSchema), required=True, metadata={
        "description": "what was deployed although it should be looked at, e.g. a user task "
                       "naming nobody (it goes to the park's administrators)"})


class ProcessSchema(Schema):
    key = fields.String(required=True)
    name = fields.String(required=True)
    version = fields.Integer(required=True)
    deployed_at = fields.DateTime(required=True)
    promised_duration = fields.String(allow_none=True)


# --- instances ---------------------------------------------------------------------------


class StartRequestSchema(Schema):
    process_key = _text(255, required=True)
    data = _any_object()
    enterprise = _text(200, allow_none=True, load_default=None)


class InstanceListArgsSchema(PageArgsSchema):
    # "all" (as the pages' filters offer it) means every value, as leaving the filter out does
    status = fields.String(validate=validate.OneOf(("all", *INSTANCE_STATUSES)))
    result = fields.String(validate=validate.OneOf(("all", *INSTANCE_RESULTS)))
    process_key = _text(255)


class MessageRequestSchema(Schema):
    payload = _any_object()


class CancelRequestSchema(Schema):
    reason = fields.String(load_default="", validate=validate.Length(max=2000))


class EnterpriseRefSchema(Schema):
    id = fields.String(required=True)
    name = fields.String(required=True)


class StepErrorSchema(Schema):
    element_id = fields.String(required=True)
    line = fields.Integer(allow_none=True)
    message = fields.String(required=True)


class CurrentStepSchema(Schema):
    task_id = fields.String(required=True)
    element_id = fields.String(required=True)
    name = fields.String(required=True)
    lane = fields.String(allow_none=True)
    candidate_groups = fields.List(fields.String(), required=True)
    assignee = fields.String(allow_none=True)
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean(required=True)


class HistoryEntrySchema(Schema):
    element_id = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True)
    lane = fields.String(allow_none=True)
    completed_by = fields.String(allow_none=True)
    completed_at = fields.DateTime(required=True)
    outcome = fields.String(allow_none=True)


class InstanceSummarySchema(Schema):
    id = fields.String(required=True)
    reference = fields.String(required=True)
    park = fields.String(required=True)
    process_key = fields.String(required=True)
    process_name = fields.String(required=True)
    version = fields.Integer(required=True)
    status = fields.String(required=True, validate=validate.OneOf(INSTANCE_STATUSES))
    result = fields.String(allow_none=True, validate=validate.OneOf(INSTANCE_RESULTS),
                           metadata={"description": "how it ended; null while open"})
    status_detail = fields.String(
        allow_none=True, validate=validate.OneOf(STATUS_DETAILS),
        metadata={"description": "with_applicant while a correction is awaited"})
    promised_at = fields.DateTime(allow_none=True)
    paused_seconds = fields.Integer(
        required=True, metadata={"description": "time held by the applicant, not counted "
                                                "against the promise"})
    enterprise = fields.Nested(EnterpriseRefSchema, allow_none=True)
    started_at = fields.DateTime(required=True)
    ended_at = fields.DateTime(allow_none=True)
    error = fields.Nested(StepErrorSchema, allow_none=True)
    current_steps = fields.List(fields.Nested(CurrentStepSchema), required=True)


class PredictionBasisSchema(Schema):
    applications = fields.Integer(required=True, metadata={
        "description": "finished applications of this procedure version the prediction rests on"})
    since = fields.DateTime(required=True, metadata={
        "description": "when the earliest of them was submitted"})


class InstanceViewSchema(InstanceSummarySchema):
    predicted_at = fields.DateTime(allow_none=True, metadata={
        "description": "when it will probably finish, from the park's own history of this "
                       "procedure version; null without enough history or once finished"})
    prediction_basis = fields.Nested(PredictionBasisSchema, allow_none=True)
    history = fields.List(fields.Nested(HistoryEntrySchema), required=True, metadata={
        "description": "the latest 20 steps taken, oldest first; the rest at history_next"})
    history_next = fields.String(allow_none=True, metadata={
        "description": "where every step is listed, page by page (GET); null when history "
                       "holds them all"})


class AuditEntrySchema(Schema):
    at = fields.DateTime(required=True)
    actor = fields.String(allow_none=True)
    action = fields.String(required=True)
    details = fields.Dict(required=True)


# --- tasks -------------------------------------------------------------------------------


class TaskListArgsSchema(PageArgsSchema):
    scope = fields.String(load_default="all", validate=validate.OneOf(
        ("mine", "groups", "all", "done", "cc")), metadata={
        "description": "mine | groups | all: open tasks (待办); done: tasks the caller completed "
                       "(已办), newest first; cc: applications copied to the caller (抄送我)"})
    process_key = _text(255, metadata={"description": "only tasks of this procedure"})
    q = _text(64, metadata={"description": "part of a reference number or enterprise name"})
    overdue = fields.Boolean(load_default=False,
                             metadata={"description": "only tasks past their due time"})
    sort = fields.String(
        load_default="due",
        metadata={
            "enum": ["due", "received", "waiting", "priority", "applicant"],
            "description": "order of open tasks: due (overdue and soonest due first, the default), "
            "received (newest first), waiting (longest waiting first), priority "
            "(highest first, then newest), applicant (enterprise name A to Z); "
            "any other value is refused with 400",
        },
    )


class CompleteRequestSchema(Schema):
    data = _any_object()


class AssignRequestSchema(Schema):
    username = _text(64, required=True)


class TaskSchema(Schema):
    task_id = fields.String(required=True)
    instance_id = fields.String(required=True)
    reference = fields.String(required=True)
    park = fields.String(required=True)
    process_key = fields.String(required=True)
    name = fields.String(required=True)
    element_id = fields.String(required=True)
    lane = fields.String(allow_none=True)
    candidate_groups = fields.List(fields.String(), required=True)
    candidate_users = fields.List(fields.String(), required=True)
    assignee = fields.String(allow_none=True)
    created_at = fields.DateTime(required=True)
    due_at = fields.DateTime(allow_none=True)
    overdue = fields.Boolean(required=True)
    form_key = fields.String(allow_none=True)
    priority = fields.Integer(required=True)
    status = fields.String(required=True)
    on_behalf_of = fields.String(allow_none=True, metadata={
        "description": "whom a substitute holds this task for (代…办理)"})
    handoff_kind = fields.String(allow_none=True, metadata={
        "description": "delegate|before|after|parallel for a delegation's or an added "
                       "signature's task, null for the engine's own"})
    parent_task_id = fields.String(allow_none=True, metadata={
        "description": "the task a delegation or an added signature belongs to"})


class DecisionSchema(Schema):
    task_id = fields.String(allow_none=True)
    element_id = fields.String(required=True)
    name = fields.String(required=True)
    completed_by = fields.String(required=True)
    completed_at = fields.DateTime(required=True)
    outcome = fields.String(allow_none=True)
    data = fields.Dict(required=True, metadata={"description": "what that task submitted"})


class FieldChangeSchema(Schema):
    field = fields.String(required=True)
    title = fields.String(required=True)
    old = fields.Raw(allow_none=True)
    new = fields.Raw(allow_none=True)


class FileChangeSchema(Schema):
    field = fields.String(required=True)
    title = fields.String(required=True)
    filename = fields.String(required=True)
    change = fields.String(required=True, validate=validate.OneOf(
        ("added", "removed", "replaced")))
    attachment_id = fields.String(allow_none=True)


class ResubmissionSchema(Schema):
    task_id = fields.String(allow_none=True)
    name = fields.String(required=True)
    completed_by = fields.String(allow_none=True)
    completed_at = fields.DateTime(required=True)
    note = fields.String(allow_none=True, metadata={"description": "the enterprise's 补正说明"})
    changes = fields.List(fields.Nested(FieldChangeSchema), required=True, metadata={
        "description": "application fields changed since the submission before, old → new"})
    files = fields.List(fields.Nested(FileChangeSchema), required=True)


class ReturnedSchema(Schema):
    from_ = fields.String(required=True, data_key="from", attribute="from",
                          metadata={"description": "the step that returned it"})
    from_element_id = fields.String(required=True)
    by = fields.String(allow_none=True)
    at = fields.DateTime(required=True)
    reasons = fields.List(fields.String(), required=True,
                          metadata={"description": "the 一次告知 list"})
    comment = fields.String(allow_none=True)
    resume = fields.String(required=True, metadata={
        "description": "`to_me`: the resubmission goes straight back to the returning step"})


class TaskContextSchema(Schema):
    application = fields.Dict(required=True, metadata={
        "description": "the application form's fields as the process holds them"})
    fields_ = fields.Dict(required=True, data_key="fields", attribute="fields", metadata={
        "description": "the values of the form's read-only fields"})
    decisions = fields.List(fields.Nested(DecisionSchema), required=True, metadata={
        "description": "the latest 20 earlier decisions of the application, oldest first, "
                       "with who took them"})
    decisions_truncated = fields.Boolean(required=True, metadata={
        "description": "whether earlier decisions come before those listed (every step, "
                       "without its data: GET /api/v1/instances/{id}/history)"})
    resubmission = fields.Nested(ResubmissionSchema, allow_none=True, metadata={
        "description": "for park staff: the latest correction the enterprise sent, null if none"})
    returned = fields.Nested(ReturnedSchema, allow_none=True, metadata={
        "description": "why this step is open again after a return (退回), null if it is not"})


class SignerSchema(Schema):
    username = fields.String(required=True)
    decision = fields.String(allow_none=True, metadata={
        "description": "approved, rejected, or null while the signer has not decided"})


class ApprovalSchema(Schema):
    mode = fields.String(required=True, metadata={
        "description": "any (或签), all (会签), sequential (依次审批), ratio (按比例通过)"})
    ratio = fields.Float(allow_none=True, metadata={"description": "the share, for ratio"})
    total = fields.Integer(required=True)
    approved = fields.Integer(required=True)
    rejected = fields.Integer(required=True)
    signers = fields.List(fields.Nested(SignerSchema), required=True, metadata={
        "description": "every signer in the listed order, with their decision so far"})


class UrgeMarkSchema(Schema):
    count = fields.Integer(required=True)
    last_at = fields.DateTime(required=True)


class TaskDetailSchema(TaskSchema):
    form = fields.Dict(allow_none=True, metadata={"description": "JSON Schema of the task form"})
    form_data = fields.Dict(required=True, metadata={
        "description": "the values the form opens with: only its own fields, blank unless the "
                       "model declares a field prefilled; once done, what the task submitted"})
    context = fields.Nested(TaskContextSchema, required=True, metadata={
        "description": "read-only facts shown beside the form, never its values"})
    completed_by = fields.String(allow_none=True)
    completed_at = fields.DateTime(allow_none=True)
    outcome = fields.String(allow_none=True)
    approval = fields.Nested(ApprovalSchema, allow_none=True, metadata={
        "description": "an open step of an approval node (approvalMode): where the node "
                       "stands; null for other tasks"})
    urged = fields.Nested(UrgeMarkSchema, allow_none=True, metadata={
        "description": "how often the applicant urged this task (催办) and when last; null "
                       "if never"})
    handoffs = fields.Nested("HandoffStatusSchema", allow_none=True, metadata={
        "description": "where the task's delegation and added signers stand, null if none"})


# --- notifications -----------------------------------------------------------------------


class NotificationArgsSchema(PageArgsSchema):
    unread = fields.Boolean(load_default=False)


class NotificationSchema(Schema):
    id = fields.Integer(required=True)
    at = fields.DateTime(required=True)
    kind = fields.String(required=True, validate=validate.OneOf(NOTIFICATION_KINDS))
    title = fields.String(required=True)
    body = fields.String(required=True)
    instance_id = fields.String(allow_none=True)
    task_id = fields.String(allow_none=True)
    read = fields.Boolean(required=True)


class HealthSchema(Schema):
    status = fields.String(required=True)


# --- hand-offs and substitutes -----------------------------------------------------------


def _comment() -> fields.String:
    return fields.String(validate=validate.Length(max=2000), allow_none=True,
                         load_default=None)


class TransferRequestSchema(Schema):
    username = _text(64, required=True)
    comment = _comment()


class DelegateRequestSchema(Schema):
    username = _text(64, required=True)
    comment = _comment()


class AddSignersRequestSchema(Schema):
    usernames = fields.List(_text(64), required=True, validate=validate.Length(min=1, max=20))
    position = fields.String(required=True,
                             validate=validate.OneOf(("before", "after", "parallel")))
    comment = _comment()


class RemoveSignersRequestSchema(Schema):
    usernames = fields.List(_text(64), required=True, validate=validate.Length(min=1, max=20))
    comment = _comment()


class AddedSignerSchema(Schema):
    username = fields.String(allow_none=True)
    on_behalf_of = fields.String(allow_none=True)
    position = fields.String(required=True)
    status = fields.String(required=True, metadata={
        "description": "open|completed, or waiting (after-signers before the holder decided)"})
    outcome = fields.String(allow_none=True)
    refused = fields.Boolean(required=True)
    task_id = fields.String(allow_none=True)


class DelegationSchema(Schema):
    to = fields.String(required=True)
    state = fields.String(required=True, validate=validate.OneOf(("pending", "resolved")))
    outcome = fields.String(allow_none=True)


class HeldDecisionSchema(Schema):
    by = fields.String(required=True)
    at = fields.String(required=True)
    outcome = fields.String(allow_none=True)


class HandoffStatusSchema(Schema):
    task_id = fields.String(required=True)
    holder = fields.String(allow_none=True)
    delegation = fields.Nested(DelegationSchema, allow_none=True)
    signers = fields.List(fields.Nested(AddedSignerSchema), required=True)
    held = fields.Nested(HeldDecisionSchema, allow_none=True, metadata={
        "description": "the holder's decision, kept until the after/parallel signers signed"})


class SubstituteRequestSchema(Schema):
    username = _text(64, required=True)
    from_ = fields.AwareDateTime(required=True, data_key="from", attribute="from")
    until = fields.AwareDateTime(required=True)
    park = _text(64, load_default=None)


class SubstituteSchema(Schema):
    id = fields.String(required=True)
    park = fields.String(required=True)
    username = fields.String(required=True)
    substitute = fields.String(required=True)
    from_ = fields.DateTime(required=True, data_key="from", attribute="from")
    until = fields.DateTime(required=True)
    active = fields.Boolean(required=True)


class SubstituteArgsSchema(Schema):
    park = _text(64, load_default=None)


class PeopleArgsSchema(Schema):
    q = fields.String(validate=validate.Length(max=100), load_default="")
    park = _text(64, load_default=None)
    limit = fields.Integer(validate=validate.Range(min=1, max=100), load_default=20)


class PersonSchema(Schema):
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True)
    groups = fields.List(fields.String(), required=True)
