"""Approval modes of a user task: 或签, 会签, 依次审批 and 按比例通过.

A user task whose ``camunda:properties`` name an ``approvalMode`` runs as SpiffWorkflow's own
multi-instance task, one instance per signer: parallel for ``any``, ``all`` and ``ratio:R``,
sequential for ``sequential``. The engine draws the multi-instance into the parsed diagram
(``camunda:collection`` over the signers, ``camunda:elementVariable`` the signer, a
``bpmn:completionCondition``) before SpiffWorkflow parses it, and wires four hooks on the task
specs' own events:

* the multi-instance task's ``update_event`` (its data inherited, before its instances exist)
  sets the collection to the signers, resolved now: the ``approvers`` property, else the
  ``candidateUsers``, else the members of the candidate groups (the lane's group by default),
  which the host hands the engine (`Engine.with_people`);
* each instance's ``update_event`` forgets an inherited decision, so only the signer's own
  submission counts;
* each instance's ``completed_event``, which SpiffWorkflow emits before it merges the instance
  into the multi-instance task, records the signer's decision as the instance's element
  variable and sets the variable the completion condition reads: whether the mode is settled;
* the multi-instance task's ``completed_event``, before the next tasks inherit its data, turns
  the collected decisions into the node's result.

When the completion condition holds SpiffWorkflow cancels the signers' open instances (parallel)
or creates no further one (sequential). See README.md, "Approval modes".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowDataException
from SpiffWorkflow.camunda.specs.multiinstance_task import (
    ParallelMultiInstanceTask,
    SequentialMultiInstanceTask,
)
from SpiffWorkflow.util.task import TaskState

from .bpmn_doc import bpmn, camunda
from .errors import ExpressionError
from .expressions import compile_expression
from .values import ApprovalProgress, HumanTaskSpec

MODE = "approvalMode"
MODES = ("any", "all", "sequential", "ratio")
REJECT_POLICIES = ("immediate", "after_all")
SIGNER = "pf_signer"
SETTLED = "pf_approval_settled"
COLLECTION = "pf_signers_"
DEFAULT_DECISION_FIELD = "approved"
DEFAULT_RESULT = "approval"
APPROVED, REJECTED = "approved", "rejected"
REJECTING = (False, "rejected", "reject")

GroupMembers = Callable[[str], Sequence[str]]


class BadMode(ValueError):
    """An approval mode the engine cannot run; ``code`` names the kind for the deploy check."""

    def __init__(self, code: str, message: str, **params: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.params = params


@dataclass(frozen=True)
class ApprovalMode:
    """What a user task's ``approvalMode`` and its companion properties say."""

    kind: str  # any | all | sequential | ratio
    ratio: Fraction | None = None
    reject_policy: str = "immediate"
    # the submitted fields that carry a signer's decision, the first one present counts
    decision_fields: tuple[str, ...] = (DEFAULT_DECISION_FIELD, "outcome")
    result_variable: str = DEFAULT_RESULT
    approvers: str | None = None

    @property
    def text(self) -> str:
        """The mode as written in the diagram (``ratio:0.6``)."""
        return f"ratio:{float(self.ratio)}" if self.ratio is not None else self.kind

    @property
    def sequential(self) -> bool:
        return self.kind == "sequential"

    def settled(self, approved: int, rejected: int, total: int) -> bool:
        """Whether the decisions so far decide the node (the completion condition)."""
        if self.kind == "any":
            return approved + rejected > 0
        if self.ratio is not None:
            return approved >= self.ratio * total or total - rejected < self.ratio * total
        return rejected > 0 and self.reject_policy == "immediate"

    def result(self, approved: int, rejected: int, total: int) -> str:
        """The node's result once it has finished."""
        if self.ratio is not None:
            return APPROVED if approved >= self.ratio * total else REJECTED
        if self.kind == "any":
            return REJECTED if rejected and not approved else APPROVED
        return REJECTED if rejected else APPROVED


def parse_mode(properties: Mapping[str, str]) -> ApprovalMode | None:
    """The approval mode named by a task's properties, None without one; raises BadMode."""
    text = (properties.get(MODE) or "").strip()
    if not text:
        return None
    kind, _, rest = text.partition(":")
    kind = kind.strip()
    if kind not in MODES or (kind != "ratio" and rest):
        raise BadMode(
            "approval_mode_unknown",
            f"approvalMode '{text}' is none of any, all, "
            "sequential, ratio:<share> (e.g. ratio:0.6)",
            value=text,
        )
    ratio = _ratio(text, rest) if kind == "ratio" else None
    policy = (properties.get("rejectPolicy") or "immediate").strip()
    if policy not in REJECT_POLICIES:
        raise BadMode(
            "approval_reject_policy",
            f"rejectPolicy '{policy}' is neither immediate nor after_all",
            value=policy,
        )
    field = (properties.get("decisionField") or "").strip()
    outcome = (properties.get("outcomeField") or "outcome").strip()
    fields = (field,) if field else (DEFAULT_DECISION_FIELD, outcome)
    result = (properties.get("resultVariable") or DEFAULT_RESULT).strip()
    for name, value in (
        ("decisionField", field or DEFAULT_DECISION_FIELD),
        ("resultVariable", result),
    ):
        if not value.isidentifier() or value.startswith(("_", "pf_")):
            raise BadMode(
                "approval_variable",
                f"{name} '{value}' is not a variable name",
                name=name,
                value=value,
            )
    approvers = (properties.get("approvers") or "").strip() or None
    return ApprovalMode(kind, ratio, policy, fields, result, approvers)


