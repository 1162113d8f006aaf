"""退回 from and into a multi-instance step (an approval mode's 会签, 依次审批, 或签).

A return from one signer's task stops the whole node (the other signers' tasks close, no
result is decided) and enters the target; a return into the node, or a 直达 resubmission back
to it, opens it afresh for all its signers: what was decided in an earlier round does not
count. Each run is made twice: with one engine whose parsed spec stays cached, and with a new
engine (its spec parsed again) for every call, the state going through storage in between, as
in a worker that restarted; both must see the same tasks, decisions and data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from engine import CannotReturn, Engine, ProcessVersion, Snapshot, SpecCache, prepare_deployment

SIGNERS = ("alice", "bob", "carol")


def diagram(mode: str) -> bytes:
    """apply → prepare → sign (the approval node) → check → end."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="mi_returns" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="apply" name="Apply" camunda:candidateUsers="applicant">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="prepare" name="Prepare" camunda:candidateUsers="office">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="sign" name="Sign" camunda:candidateUsers="{",".join(SIGNERS)}">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="approvalMode" value="{mode}"/>
      </camunda:properties></bpmn:extensionElements>
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f4</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="check" name="Check" camunda:candidateUsers="office">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="apply"/>
    <bpmn:sequenceFlow id="f2" sourceRef="apply" targetRef="prepare"/>
    <bpmn:sequenceFlow id="f3" sourceRef="prepare" targetRef="sign"/>
    <bpmn:sequenceFlow id="f4" sourceRef="sign" targetRef="check"/>
    <bpmn:sequenceFlow id="f5" sourceRef="check" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def deploy(mode: str) -> ProcessVersion:
    (version,) = prepare_deployment({"mi_returns.bpmn": diagram(mode)}, {}, {})
    return version


SHARED = "one engine, spec cached"
FRESH = "a new engine every call"


class Run:
    """One instance, its state stored between calls."""

    def __init__(self, version: ProcessVersion, how: str) -> None:
        self.version = version
        shared = Engine(cache=SpecCache())
        self.engine: Callable[[], Engine] = (
            (lambda: shared) if how == SHARED else (lambda: Engine(cache=SpecCache()))
        )
        self.snapshot = self.engine().start(version, {"amount": 5}, actor="applicant")
        self.seen: list[tuple[str, ...]] = [self.open()]

    def open(self) -> tuple[str, ...]:
        return tuple(
            sorted(
                f"{t.element_id}:{t.assignee}" if t.element_id == "sign" else t.element_id
                for t in self.snapshot.open_tasks
            )
        )

    def task(self, element: str, who: str | None = None) -> str:
        (found,) = [
            t.task_id
            for t in self.snapshot.open_tasks
            if t.element_id == element and (who is None or t.assignee == who)
        ]
        return found

    def complete(self, element: str, who: str | None = None, **data: Any) -> Snapshot:
        self.snapshot = self.engine().complete_task(
            self.version, self.snapshot.state, self.task(element, who), data, actor=who
        )
        self.seen.append(self.open())
        return self.snapshot

    def give_back(self, element: str, target: str, who: str | None = None, **kw: Any) -> Snapshot:
        self.snapshot = self.engine().return_task(
            self.version,
            self.snapshot.state,
            self.task(element, who),
            target,
            record={"return_reasons": ["材料不全"]},
            actor=who,
            **kw,
        )
        self.seen.append(self.open())
        return self.snapshot

    def decisions(self) -> list[tuple[str, str | None]]:
        return [(d["signer"], d["decision"]) for d in self.snapshot.data["approval_decisions"]]


def everyone() -> tuple[str, ...]:
    return tuple(f"sign:{who}" for who in SIGNERS)


def to_the_node(run: Run) -> None:
    run.complete("apply")
    run.complete("prepare")


# ------------------------------------------------------------ returning from a signer's task


def countersign_returned_by_one_signer(how: str, *, resume_to_me: bool) -> Run:
    run = Run(deploy("all"), how)
    to_the_node(run)
    run.complete("sign", "alice", approved=True)
    snapshot = run.give_back("sign", "apply", "bob", resume_to_me=resume_to_me)
    # the node stopped as a whole: carol's task closed with bob's, no result was decided
    assert run.open() == ("apply",)
    assert "approval" not in snapshot.data
    assert not any(key.startswith("pf_") for key in snapshot.data)
    (step,) = [s for s in snapshot.steps if s.element_id == "sign"]
    assert (step.completed_by, step.outcome) == ("bob", "return")
    assert [s.element_id for s in snapshot.steps] == ["sign"]  # no step of the node itself
    return run


