"""Bounds on one engine call, so that no diagram can hold a web or worker process.

A process that loops through automatic steps only (scripts, services, gateways) or calls
itself never comes back from SpiffWorkflow's ``do_engine_steps``. Each call therefore runs
under a step budget and a wall-time budget, counted through the ``will_complete_task``
callback SpiffWorkflow offers for this: a counter and a clock read per automatic step.
What an instance stores is bounded too: a script step may leave so much data, an instance's
state so many bytes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.util.task import TaskState

MIB = 2**20
# SpiffWorkflow's task iterator goes no deeper; a ready step below it is never run
REACHABLE_DEPTH = 1000
_LOOPS = "the process seems to loop without end"


@dataclass(frozen=True)
class RunLimits:
    """What one engine call may do and what one instance may store."""

    max_steps: int = 10_000  # automatic steps per call
    max_seconds: float = 10.0  # wall time per call, checked before each automatic step
    max_step_bytes: int = 2 * MIB  # the variables one script step leaves, as JSON
    max_state_bytes: int = 8 * MIB  # the stored state of one instance

    def __post_init__(self) -> None:
        if not (
            self.max_steps > 0
            and self.max_seconds > 0
            and self.max_step_bytes > 0
            and self.max_state_bytes > 0
        ):
            raise ValueError(f"run limits must be positive: {self}")


class OverBudget(Exception):
    """An engine call reached a limit before ``task`` could run."""

    def __init__(self, task: Any, message: str) -> None:
        self.task = task
        self.message = message
        super().__init__(message)


class Budget:
    """The ``will_complete_task`` callback of one engine call: raises OverBudget at a limit."""

    __slots__ = ("deadline", "last", "limits", "steps")

    def __init__(self, limits: RunLimits) -> None:
        self.limits = limits
        self.steps = 0
        self.deadline = time.monotonic() + limits.max_seconds
        self.last: Any = None  # the task SpiffWorkflow was about to run last

    def __call__(self, task: Any) -> None:
        self.steps += 1
        self.last = task
        if self.steps > self.limits.max_steps:
            raise OverBudget(
                task,
                f"more than {self.limits.max_steps} automatic steps in one "
                f"go without waiting for a person, a timer or a message: "
                f"{_LOOPS}",
            )
        if time.monotonic() > self.deadline:
            raise OverBudget(
                task,
                f"the engine ran for more than {self.limits.max_seconds:g} s "
                "in one go without waiting for a person, a timer or a "
                f"message: {_LOOPS}",
            )


def check_reachable(tasks: Iterable[Any]) -> None:
    """Raise OverBudget for an automatic step left ready too deep in the tree to be run.

    Within one call the history is not pruned, so an automatic loop of some hundred rounds
    reaches SpiffWorkflow's depth limit, where ``do_engine_steps`` stops without a word
    and the instance would stay active with nothing to do.
    """
    for task in tasks:
        if (
            task._state & TaskState.READY
            and not task.task_spec.manual
            and task.depth >= REACHABLE_DEPTH
        ):
            raise OverBudget(
                task,
                f"more than {REACHABLE_DEPTH} automatic steps in a row "
                f"without waiting for a person, a timer or a message: "
                f"{_LOOPS}",
            )
