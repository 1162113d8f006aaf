"""Parkflow's workflow core: deploy, run and inspect BPMN procedures.

This package is the only place that knows SpiffWorkflow. It imports nothing from Flask or
the web layer and hands out frozen dataclasses only (see README.md in this folder).
"""

from .approval import uses_groups as signs_by_groups
from .calendars import ParkCalendar, statutory_year_known, subtract_working_days
from .connectors import (
    HTTP_TOPIC,
    ConnectorFailed,
    HttpConfig,
    HttpRequest,
    build_request,
    map_response,
    parse_config,
)
from .copies import CopyTarget, cc_targets
from .decision_files import called_decisions, decision_name, decision_probe
from .definitions import (
    ProcessVersion,
    SpecCache,
    content_hash,
    decision_ids,
    prepare_deployment,
)
from .errors import (
    CannotReturn,
    Conflict,
    EngineError,
    EngineFailed,
    ExpressionError,
    FormDataInvalid,
    InvalidProcess,
    NotWaiting,
    Problem,
    ScriptFailed,
    TaskNotOpen,
)
from .external import ErrorNotCaught
from .formdata import is_generated as is_generated_form
from .library import CallableProcess, external_calls, version_tag_of
from .limits import RunLimits
from .migration import CannotMigrate, MigrationProblem
from .runtime import Engine
from .sandbox import ScriptLimits
from .serialization import StateCorrupt
from .task_rules import (
    EMPTY_ASSIGNEE,
    SELF_APPROVAL,
    TIMEOUT_ACTION,
    TimeoutAction,
    has_rules,
    timeout_action,
)
from .values import (
    END_RESULTS,
    ApprovalProgress,
    HumanTaskSpec,
    MessageWait,
    OpenExternalTask,
    OpenTask,
    Snapshot,
    StepError,
    StepRecord,
    ThrownMessage,
    TimerWait,
)
from .version_diff import VersionDiff, diff_versions
from .worktime import (
    DEFAULT_DAY_END,
    WeekendCalendar,
    WorkCalendar,
    add_working_days,
    end_of_working_days,
    resolve_due,
)

__all__ = [
    "HTTP_TOPIC",
    "ConnectorFailed",
    "HttpConfig",
    "HttpRequest",
    "build_request",
    "map_response",
    "parse_config",
    "signs_by_groups",
    "ApprovalProgress",
    "EMPTY_ASSIGNEE",
    "SELF_APPROVAL",
    "TIMEOUT_ACTION",
    "TimeoutAction",
    "has_rules",
    "timeout_action",
    "DEFAULT_DAY_END",
    "END_RESULTS",
    "CannotMigrate",
    "CannotReturn",
    "MigrationProblem",
    "Conflict",
    "CopyTarget",
    "cc_targets",
    "ParkCalendar",
    "statutory_year_known",
    "subtract_working_days",
    "Engine",
    "EngineError",
    "EngineFailed",
    "ErrorNotCaught",
    "ExpressionError",
    "FormDataInvalid",
    "HumanTaskSpec",
    "InvalidProcess",
    "MessageWait",
    "NotWaiting",
    "OpenExternalTask",
    "OpenTask",
    "Problem",
    "ProcessVersion",
    "RunLimits",
    "ScriptFailed",
    "ScriptLimits",
    "Snapshot",
    "SpecCache",
    "StateCorrupt",
    "StepError",
    "StepRecord",
    "TaskNotOpen",
    "ThrownMessage",
    "TimerWait",
    "VersionDiff",
    "WeekendCalendar",
    "WorkCalendar",
    "add_working_days",
    "content_hash",
    "called_decisions",
    "decision_ids",
    "decision_name",
    "decision_probe",
    "diff_versions",
    "end_of_working_days",
    "is_generated_form",
    "prepare_deployment",
    "CallableProcess",
    "external_calls",
    "version_tag_of",
    "resolve_due",
]
