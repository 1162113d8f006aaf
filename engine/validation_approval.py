"""Deploy-time checks of approval modes (``approvalMode`` on a user task; engine.approval)."""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from .approval import MODE, BadMode, parse_mode
from .bpmn_doc import Document, bpmn, camunda, owner_id, problem
from .errors import ExpressionError, Problem
from .expressions import compile_expression

PROPERTY = f"{bpmn('extensionElements')}/{camunda('properties')}/{camunda('property')}"


def check_approval_modes(doc: Document) -> Iterator[Problem]:
    """A bad mode, share or companion property, a mode over nobody, a mode on a loop."""
    for task in doc.iter(bpmn("userTask")):
        properties = {p.get("name", ""): p.get("value", "") for p in task.iterfind(PROPERTY)}
        if not (properties.get(MODE) or "").strip():
            continue
        try:
            mode = parse_mode(properties)
        except BadMode as exc:
            yield Problem(
                owner_id(task),
                task.sourceline,
                exc.message,
                code=exc.code,
                params=tuple(exc.params.items()),
            )
            continue
        if mode is None:
            continue
        if task.find(bpmn("multiInstanceLoopCharacteristics")) is not None:
            yield problem(
                task,
                f"approvalMode '{mode.text}' makes this task a multi-instance "
                "of its own: remove the drawn multi-instance marker",
                code="approval_mode_loop",
                mode=mode.text,
            )
        yield from _check_signers(doc, task, mode.text, mode.approvers)


def names_approvers(task: etree._Element) -> bool:
    """Whether an approval mode's ``approvers`` property names the task's people."""
    properties = {p.get("name", ""): p.get("value", "") for p in task.iterfind(PROPERTY)}
    return bool(
        (properties.get(MODE) or "").strip() and (properties.get("approvers") or "").strip()
    )


def _check_signers(
    doc: Document, task: etree._Element, mode: str, approvers: str | None
) -> Iterator[Problem]:
    if approvers:
        if approvers.startswith(("${", "#{")):
            try:
                compile_expression(approvers)
            except ExpressionError as exc:
                yield problem(
                    task,
                    f"approvers '{approvers}' cannot be used: {exc.reason}",
                    code="bad_expression",
                    what="approvers",
                    text=approvers,
                    reason=exc.reason,
                )
        elif not approvers.isidentifier():
            yield problem(
                task,
                f"approvers '{approvers}' is neither a variable name nor an "
                "expression such as ${reviewers}",
                code="approval_approvers",
                text=approvers,
            )
        return
    people = [(task.get(camunda(a)) or "").strip() for a in ("candidateUsers", "candidateGroups")]
    if not any(people) and doc.lane_name(task) is None:
        yield problem(
            task,
            f"approvalMode '{mode}' has nobody to sign: name the signers with "
            "candidateUsers, candidateGroups (their members sign), a lane or the "
            "approvers property",
            code="approval_without_signers",
            mode=mode,
        )
