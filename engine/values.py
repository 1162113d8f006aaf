"""Frozen values the engine hands out; never SpiffWorkflow objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from .copies import CopyTarget

Status = Literal["active", "completed", "cancelled", "error"]
# what an end event's camunda:properties ``result`` may say ending there means
END_RESULTS = ("approved", "rejected", "withdrawn")


@dataclass(frozen=True)
class HumanTaskSpec:
    """What a deployed user task asks of people, read from its ``camunda:`` attributes."""

    element_id: str
    name: str
    lane: str | None
    candidate_groups: tuple[str, ...]
    candidate_users: tuple[str, ...]
    assignee: str | None
    due_date: str | None
    follow_up_date: str | None
    priority: int | None
    form_key: str | None
    properties: Mapping[str, str] = field(default_factory=dict)
    line: int | None = None


@dataclass(frozen=True)
class OpenTask:
    """A human task waiting in an instance, with its people and dates resolved."""

    task_id: str
    element_id: str
    name: str
    lane: str | None
    candidate_groups: tuple[str, ...]
    candidate_users: tuple[str, ...]
    assignee: str | None
    form_key: str | None
    due_at: datetime | None
    follow_up_at: datetime | None
    priority: int | None
    properties: Mapping[str, str] = field(default_factory=dict)
    # whom reaching the task copies the application to (its ``cc`` property)
    cc: tuple[CopyTarget, ...] = ()


@dataclass(frozen=True)
class ApprovalProgress:
    """Where a running approval node (会签, 或签, ...) stands: each signer and their decision.

    ``signers`` pairs each signer with ``approved``, ``rejected`` or None (not yet decided).
    """

    element_id: str
    mode: str  # any | all | sequential | ratio
    ratio: float | None
    signers: tuple[tuple[str, str | None], ...]

    @property
    def total(self) -> int:
        return len(self.signers)

    @property
    def approved(self) -> int:
        return sum(1 for _, decision in self.signers if decision == "approved")

    @property
    def rejected(self) -> int:
        return sum(1 for _, decision in self.signers if decision == "rejected")


@dataclass(frozen=True)
class TimerWait:
    """A timer the instance waits for: the worker must wake it at ``due_at`` (UTC)."""

    task_id: str
    element_id: str
    due_at: datetime


@dataclass(frozen=True)
class MessageWait:
    """A message the instance waits for, with the correlation values it expects."""

    name: str
    correlation: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ThrownMessage:
    """A message the instance threw that nothing in it caught: the store routes it on.

    ``payload`` is what the throw carries (its ``camunda:expression``'s value, or a send task's
    data); ``correlation`` holds the correlation property values the thrower computed from it.
    """

    name: str
    payload: Any
    correlation: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StepRecord:
    """One finished step, kept in the step-history table instead of the serialized state."""

    task_id: str
    element_id: str
    name: str
    kind: str
    lane: str | None
    completed_at: datetime
    completed_by: str | None = None
    outcome: str | None = None
    data: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class StepError:
    """Why an instance stopped in error, stored on the instance."""

    element_id: str
    line: int | None
    message: str


@dataclass(frozen=True)
class Snapshot:
    """An instance after a state change: everything the store writes in one transaction."""

    state: bytes
    status: Status
    open_tasks: tuple[OpenTask, ...]
    timers: tuple[TimerWait, ...]
    awaited_messages: tuple[MessageWait, ...]
    correlations: Mapping[str, Mapping[str, Any]]
    steps: tuple[StepRecord, ...]
    data: Mapping[str, Any]
    error: StepError | None = None
    # messages thrown during this call that nothing in the instance caught
    messages: tuple[ThrownMessage, ...] = ()
    # external service tasks waiting for a worker
    external_tasks: tuple[OpenExternalTask, ...] = ()


@dataclass(frozen=True)
class ProcessInfo:
    """One executable process of a deployment."""

    key: str
    name: str
    content_hash: str
    promised_duration: str | None = None


@dataclass(frozen=True)
class OpenExternalTask:
    """An external service task waiting for an outside worker (Camunda's fetch-and-lock).

    ``variables`` are the data the task sees, what a worker fetching it is given.
    """

    task_id: str
    element_id: str
    name: str
    topic: str
    variables: Mapping[str, Any] = field(default_factory=dict)
    # the task's camunda:properties when it calls the HTTP connector (topic HTTP_TOPIC)
    properties: Mapping[str, str] = field(default_factory=dict)
