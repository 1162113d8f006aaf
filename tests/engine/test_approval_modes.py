"""Approval modes (或签, 会签, 依次审批, 按比例通过) on SpiffWorkflow's multi-instance.

Each diagram is deployed through ``prepare_deployment`` (so it passes the deploy checks) and
run call by call, the state stored between calls, as the web layer runs it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from engine import Engine, InvalidProcess, ProcessVersion, Snapshot, SpecCache, prepare_deployment

SIGNERS = 'camunda:candidateUsers="alice,bob,carol"'


def diagram(properties: Mapping[str, str], people: str = SIGNERS, *, loop: str = "") -> bytes:
    """start → sign (the approval node) → a gateway on its result → passed | failed."""
    props = "".join(f'<camunda:property name="{k}" value="{v}"/>' for k, v in properties.items())
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs"
    targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="sign_off" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:userTask id="sign" name="Sign" {people}>
      <bpmn:extensionElements><camunda:properties>{props}</camunda:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>{loop}
    </bpmn:userTask>
    <bpmn:exclusiveGateway id="result" default="f4">
      <bpmn:incoming>f2</bpmn:incoming><bpmn:outgoing>f3</bpmn:outgoing>
      <bpmn:outgoing>f4</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:userTask id="passed" name="Passed" camunda:candidateUsers="office">
      <bpmn:incoming>f3</bpmn:incoming><bpmn:outgoing>f5</bpmn:outgoing></bpmn:userTask>
    <bpmn:userTask id="failed" name="Failed" camunda:candidateUsers="office">
      <bpmn:incoming>f4</bpmn:incoming><bpmn:outgoing>f6</bpmn:outgoing></bpmn:userTask>
    <bpmn:endEvent id="end"><bpmn:incoming>f5</bpmn:incoming><bpmn:incoming>f6</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sign"/>
    <bpmn:sequenceFlow id="f2" sourceRef="sign" targetRef="result"/>
    <bpmn:sequenceFlow id="f3" sourceRef="result" targetRef="passed">
      <bpmn:conditionExpression>${{approval == "approved"}}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f4" sourceRef="result" targetRef="failed"/>
    <bpmn:sequenceFlow id="f5" sourceRef="passed" targetRef="end"/>
    <bpmn:sequenceFlow id="f6" sourceRef="failed" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>""".encode()


def deploy(mode: str, people: str = SIGNERS, **properties: str) -> ProcessVersion:
    (version,) = prepare_deployment(
        {"sign.bpmn": diagram({"approvalMode": mode, **properties}, people)}, {}, {}
    )
    return version


class Run:
    """One instance, its state stored between calls; every call with a fresh spec cache."""

    def __init__(
        self,
        version: ProcessVersion,
        data: Mapping[str, Any] | None = None,
        engine: Engine | None = None,
    ) -> None:
        self.version = version
        self.engine = engine or Engine(cache=SpecCache())
        self.snapshot = self.engine.start(version, data or {}, actor="applicant")

    @property
    def waiting(self) -> list[str | None]:
        """Who the approval node waits for, in the order the engine reports its tasks."""
        return [t.assignee for t in self.snapshot.open_tasks if t.element_id == "sign"]

    @property
    def after(self) -> list[str]:
        return [t.element_id for t in self.snapshot.open_tasks if t.element_id != "sign"]

    def sign(self, who: str, approved: Any = True, **data: Any) -> Snapshot:
        (task,) = [t for t in self.snapshot.open_tasks if t.assignee == who]
        submitted = {"approved": approved, **data} if approved is not None else data
        self.snapshot = self.engine.complete_task(
            self.version, self.snapshot.state, task.task_id, submitted, actor=who
        )
        return self.snapshot

    def decisions(self) -> list[tuple[str, str | None]]:
        return [(d["signer"], d["decision"]) for d in self.snapshot.data["approval_decisions"]]


# ------------------------------------------------------------------------------- 会签 (all)


def test_all_gives_each_signer_their_own_task_and_passes_when_everyone_approved() -> None:
    run = Run(deploy("all"))
    tasks = [t for t in run.snapshot.open_tasks if t.element_id == "sign"]
    assert [(t.assignee, t.candidate_users, t.candidate_groups) for t in tasks] == [
        ("alice", ("alice",), ()),
        ("bob", ("bob",), ()),
        ("carol", ("carol",), ()),
    ]
    run.sign("bob")
    run.sign("alice")
    assert (sorted(run.waiting), run.after) == (["carol"], [])
    run.sign("carol")
    assert (run.waiting, run.after) == ([], ["passed"])
    assert run.snapshot.data["approval"] == "approved"
    assert run.decisions() == [("alice", "approved"), ("bob", "approved"), ("carol", "approved")]


