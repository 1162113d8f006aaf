"""BPMN timers: literal values made evaluable, working days resolved, due times read back.

SpiffWorkflow evaluates every timer value as a Python expression, so a bare ``PT48H`` would be
an unknown name. At compile time each timer expression is rewritten once: a literal becomes a
quoted string, ``5WD`` becomes a call of a calendar-aware function, and any other expression is
wrapped so that whatever it yields (an ISO string, ``NWD``, a datetime) becomes the ISO text
SpiffWorkflow expects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time
from typing import Any

from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import (
    CycleTimerEventDefinition,
    DurationTimerEventDefinition,
    TimeDateEventDefinition,
    TimerEventDefinition,
)

from .cron import CRON_NEXT_FN, cron_problem, looks_like_cron, next_firing, use_cron_cycles
from .errors import ExpressionError
from .worktime import WorkCalendar, add_working_days, parse_time_value

DURATION_FN = "pf_timer_duration"
DATE_FN = "pf_timer_date"
CYCLE_FN = "pf_timer_cycle"
# expression functions that need the park's calendar, so come with the engine, not FUNCTIONS
CALENDAR_FUNCTIONS = frozenset({"add_working_days"})


def normalize_timer_expressions(spec: Any) -> None:
    """Rewrite the timer expressions of every task spec of ``spec`` in place."""
    for task_spec in spec.task_specs.values():
        use_cron_cycles(task_spec)
        for definition in _timer_definitions(getattr(task_spec, "event_definition", None)):
            definition.expression = _rewrite(definition)


def _timer_definitions(definition: Any) -> Iterator[TimerEventDefinition]:
    if isinstance(definition, TimerEventDefinition):
        yield definition
    elif isinstance(definition, MultipleEventDefinition):
        for inner in definition.event_definitions:
            yield from _timer_definitions(inner)


def _rewrite(definition: TimerEventDefinition) -> str:
    text = (definition.expression or "").strip()
    if text.startswith(f"{DURATION_FN}(") or text.startswith(f"{DATE_FN}(") or \
            text.startswith(f"{CYCLE_FN}("):
        return text
    if isinstance(definition, DurationTimerEventDefinition):
        function = DURATION_FN
    elif isinstance(definition, TimeDateEventDefinition):
        function = DATE_FN
    else:
        function = CYCLE_FN
    if function == CYCLE_FN and looks_like_cron(_unquoted(text)):
        return f"{function}({_unquoted(text)!r})"
    literal = parse_time_value(text)
    argument = repr(literal.text) if literal is not None else text
    return f"{function}({argument})"


def _moment_of(value: Any) -> date:
    if isinstance(value, date):
        return value
    text = str(value).strip()
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)


def _unquoted(text: str) -> str:
    quoted = len(text) > 1 and text[0] == text[-1] and text[0] in "'\""
    return text[1:-1].strip() if quoted else text


def timer_functions(calendar: WorkCalendar) -> dict[str, Callable[..., Any]]:
    """The functions the rewritten timer expressions call, bound to a park's calendar."""

    def duration(value: Any) -> str:
        if isinstance(value, str):
            parsed = parse_time_value(value)
            if parsed is not None and parsed.kind == "duration":
                return parsed.text
            if parsed is not None and parsed.kind == "workdays":
                now = datetime.now(UTC)
                due = add_working_days(now, int(parsed.text[:-2]), calendar)
                return f"PT{max(0, int((due - now).total_seconds()))}S"
        raise ExpressionError(str(value), "a timer duration must be ISO 8601 (PT48H) or NWD")

    def at(value: Any) -> str:
        if isinstance(value, datetime):
            moment = value if value.tzinfo else value.replace(tzinfo=calendar.timezone)
            return moment.astimezone(UTC).isoformat()
        if isinstance(value, date):
            return at(datetime.combine(value, time(0, 0), calendar.timezone))
        if isinstance(value, str):
            parsed = parse_time_value(value)
            if parsed is not None and parsed.kind == "date":
                return at(datetime.fromisoformat(parsed.text))
            if parsed is not None and parsed.kind == "workdays":
                due = add_working_days(datetime.now(UTC), int(parsed.text[:-2]), calendar)
                return due.isoformat()
        raise ExpressionError(str(value), "a timer date must be an ISO 8601 date-time or NWD")

    def cycle(value: Any) -> str:
        if isinstance(value, str) and looks_like_cron(value):
            reason = cron_problem(value.strip())
            if reason is not None:
                raise ExpressionError(value, reason)
            return value.strip()
        parsed = parse_time_value(value) if isinstance(value, str) else None
        if parsed is None or parsed.kind != "cycle":
            raise ExpressionError(str(value), "a timer cycle must be an ISO 8601 repetition "
                                              "(R3/P1D) or cron (0 0 9 ? * MON-FRI)")
        return parsed.text

    def cron_next(text: str, after: str) -> str:
        return next_firing(text, datetime.fromisoformat(after), calendar.timezone).isoformat()

    def working_days_after(moment: Any, days: Any) -> date:
        """``moment`` moved by ``days`` working days of the park's calendar."""
        if not isinstance(days, int) or isinstance(days, bool):
            raise TypeError("add_working_days() needs a whole number of days")
        start = _moment_of(moment)
        if isinstance(start, datetime):
            zoned = start if start.tzinfo else start.replace(tzinfo=calendar.timezone)
            return add_working_days(zoned, days, calendar).astimezone(zoned.tzinfo)
        midnight = datetime.combine(start, time(0, 0), calendar.timezone)
        return add_working_days(midnight, days, calendar).astimezone(calendar.timezone).date()

    return {DURATION_FN: duration, DATE_FN: at, CYCLE_FN: cycle, CRON_NEXT_FN: cron_next,
            "add_working_days": working_days_after}


def finish_exhausted_cycles(waiting: Iterable[Any]) -> bool:
    """Let cycle timers that have fired their last repetition finish; True when one did.

    ``waiting`` are the instance's WAITING catch events (`TaskWalk.waiting_events`).

    SpiffWorkflow leaves such a timer waiting, still showing the time of a repetition that will
    never come, until something refreshes the timers once more. Finishing it now keeps a
    timer that has nothing left to do out of the instance's schedule.
    """
    finished = False
    for task in waiting:
        if _is_exhausted_cycle(task):
            task.internal_data["event_fired"] = True
            task.task_spec._update(task)
            finished = True
    return finished


def _is_exhausted_cycle(task: Any) -> bool:
    value = task.internal_data.get("event_value")
    return (isinstance(task.task_spec.event_definition, CycleTimerEventDefinition)
            and isinstance(value, dict) and value.get("cycles") == 0)


def waiting_timers(waiting: Iterable[Any]) -> list[tuple[Any, datetime]]:
    """(task, due time in UTC) for every timer among the waiting catch events.

    ``waiting`` are the instance's WAITING catch events, subprocesses included
    (`TaskWalk.waiting_events`).
    """
    found = []
    for task in waiting:
        for definition in _timer_definitions(task.task_spec.event_definition):
            due = _due_time(task, definition)
            if due is not None:
                found.append((task, due))
    return found


def _due_time(task: Any, definition: TimerEventDefinition) -> datetime | None:
    value = task.internal_data.get("event_value")
    if value is None:
        return None
    if isinstance(value, dict):
        if value.get("cycles") == 0:
            return None  # every repetition has fired
        value = value.get("next")
    if isinstance(definition, CycleTimerEventDefinition) and value is None:
        return None
    parsed = TimerEventDefinition.parse_time_or_duration(value)
    return parsed if isinstance(parsed, datetime) else None