def _ratio(text: str, rest: str) -> Fraction:
    try:
        ratio = Fraction(rest.strip())
    except (ValueError, ZeroDivisionError):
        raise BadMode(
            "approval_ratio",
            f"approvalMode '{text}': the share after 'ratio:' "
            "must be a number in (0, 1], e.g. ratio:0.6",
            value=text,
        ) from None
    if not 0 < ratio <= 1:
        raise BadMode(
            "approval_ratio",
            f"approvalMode '{text}': the share must be more than 0 and at most 1",
            value=text,
        )
    return ratio


def mode_of(human: HumanTaskSpec | None) -> ApprovalMode | None:
    """The approval mode of a deployed user task (validated at deploy), or None."""
    if human is None or not human.properties.get(MODE):
        return None
    try:
        return parse_mode(human.properties)
    except BadMode:
        return None  # a stored version from before a stricter check: it runs as drawn


def uses_groups(human_tasks: Mapping[str, HumanTaskSpec]) -> bool:
    """Whether some task's signers are the members of groups (the host must name them)."""
    for human in human_tasks.values():
        mode = mode_of(human)
        if mode is not None and not mode.approvers and not human.candidate_users:
            return True
    return False


def collection_of(element_id: str) -> str:
    """The variable holding a node's signers while it runs (their decisions as they come)."""
    return COLLECTION + element_id


def draw_modes(root: etree._Element) -> None:
    """Draw a multi-instance on every user task of ``root`` that names an approval mode."""
    for task in root.iter(bpmn("userTask")):
        path = f"{bpmn('extensionElements')}/{camunda('properties')}/{camunda('property')}"
        properties = {p.get("name", ""): p.get("value", "") for p in task.iterfind(path)}
        try:
            mode = parse_mode(properties)
        except BadMode:
            continue
        if mode is None or task.find(bpmn("multiInstanceLoopCharacteristics")) is not None:
            continue
        loop = etree.SubElement(task, bpmn("multiInstanceLoopCharacteristics"))
        loop.set("isSequential", "true" if mode.sequential else "false")
        loop.set(camunda("collection"), collection_of(task.get("id", "")))
        loop.set(camunda("elementVariable"), SIGNER)
        etree.SubElement(loop, bpmn("completionCondition")).text = SETTLED


def wire_modes(spec: Any, human_tasks: Mapping[str, HumanTaskSpec]) -> None:
    """Connect the approval hooks to the multi-instance tasks `draw_modes` drew in ``spec``."""
    for task_spec in list(spec.task_specs.values()):
        if not isinstance(task_spec, ParallelMultiInstanceTask | SequentialMultiInstanceTask):
            continue
        human = human_tasks.get(task_spec.bpmn_id)
        mode = mode_of(human)
        if mode is None or human is None:
            continue
        hooks = ModeHooks(mode, human)
        child = spec.task_specs[task_spec.task_spec]
        task_spec.update_event.connect(hooks.open)
        child.update_event.connect(hooks.offer)
        child.completed_event.connect(hooks.decide)
        task_spec.completed_event.connect(hooks.finish)