def test_all_rejects_at_the_first_rejection_and_closes_the_other_signers_tasks() -> None:
    run = Run(deploy("all"))
    run.sign("alice")
    run.sign("bob", False)
    assert (run.waiting, run.after) == ([], ["failed"])
    assert run.decisions() == [("alice", "approved"), ("bob", "rejected"), ("carol", None)]


def test_all_with_reject_policy_after_all_waits_for_every_signer_then_rejects() -> None:
    run = Run(deploy("all", rejectPolicy="after_all"))
    run.sign("alice", False)
    assert sorted(run.waiting) == ["bob", "carol"]
    run.sign("bob")
    run.sign("carol")
    assert run.after == ["failed"]
    assert run.decisions() == [("alice", "rejected"), ("bob", "approved"), ("carol", "approved")]


# ------------------------------------------------------------------------------- 或签 (any)


def test_any_the_first_approval_wins_and_the_others_tasks_close() -> None:
    run = Run(deploy("any"))
    assert sorted(run.waiting) == ["alice", "bob", "carol"]
    run.sign("carol")
    assert (run.waiting, run.after) == ([], ["passed"])
    assert run.decisions() == [("alice", None), ("bob", None), ("carol", "approved")]


def test_any_the_first_rejection_wins_too() -> None:
    run = Run(deploy("any"))
    run.sign("bob", False)
    assert (run.waiting, run.after) == ([], ["failed"])


# --------------------------------------------------------------------- 依次审批 (sequential)


def test_sequential_asks_one_signer_after_another_in_the_listed_order() -> None:
    run = Run(deploy("sequential", 'camunda:candidateUsers="carol,alice,bob"'))
    seen = []
    while run.waiting:
        (who,) = run.waiting
        seen.append(who)
        run.sign(str(who))
    assert seen == ["carol", "alice", "bob"]
    assert run.after == ["passed"]


def test_sequential_stops_at_a_rejection_and_asks_nobody_after_it() -> None:
    run = Run(deploy("sequential"))
    run.sign("alice")
    run.sign("bob", False)
    assert (run.waiting, run.after) == ([], ["failed"])
    assert run.decisions() == [("alice", "approved"), ("bob", "rejected"), ("carol", None)]


def test_sequential_with_reject_policy_after_all_asks_everyone() -> None:
    run = Run(deploy("sequential", rejectPolicy="after_all"))
    run.sign("alice", False)
    assert run.waiting == ["bob"]
    run.sign("bob")
    run.sign("carol")
    assert run.after == ["failed"]


# ------------------------------------------------------------------------ 按比例通过 (ratio)


def test_ratio_passes_as_soon_as_the_share_approved() -> None:
    run = Run(deploy("ratio:0.6"))  # 0.6 of 3: two approvals
    run.sign("alice")
    assert sorted(run.waiting) == ["bob", "carol"]
    run.sign("carol")
    assert (run.waiting, run.after) == ([], ["passed"])
    assert run.decisions() == [("alice", "approved"), ("bob", None), ("carol", "approved")]


def test_ratio_rejects_as_soon_as_the_share_can_no_longer_be_reached() -> None:
    run = Run(deploy("ratio:0.6"))
    run.sign("alice", False)
    assert len(run.waiting) == 2  # two approvals still possible
    run.sign("bob", False)
    assert (run.waiting, run.after) == ([], ["failed"])


@pytest.mark.parametrize(
    ("mode", "decisions", "after"),
    [
        ("ratio:1", [("alice", True), ("bob", True), ("carol", True)], "passed"),
        ("ratio:1", [("alice", True), ("bob", False)], "failed"),
        ("ratio:0.33", [("bob", True)], "passed"),  # 0.33 of 3: one approval
        ("ratio:0.34", [("alice", False), ("bob", False)], "failed"),  # two needed, one left
        ("ratio:0.34", [("alice", False), ("bob", True), ("carol", True)], "passed"),
        ("ratio:0.33", [("alice", False), ("bob", False), ("carol", False)], "failed"),
        ("ratio:2/3", [("alice", True), ("bob", False), ("carol", True)], "passed"),
        ("ratio:0.67", [("alice", True), ("bob", False)], "failed"),  # 0.67 of 3: all three
    ],
)
def test_ratio_edges(mode: str, decisions: list[tuple[str, bool]], after: str) -> None:
    run = Run(deploy(mode))
    for who, approved in decisions:
        run.sign(who, approved)
    assert (run.waiting, run.after) == ([], [after])


