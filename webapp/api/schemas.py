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
    status = fields.String(validate=validate.OneOf(INSTANCE_STATUSES))
    result = fields.String(validate=validate.OneOf(INSTANCE_RESULTS))
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


class InstanceViewSchema(InstanceSummarySchema):
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
    scope = fields.String(load_default="all", validate=validate.OneOf(("mine", "groups", "all")))
    process_key = _text(255, metadata={"description": "only tasks of this procedure"})
    q = _text(64, metadata={"description": "part of a reference number or enterprise name"})
    overdue = fields.Boolean(load_default=False,
                             metadata={"description": "only tasks past their due time"})


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
