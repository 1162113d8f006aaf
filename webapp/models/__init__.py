"""Parkflow's tables; import models from here."""

from webapp.models.applicant import InstanceCopy, Phrase, Urge
from webapp.models.audit import AppendOnlyError, AuditEvent, IdempotencyKey
from webapp.models.definitions import ProcessDefinition
from webapp.models.drafts import Draft
from webapp.models.external import EXTERNAL_TASK_STATUSES, ExternalTask, ServiceToken
from webapp.models.filters import SavedFilter
from webapp.models.holidays import SCHEDULE_SOURCES, HolidaySchedule
from webapp.models.instances import (
    INSTANCE_RESULTS,
    INSTANCE_STATUSES,
    STATUS_DETAILS,
    Attachment,
    Instance,
    MessageWait,
    Rating,
    RefCounter,
    allocate_reference,
)
from webapp.models.jobs import JOB_STATUSES, NOTIFICATION_KINDS, Job, Notification
from webapp.models.limits import RateLimitCounter
from webapp.models.modeller import ModellerDraft
from webapp.models.policies import OFFER_STATUSES, EnterpriseProfile, Policy, PolicyOffer
from webapp.models.rectifications import RECTIFICATION_STATUSES, Rectification
from webapp.models.substitutes import Substitution
from webapp.models.tasks import HANDOFF_KINDS, TASK_STATUSES, HumanTask, StepHistory
from webapp.models.tenancy import (
    DAY_KINDS,
    DEFAULT_TIMEZONE,
    ROLES,
    ApiToken,
    CalendarDay,
    Enterprise,
    Group,
    GroupMember,
    Membership,
    Park,
    User,
)
from webapp.models.webhooks import (
    DELIVERY_STATUSES,
    WEBHOOK_EVENTS,
    WebhookDelivery,
    WebhookSubscription,
)

__all__ = [
    "DELIVERY_STATUSES",
    "WEBHOOK_EVENTS",
    "WebhookDelivery",
    "WebhookSubscription",
    "OFFER_STATUSES",
    "EnterpriseProfile",
    "Policy",
    "PolicyOffer",
    "DAY_KINDS",
    "DEFAULT_TIMEZONE",
    "HANDOFF_KINDS",
    "EXTERNAL_TASK_STATUSES",
    "INSTANCE_RESULTS",
    "INSTANCE_STATUSES",
    "STATUS_DETAILS",
    "JOB_STATUSES",
    "NOTIFICATION_KINDS",
    "RECTIFICATION_STATUSES",
    "ROLES",
    "SCHEDULE_SOURCES",
    "TASK_STATUSES",
    "ApiToken",
    "AppendOnlyError",
    "Attachment",
    "AuditEvent",
    "CalendarDay",
    "Draft",
    "Enterprise",
    "ExternalTask",
    "Group",
    "GroupMember",
    "HolidaySchedule",
    "HumanTask",
    "IdempotencyKey",
    "Instance",
    "InstanceCopy",
    "Job",
    "Membership",
    "MessageWait",
    "ModellerDraft",
    "Notification",
    "ProcessDefinition",
    "Park",
    "Phrase",
    "RateLimitCounter",
    "SavedFilter",
    "Rating",
    "Rectification",
    "RefCounter",
    "ServiceToken",
    "StepHistory",
    "Urge",
    "Substitution",
    "User",
    "allocate_reference",
]