# ------------------------------------------------------------------------------- signers


@pytest.mark.parametrize("mode", ["any", "all", "sequential", "ratio:0.5"])
def test_a_signer_list_of_one(mode: str) -> None:
    run = Run(deploy(mode, 'camunda:candidateUsers="alice"'))
    assert run.waiting == ["alice"]
    run.sign("alice", False)
    assert run.after == ["failed"]


def test_signers_from_a_collection_variable_named_by_the_approvers_property() -> None:
    run = Run(deploy("all", "", approvers="${reviewers}"), {"reviewers": ["dan", "erin"]})
    assert sorted(run.waiting) == ["dan", "erin"]
    run = Run(deploy("sequential", "", approvers="reviewers"), {"reviewers": "erin, dan"})
    assert run.waiting == ["erin"]


def test_candidate_users_as_an_expression_are_resolved_when_the_node_opens() -> None:
    run = Run(deploy("all", 'camunda:candidateUsers="${leaders}"'), {"leaders": "ann,ben"})
    assert sorted(run.waiting) == ["ann", "ben"]


def test_an_empty_signer_list_is_an_instance_error_naming_the_element() -> None:
    run = Run(deploy("all", "", approvers="${reviewers}"), {"reviewers": []})
    assert run.snapshot.status == "error"
    assert run.snapshot.error is not None
    assert run.snapshot.error.element_id == "sign"
    assert "nobody to sign" in run.snapshot.error.message
    assert "approvers '${reviewers}'" in run.snapshot.error.message


def test_the_members_of_the_candidate_groups_sign_as_the_host_names_them() -> None:
    members = {"finance": ["fay", "gus"], "legal": ["gus", "hal"]}
    asked: list[str] = []

    def group_members(group: str) -> list[str]:
        asked.append(group)
        return members.get(group, [])

    version = deploy("all", 'camunda:candidateGroups="finance,legal"')
    run = Run(version, engine=Engine(cache=SpecCache()).with_people(group_members))
    assert sorted(run.waiting) == ["fay", "gus", "hal"]  # gus signs once
    assert set(asked) == {"finance", "legal"}
    # a call that opens nothing needs no one to name them
    run.engine = Engine(cache=SpecCache())
    run.sign("gus")
    assert sorted(run.waiting) == ["fay", "hal"]


def test_group_members_nobody_named_is_an_instance_error() -> None:
    run = Run(deploy("all", 'camunda:candidateGroups="finance"'))
    assert run.snapshot.status == "error"
    assert run.snapshot.error is not None
    assert "members of its groups" in run.snapshot.error.message


# ------------------------------------------------------------------------------ decisions


def test_a_decision_inherited_from_an_earlier_step_does_not_count() -> None:
    run = Run(deploy("all", 'camunda:candidateUsers="alice"'), {"approved": False})
    run.sign("alice", None)  # submits no decision: completing the task approves
    assert run.after == ["passed"]
    assert run.snapshot.data["approved"] is False  # the application's own variable stays


def test_a_decision_field_of_the_models_choosing_with_a_text_value() -> None:
    run = Run(deploy("all", decisionField="verdict", resultVariable="countersign"))
    run.sign("alice", None, verdict="approved")
    run.sign("bob", None, verdict="rejected")
    data = run.snapshot.data
    assert data["countersign"] == "rejected"
    assert [d["decision"] for d in data["countersign_decisions"]] == ["approved", "rejected", None]
    assert "approval" not in data


def test_progress_tells_each_signers_decision_so_far() -> None:
    run = Run(deploy("ratio:0.6"))
    run.sign("bob", False)
    (progress,) = run.engine.approval_progress(run.version, run.snapshot.state)
    assert (progress.element_id, progress.mode, progress.ratio) == ("sign", "ratio", 0.6)
    assert progress.signers == (("alice", None), ("bob", "rejected"), ("carol", None))
    assert (progress.total, progress.approved, progress.rejected) == (3, 0, 1)
    run.sign("alice")
    run.sign("carol")
    assert run.engine.approval_progress(run.version, run.snapshot.state) == ()


def test_each_signers_step_is_recorded_with_who_decided() -> None:
    run = Run(deploy("all"))
    steps = run.sign("alice").steps
    assert [(s.element_id, s.completed_by, s.data) for s in steps] == [
        ("sign", "alice", {"approved": True})
    ]


# ------------------------------------------------------------------------------- deploy


