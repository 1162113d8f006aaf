"""Automatic rules of a user task, from its ``camunda:properties``.

* ``emptyAssignee`` = ``admins`` | ``skip`` | ``reject``: what happens when nobody can take
  the task;
* ``selfApproval`` = ``allow`` | ``skip`` | ``admins``: what happens when the applicant (the
  application's starter) would be the one to decide it;
* ``timeoutAction`` = ``remind:N`` | ``transfer:<group>`` | ``approve`` | ``return``: what
  happens when the task is still open at its ``camunda:dueDate`` (so it needs one).

The engine reads and checks them at deploy; the web layer applies them (webapp/services/
taskrules.py), reading them from the task's properties as the engine hands them out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from lxml import etree

from .bpmn_doc import Document, bpmn, camunda, problem
from .errors import Problem

EMPTY_ASSIGNEE = "emptyAssignee"
SELF_APPROVAL = "selfApproval"
TIMEOUT_ACTION = "timeoutAction"
EMPTY_CHOICES = ("admins", "skip", "reject")
SELF_CHOICES = ("allow", "skip", "admins")
TIMEOUT_FORMS = ("remind:N", "transfer:<group>", "approve", "return")
MAX_REMINDERS = 10


@dataclass(frozen=True)
class TimeoutAction:
    """What to do at the due date: ``kind`` remind/transfer/approve/return, with its value."""

    kind: str
    reminders: int = 0
    group: str | None = None


def timeout_action(text: str | None) -> TimeoutAction | None:
    """The parsed ``timeoutAction`` value, or None when absent or not understood."""
    value = (text or "").strip()
    if value in ("approve", "return"):
        return TimeoutAction(value)
    kind, _, rest = value.partition(":")
    rest = rest.strip()
    if kind == "remind" and rest.isdigit() and 1 <= int(rest) <= MAX_REMINDERS:
        return TimeoutAction("remind", reminders=int(rest))
    if kind == "transfer" and rest:
        return TimeoutAction("transfer", group=rest)
    return None


def has_rules(properties: Mapping[str, str]) -> bool:
    """Whether a task's properties ask for any automatic rule beyond the defaults."""
    return any(name in properties for name in (EMPTY_ASSIGNEE, SELF_APPROVAL, TIMEOUT_ACTION))


def check_task_rules(doc: Document) -> Iterator[Problem]:
    """Problems with the rule properties of the document's user tasks."""
    path = f"{bpmn('extensionElements')}/{camunda('properties')}/{camunda('property')}"
    for task in doc.iter(bpmn("userTask")):
        for prop in task.iterfind(path):
            name, value = prop.get("name") or "", (prop.get("value") or "").strip()
            if name == EMPTY_ASSIGNEE and value not in EMPTY_CHOICES:
                yield _invalid(prop, name, value, EMPTY_CHOICES)
            elif name == SELF_APPROVAL and value not in SELF_CHOICES:
                yield _invalid(prop, name, value, SELF_CHOICES)
            elif name == TIMEOUT_ACTION and timeout_action(value) is None:
                yield _invalid(prop, name, value, TIMEOUT_FORMS)
            elif name == TIMEOUT_ACTION and not (task.get(camunda("dueDate")) or "").strip():
                yield problem(
                    prop,
                    "timeoutAction needs a camunda:dueDate on the task",
                    code="timeout_without_due",
                )


def _invalid(prop: etree._Element, name: str, value: str, allowed: tuple[str, ...]) -> Problem:
    choices = ", ".join(allowed)
    return problem(
        prop,
        f"{name} '{value}' is not one of {choices}",
        code="task_rule_invalid",
        property=name,
        value=value,
        allowed=choices,
    )
