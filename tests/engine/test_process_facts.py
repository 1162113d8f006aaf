"""What pages show of a procedure comes from the engine, read once from its BPMN and DMN."""

from __future__ import annotations

from pathlib import Path

from engine import ProcessVersion, decision_ids

PROCESSES = Path(__file__).resolve().parents[2] / "processes"
NO_LANES = b"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d">
  <bpmn:process id="bare" isExecutable="true">
    <bpmn:startEvent id="begin"/>
    <bpmn:sequenceFlow id="f" sourceRef="begin" targetRef="done"/>
    <bpmn:endEvent id="done" name="Done"/>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_version_knows_its_description_start_lane_and_names() -> None:
    version = ProcessVersion.from_sources(
        "policy_subsidy",
        (PROCESSES / "policy_subsidy.bpmn").read_bytes(),
        ((PROCESSES / "subsidy_eligibility.dmn").read_bytes(),),
    )

    assert version.description.startswith("Policy subsidy application, the park's flagship")
    assert "  " not in version.description
    assert version.start_form_key == "policy_subsidy_apply"
    assert version.start_lane == "企业"
    assert version.element_names["Event_submitted"] == "提交申请"
    assert version.element_names["policy_subsidy"] == "政策扶持资金申请"
    assert "Flow_submitted" not in version.element_names  # a flow without a name


def test_a_version_without_lanes_or_documentation() -> None:
    version = ProcessVersion.from_sources("bare", NO_LANES)

    assert (version.description, version.start_lane, version.start_form_key) == ("", None, None)
    assert dict(version.element_names) == {"done": "Done"}


def test_the_decisions_of_a_dmn_file() -> None:
    assert decision_ids((PROCESSES / "subsidy_eligibility.dmn").read_bytes())[0] == (
        "subsidy_eligibility"
    )


def test_a_version_knows_the_data_that_says_what_was_granted() -> None:
    subsidy = ProcessVersion.from_sources(
        "policy_subsidy", (PROCESSES / "policy_subsidy.bpmn").read_bytes(),
        ((PROCESSES / "subsidy_eligibility.dmn").read_bytes(),))
    listed = NO_LANES.decode().replace(
        'isExecutable="true">',
        'isExecutable="true"><bpmn:extensionElements><camunda:properties>'
        '<camunda:property name="granted" value=" amount，tier, ,amount"/>'
        '</camunda:properties></bpmn:extensionElements>').replace(
        'id="d">', 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d">').encode()

    assert subsidy.granted == ("tier", "amount", "basis", "budget_subject",
                               "planned_payment_date")
    # either comma, blanks and repeats left out; a procedure that names none grants nothing
    assert ProcessVersion.from_sources("bare", listed).granted == ("amount", "tier")
    assert ProcessVersion.from_sources("bare", NO_LANES).granted == ()