@pytest.mark.parametrize(
    ("properties", "code"),
    [
        ({"approvalMode": "most"}, "approval_mode_unknown"),
        ({"approvalMode": "all:0.5"}, "approval_mode_unknown"),
        ({"approvalMode": "ratio:0"}, "approval_ratio"),
        ({"approvalMode": "ratio:1.5"}, "approval_ratio"),
        ({"approvalMode": "ratio:-0.2"}, "approval_ratio"),
        ({"approvalMode": "ratio:abc"}, "approval_ratio"),
        ({"approvalMode": "ratio"}, "approval_ratio"),
        ({"approvalMode": "all", "rejectPolicy": "never"}, "approval_reject_policy"),
        ({"approvalMode": "all", "decisionField": "pf_x"}, "approval_variable"),
        ({"approvalMode": "all", "approvers": "a b"}, "approval_approvers"),
        ({"approvalMode": "all", "approvers": "${reviewers +}"}, "bad_expression"),
    ],
)
def test_deploy_refuses_a_bad_mode(properties: dict[str, str], code: str) -> None:
    with pytest.raises(InvalidProcess) as caught:
        prepare_deployment({"sign.bpmn": diagram(properties)}, {}, {})
    assert [(p.element_id, p.code) for p in caught.value.problems] == [("sign", code)]
    assert caught.value.problems[0].line is not None


def test_deploy_refuses_a_mode_with_nobody_to_sign() -> None:
    with pytest.raises(InvalidProcess) as caught:
        prepare_deployment({"sign.bpmn": diagram({"approvalMode": "any"}, "")}, {}, {})
    assert [(p.element_id, p.code) for p in caught.value.problems] == [
        ("sign", "approval_without_signers")
    ]


def test_deploy_refuses_a_mode_on_a_drawn_multi_instance() -> None:
    loop = (
        '<bpmn:multiInstanceLoopCharacteristics camunda:collection="xs" '
        'camunda:elementVariable="x"/>'
    )
    with pytest.raises(InvalidProcess) as caught:
        prepare_deployment({"sign.bpmn": diagram({"approvalMode": "all"}, loop=loop)}, {}, {})
    assert "approval_mode_loop" in [p.code for p in caught.value.problems]


def test_an_assignee_alone_names_no_signers() -> None:
    with pytest.raises(InvalidProcess) as caught:
        prepare_deployment(
            {"sign.bpmn": diagram({"approvalMode": "all"}, 'camunda:assignee="alice"')}, {}, {}
        )
    assert [p.code for p in caught.value.problems] == ["approval_without_signers"]


def test_without_an_approved_field_the_tasks_outcome_decides() -> None:
    run = Run(deploy("all", 'camunda:candidateUsers="alice,bob"'), {"outcome": "reject"})
    run.sign("alice", None, outcome="approve")  # the inherited outcome was not alice's
    run.sign("bob", None, outcome="reject")
    assert run.decisions() == [("alice", "approved"), ("bob", "rejected")]


def test_signers_named_by_approvers_alone_raise_no_nobody_warning() -> None:
    source = diagram({"approvalMode": "all", "approvers": "${reviewers}"}, "")
    (version,) = prepare_deployment({"sign.bpmn": source}, {}, {})
    assert [w.code for w in version.warnings] == []


def test_a_node_entered_again_asks_its_signers_afresh() -> None:
    # the rejected branch leads back to the node: failed → sign
    source = (
        diagram({"approvalMode": "all"})
        .replace(
            b"<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>",
            b"<bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>f6</bpmn:incoming>"
            b"<bpmn:outgoing>f2</bpmn:outgoing>",
        )
        .replace(
            b'<bpmn:sequenceFlow id="f6" sourceRef="failed" targetRef="end"/>',
            b'<bpmn:sequenceFlow id="f6" sourceRef="failed" targetRef="sign"/>',
        )
        .replace(
            b"<bpmn:incoming>f5</bpmn:incoming><bpmn:incoming>f6</bpmn:incoming>",
            b"<bpmn:incoming>f5</bpmn:incoming>",
        )
    )
    (version,) = prepare_deployment({"sign.bpmn": source}, {}, {})
    run = Run(version)
    run.sign("alice")
    run.sign("bob", False)
    (failed,) = run.snapshot.open_tasks
    run.snapshot = run.engine.complete_task(
        version, run.snapshot.state, failed.task_id, {}, actor="office"
    )
    assert sorted(run.waiting) == ["alice", "bob", "carol"]
    progress = run.engine.approval_progress(version, run.snapshot.state)
    assert [p.signers for p in progress] == [(("alice", None), ("bob", None), ("carol", None))]
    for who in ("alice", "bob", "carol"):
        run.sign(who)
    assert run.after == ["passed"]
    assert run.decisions() == [("alice", "approved"), ("bob", "approved"), ("carol", "approved")]
