"""The modeler's lint rules (bpmnlint-plugin-parkflow) agree with the deploy check.

Each diagram below has one defect the deploy check refuses; linting it with the modeler's
rules (run by Node, as the bundle runs them in the browser) reports the same element. The
procedures Parkflow ships deploy, and lint finds no error in them either.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from engine import InvalidProcess, prepare_deployment

ROOT = Path(__file__).resolve().parents[1]
FRONTEND = ROOT / "webapp" / "frontend"
LINT = FRONTEND / "bpmnlint-plugin-parkflow" / "lint.mjs"
PROCESSES = ROOT / "processes"

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None or not (FRONTEND / "node_modules" / "bpmnlint").exists(),
    reason="needs Node and the frontend's packages (make install)",
)

HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="urn:t">
  {extra}
  <bpmn:process id="p" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="{first}" />
    {body}
  </bpmn:process>
</bpmn:definitions>
"""
PEOPLE = 'camunda:candidateGroups="clerks"'


def task(tag: str, attributes: str = "", inside: str = "") -> str:
    """``start -> x -> end`` with the element ``x`` given."""
    return HEAD.format(
        extra="",
        first="x",
        body=f"""
    <bpmn:{tag} id="x" name="X" {attributes}><bpmn:incoming>f1</bpmn:incoming>{inside}
      <bpmn:outgoing>f2</bpmn:outgoing></bpmn:{tag}>
    <bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="end" />
    <bpmn:endEvent id="end" name="End"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>""",
    )


def properties(**values: str) -> str:
    rows = "".join(f'<camunda:property name="{k}" value="{v}" />' for k, v in values.items())
    return (
        f"<bpmn:extensionElements><camunda:properties>{rows}</camunda:properties>"
        "</bpmn:extensionElements>"
    )


SPLIT = HEAD.format(
    extra="",
    first="g",
    body="""
    <bpmn:exclusiveGateway id="g" name="G"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>a</bpmn:outgoing><bpmn:outgoing>b</bpmn:outgoing></bpmn:exclusiveGateway>
    <bpmn:sequenceFlow id="a" sourceRef="g" targetRef="e1" />
    <bpmn:sequenceFlow id="b" sourceRef="g" targetRef="e2" />
    <bpmn:endEvent id="e1" name="A"><bpmn:incoming>a</bpmn:incoming></bpmn:endEvent>
    <bpmn:endEvent id="e2" name="B"><bpmn:incoming>b</bpmn:incoming></bpmn:endEvent>""",
)
THROW = HEAD.format(
    extra='<bpmn:message id="m" name="m" />',
    first="x",
    body="""
    <bpmn:intermediateThrowEvent id="x" name="X"><bpmn:incoming>f1</bpmn:incoming>
      <bpmn:outgoing>f2</bpmn:outgoing><bpmn:messageEventDefinition messageRef="m" />
    </bpmn:intermediateThrowEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="x" targetRef="end" />
    <bpmn:endEvent id="end" name="End"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>""",
)
SIGNAL = THROW.replace(
    '<bpmn:messageEventDefinition messageRef="m" />', "<bpmn:signalEventDefinition />"
)

CASES = {
    "gateway-conditions": (SPLIT, {"a", "b"}),
    "approval-mode": (task("userTask", PEOPLE, properties(approvalMode="most")), {"x"}),
    "service-task": (task("serviceTask"), {"x"}),
    "message-payload": (THROW, {"x"}),
    "signal-ref": (SIGNAL, {"x"}),
}


def lint(paths: list[Path]) -> dict[str, list[dict[str, str]]]:
    done = subprocess.run(
        ["node", str(LINT), *map(str, paths)],
        cwd=FRONTEND,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(done.stdout)


def refused(xml: str) -> set[str]:
    """The elements the deploy check names (an event definition's problem names its event)."""
    with pytest.raises(InvalidProcess) as caught:
        prepare_deployment({"d.bpmn": xml.encode()}, {}, {})
    return {p.element_id for p in caught.value.problems}


def test_each_rule_reports_what_the_deploy_check_refuses(tmp_path: Path) -> None:
    files = {}
    for rule, (xml, _) in CASES.items():
        files[rule] = tmp_path / f"{rule}.bpmn"
        files[rule].write_text(xml, encoding="utf-8")
    found = lint(list(files.values()))
    for rule, (xml, elements) in CASES.items():
        reported = {r["id"] for r in found[str(files[rule])] if r["rule"] == f"parkflow/{rule}"}
        assert reported == elements, rule
        assert elements & refused(xml), rule


def test_the_shipped_procedures_have_no_lint_errors() -> None:
    paths = sorted(PROCESSES.glob("*.bpmn"))
    assert paths
    found = lint(paths)
    errors = {
        path: [r for r in reports if r["category"] == "error"] for path, reports in found.items()
    }
    assert errors == {str(p): [] for p in paths}