@pytest.mark.parametrize("how", [SHARED, FRESH])
def test_a_signers_return_stops_the_node_and_the_resubmission_follows_the_flow(how: str) -> None:
    run = countersign_returned_by_one_signer(how, resume_to_me=False)
    run.complete("apply", corrected=True)
    assert run.open() == ("prepare",)
    run.complete("prepare")
    # a new round: alice's approval from the first one does not count
    assert run.open() == everyone()
    for who in SIGNERS:
        run.complete("sign", who, approved=True)
    assert run.open() == ("check",)
    assert run.decisions() == [(who, "approved") for who in SIGNERS]
    assert run.snapshot.data["corrected"] is True
    run.complete("check")
    assert run.snapshot.status == "completed"


@pytest.mark.parametrize("how", [SHARED, FRESH])
def test_a_signers_return_with_straight_back_reopens_the_node_for_every_signer(how: str) -> None:
    run = countersign_returned_by_one_signer(how, resume_to_me=True)
    run.complete("apply", corrected=True)
    # 直达: past "prepare", straight to the node, open afresh for all three
    assert run.open() == everyone()
    run.complete("sign", "carol", approved=True)
    run.complete("sign", "bob", approved=False)
    # the new round's rejection decides it; carol's approval in it counts, alice's earlier not
    assert run.open() == ("check",)
    assert run.snapshot.data["approval"] == "rejected"
    assert run.decisions() == [("alice", None), ("bob", "rejected"), ("carol", "approved")]


@pytest.mark.parametrize("how", [SHARED, FRESH])
def test_a_return_from_a_sequential_node_closes_it_and_reopens_it_from_the_first(how: str) -> None:
    run = Run(deploy("sequential"), how)
    to_the_node(run)
    run.complete("sign", "alice", approved=True)
    assert run.open() == ("sign:bob",)
    run.give_back("sign", "prepare", "bob", resume_to_me=True)
    assert run.open() == ("prepare",)
    run.complete("prepare")
    assert run.open() == ("sign:alice",)
    for who in SIGNERS:
        run.complete("sign", who, approved=True)
    assert run.open() == ("check",)
    assert run.decisions() == [(who, "approved") for who in SIGNERS]


# ------------------------------------------------------------------- returning into the node


@pytest.mark.parametrize("how", [SHARED, FRESH])
@pytest.mark.parametrize("resume_to_me", [False, True])
def test_a_return_into_a_countersign_reopens_it_for_all_its_signers(
    how: str, resume_to_me: bool
) -> None:
    run = Run(deploy("all"), how)
    to_the_node(run)
    for who in SIGNERS:
        run.complete("sign", who, approved=True)
    snapshot = run.give_back("check", "sign", resume_to_me=resume_to_me)
    assert run.open() == everyone()
    assert "approval" in snapshot.data  # the first round's result stays until decided again
    for who in ("carol", "alice"):
        run.complete("sign", who, approved=True)
    assert run.open() == ("sign:bob",)
    run.complete("sign", "bob", approved=False)
    assert run.open() == ("check",)
    assert run.snapshot.data["approval"] == "rejected"
    run.complete("check")
    assert run.snapshot.status == "completed"


@pytest.mark.parametrize("how", [SHARED, FRESH])
def test_a_signer_returns_to_the_same_node_refused(how: str) -> None:
    run = Run(deploy("all"), how)
    to_the_node(run)
    with pytest.raises(CannotReturn) as refused:
        run.give_back("sign", "sign", "alice")
    assert refused.value.reason == "it is the returning step itself"
    with pytest.raises(CannotReturn) as refused:
        run.give_back("sign", "check", "alice")
    assert refused.value.reason == "it does not lead to the returning step in the diagram"


def test_both_ways_of_running_see_the_same() -> None:
    runs = []
    for how in (SHARED, FRESH):
        run = countersign_returned_by_one_signer(how, resume_to_me=True)
        run.complete("apply")
        run.complete("sign", "alice", approved=True)
        run.give_back("sign", "apply", "carol", resume_to_me=False)
        run.complete("apply")
        run.complete("prepare")
        for who in SIGNERS:
            run.complete("sign", who, approved=True)
        run.complete("check")
        runs.append((run.seen, run.snapshot.status, dict(run.snapshot.data)))
    assert runs[0] == runs[1]
    assert runs[0][1] == "completed"
