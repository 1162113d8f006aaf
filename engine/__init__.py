"""Parkflow's workflow core: deploy, run and inspect BPMN procedures.

This package is the only place that knows SpiffWorkflow. It imports nothing from Flask or
the web layer and hands out frozen dataclasses only (see README.md in this folder).
"""

from .calendars import ParkCalendar, statutory_year_known, subtract_working_days
from .definitions import (
    ProcessVersion,
    SpecCache,
    content_hash,
    decision_ids,
    prepare_deployment,
)
from .errors import (
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
from .limits import RunLimits
from .runtime import Engine
from .sandbox import ScriptLimits
from .serialization import StateCorrupt
from .values import (
    END_RESULTS,
    HumanTaskSpec,
    MessageWait,
    OpenTask,
    Snapshot,
    StepError,
    StepRecord,
    TimerWait,
)
from .version_diff import VersionDiff, diff_versions
from .worktime import WeekendCalendar, WorkCalendar, add_working_days, resolve_due

__all__ = [
    "END_RESULTS",
    "Conflict",
    "ParkCalendar",
    "statutory_year_known",
    "subtract_working_days",
    "Engine",
    "EngineError",
    "EngineFailed",
    "ExpressionError",
    "FormDataInvalid",
    "HumanTaskSpec",
    "InvalidProcess",
    "MessageWait",
    "NotWaiting",
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
    "TimerWait",
    "VersionDiff",
    "WeekendCalendar",
    "WorkCalendar",
    "add_working_days",
    "content_hash",
    "decision_ids",
    "diff_versions",
    "prepare_deployment",
    "resolve_due",
]