class ModeHooks:
    """What one approval node does at its task specs' events."""

    def __init__(self, mode: ApprovalMode, human: HumanTaskSpec) -> None:
        self.mode = mode
        self.human = human
        self.collection = collection_of(human.element_id)

    def open(self, workflow: Any, task: Any) -> None:
        signers = self._signers(task)
        if not signers:
            _fail(
                task,
                f"approval mode '{self.mode.text}' of '{self.human.element_id}' has "
                f"nobody to sign: {self._source()} named no one",
            )
        task.data[self.collection] = signers

    def offer(self, workflow: Any, task: Any) -> None:
        # a decision inherited from an earlier step is not this signer's
        for field in self.mode.decision_fields:
            task.data.pop(field, None)

    def decide(self, workflow: Any, task: Any) -> None:
        given = [task.data[field] for field in self.mode.decision_fields if field in task.data]
        decision = REJECTED if given and _rejects(given[0]) else APPROVED
        signer = task.data.get(SIGNER)
        task.data[SIGNER] = {"signer": signer, "decision": decision}
        records = task.parent.data.get(self.collection) or []
        decided = [r["decision"] for r in records if isinstance(r, dict)] + [decision]
        task.data[SETTLED] = self.mode.settled(
            decided.count(APPROVED), decided.count(REJECTED), len(records)
        )

    def finish(self, workflow: Any, task: Any) -> None:
        records = task.data.pop(self.collection, None) or []
        decisions = [r if isinstance(r, dict) else {"signer": r, "decision": None} for r in records]
        counts = [d["decision"] for d in decisions]
        result = self.mode.result(counts.count(APPROVED), counts.count(REJECTED), len(counts))
        task.data[self.mode.result_variable] = result
        task.data[f"{self.mode.result_variable}_decisions"] = decisions

    def _signers(self, task: Any) -> list[str]:
        environment = task.workflow.script_engine.environment
        functions = environment.functions
        if self.mode.approvers:
            found = _names(
                _value(task, self.mode.approvers, functions, self.human.element_id, variable=True)
            )
        elif self.human.candidate_users:
            found = [
                name
                for text in self.human.candidate_users
                for name in _names(_value(task, text, functions, self.human.element_id))
            ]
        else:
            members: GroupMembers | None = getattr(environment, "group_members", None)
            groups = [
                name
                for text in self.human.candidate_groups
                for name in _names(_value(task, text, functions, self.human.element_id))
            ]
            if groups and members is None:
                _fail(
                    task,
                    f"approval mode '{self.mode.text}' of '{self.human.element_id}' "
                    "signs by the members of its groups, and nobody told the engine who "
                    "they are",
                )
            found = [str(m) for group in groups for m in (members or _nobody)(group)]
        return list(dict.fromkeys(name for name in found if name))

    def _source(self) -> str:
        if self.mode.approvers:
            return f"approvers '{self.mode.approvers}'"
        if self.human.candidate_users:
            return f"candidateUsers '{','.join(self.human.candidate_users)}'"
        return f"the members of '{','.join(self.human.candidate_groups)}'"


def _nobody(group: str) -> Sequence[str]:
    return ()


def _rejects(value: Any) -> bool:
    return any(
        value is reject or (isinstance(value, str) and value == reject) for reject in REJECTING
    )


def _value(
    task: Any,
    text: str,
    functions: Mapping[str, Callable[..., Any]],
    element_id: str,
    *,
    variable: bool = False,
) -> Any:
    """A literal name, or what an expression (``${approvers}``) gives; with ``variable`` a
    bare name is a variable (``approvers=reviewers``)."""
    text = text.strip()
    if variable and text.isidentifier():
        return task.data.get(text)
    try:
        if text.startswith(("${", "#{")):
            return compile_expression(text).evaluate(task.data, functions)
    except ExpressionError as exc:
        _fail(task, f"the signers of '{element_id}': {exc}")
    return text


def _names(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if v is not None and str(v).strip()]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _fail(task: Any, message: str) -> None:
    # left in error, so the instance reports it (the engine records the reason with it)
    task._set_state(TaskState.ERROR)
    raise WorkflowDataException(message, task)


def signer_of(task: Any, human: HumanTaskSpec | None) -> str | None:
    """The signer an open instance of an approval node waits for, None for other tasks."""
    if human is None or not human.properties.get(MODE):
        return None
    signer = task.data.get(SIGNER)
    return signer if isinstance(signer, str) else None


def node_result(task: Any, human: HumanTaskSpec | None) -> str | None:
    """The result of a finished approval node (its multi-instance task), None for the rest."""
    spec = task.task_spec
    if not isinstance(spec, ParallelMultiInstanceTask | SequentialMultiInstanceTask):
        return None
    mode = mode_of(human)
    result = task.data.get(mode.result_variable) if mode is not None else None
    return result if isinstance(result, str) else None


def progress(
    tasks: Sequence[Any], human_tasks: Mapping[str, HumanTaskSpec]
) -> tuple[ApprovalProgress, ...]:
    """Where each running approval node stands: its signers and their decisions so far."""
    found = []
    for task in tasks:
        spec = task.task_spec
        if not isinstance(spec, ParallelMultiInstanceTask | SequentialMultiInstanceTask):
            continue
        human = human_tasks.get(spec.bpmn_id)
        mode = mode_of(human)
        if mode is None or task.state != TaskState.STARTED:
            continue
        records = task.data.get(collection_of(spec.bpmn_id)) or []
        signers = tuple(
            (r["signer"], r["decision"]) if isinstance(r, dict) else (str(r), None) for r in records
        )
        found.append(
            ApprovalProgress(
                element_id=spec.bpmn_id,
                mode=mode.kind,
                ratio=float(mode.ratio) if mode.ratio is not None else None,
                signers=signers,
            )
        )
    return tuple(found)
