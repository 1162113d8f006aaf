"""Timer cycles in cron form: Camunda's six fields (seconds first) or crontab's five.

SpiffWorkflow's cycle timer knows ISO repetitions only (``R3/P1D``): a fixed step from one
firing to the next. A cron cycle (``0 0 9 ? * MON-FRI``) has no fixed step, so each cycle
timer spec gets a definition that, for a cron value, works out the next firing after every
firing, in the park's time zone, and repeats for as long as the timer waits. ISO values go
on through SpiffWorkflow's own definition unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any

from croniter import croniter
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition

CRON_NEXT_FN = "pf_cron_next"
_FIELDS = (5, 6)


def cron_problem(text: str) -> str | None:
    """Why ``text`` is not a cron expression Parkflow runs, or None when it is one."""
    fields = text.split()
    if len(fields) not in _FIELDS:
        return "a cron cycle has 6 fields (seconds first, as in Camunda) or 5"
    if not croniter.is_valid(text, second_at_beginning=len(fields) == 6):
        return "not a valid cron expression"
    return None


def looks_like_cron(text: str) -> bool:
    """Whether a timer text is meant as cron: several fields, none of them an ISO part."""
    fields = text.strip().split()
    return len(fields) >= 5 and not any(f.startswith(("R", "P")) and "/" in f for f in fields)


def next_firing(text: str, after: datetime, zone: tzinfo) -> datetime:
    """The first time after ``after`` that ``text`` names, read in ``zone``, in UTC."""
    seconds_first = len(text.split()) == 6
    schedule = croniter(text, after.astimezone(zone), second_at_beginning=seconds_first)
    found: datetime = schedule.get_next(datetime)
    return found.astimezone(UTC)


class CronCycleTimer(CycleTimerEventDefinition):
    """A cycle timer that also runs cron values (``event_value`` keeps the cron text)."""

    def cycle_complete(self, my_task: Any) -> bool:
        event_value = my_task.internal_data.get("event_value")
        now = datetime.now(UTC)
        if event_value is None:
            text = my_task.workflow.script_engine.evaluate(my_task, self.expression)
            if not (isinstance(text, str) and looks_like_cron(text)):
                return bool(super().cycle_complete(my_task))
            event_value = {
                "cycles": -1,
                "next": _next(my_task, text, now),
                "duration": 0,
                "cron": text,
            }
        elif "cron" not in event_value:
            return bool(super().cycle_complete(my_task))
        ready = datetime.fromisoformat(event_value["next"]) < now
        if ready:
            event_value["next"] = _next(my_task, event_value["cron"], now)
        my_task.internal_data["event_value"] = event_value
        return ready


def _next(task: Any, text: str, after: datetime) -> str:
    compute = task.workflow.script_engine.environment.functions[CRON_NEXT_FN]
    return str(compute(text, after.isoformat()))


def use_cron_cycles(task_spec: Any) -> None:
    """Give a task spec whose event is a cycle timer the cron-aware definition."""
    definition: Any = getattr(task_spec, "event_definition", None)
    if type(definition) is CycleTimerEventDefinition:
        task_spec.event_definition = CronCycleTimer(
            definition.name, definition.expression, description=definition.description
        )
