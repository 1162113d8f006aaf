"""What modellers draw in Camunda Modeler or bpmn-js deploys: implicit ends, unmarked
processes, tasks naming nobody (warnings, not refusals), and problems that name their file."""

from __future__ import annotations

from pathlib import Path

from engine import Engine, SpecCache, prepare_deployment
from engine.validation import SourceSet, check_sources

DATA = Path(__file__).parent / "data" / "modelling"
IMPLICIT = (DATA / "implicit_end.bpmn").read_bytes()


def check(files: dict[str, bytes]) -> tuple[list[str], list[str]]:
    verdict = check_sources(SourceSet(bpmn=files, dmn={}, forms={}))
    return [str(p) for p in verdict.problems], [p.as_warning() for p in verdict.warnings]


def test_bpmn_js_defaults_deploy_with_warnings() -> None:
    problems, warnings = check({"implicit_end.bpmn": IMPLICIT})
    assert problems == []
    assert warnings == [
        'implicit:3: warning: the process is not marked executable (isExecutable is not "true");'
        " it is the only process here, so Parkflow deploys it to run",
        "check:12: warning: no lane, assignee or candidates name who does this task: it goes to"
        " the park's administrators",
    ]


def test_tokens_without_outgoing_flow_end_there() -> None:
    (version,) = prepare_deployment({"implicit_end.bpmn": IMPLICIT}, {}, {})
    assert len(version.warnings) == 2
    assert version.human_tasks["check"].candidate_groups == ()
    engine = Engine(cache=SpecCache())
    started = engine.start(version, {})
    assert started.status == "active"  # the script branch ended by itself
    (task,) = started.open_tasks
    assert task.element_id == "check"
    done = engine.complete_task(version, started.state, task.task_id, {})
    assert done.status == "completed"


def test_a_diagram_without_start_event_gets_one_problem() -> None:
    content = IMPLICIT.replace(b"bpmn:startEvent", b"bpmn:intermediateThrowEvent")
    problems, _ = check({"implicit_end.bpmn": content})
    assert problems == ["implicit:3: process has no start event, so nothing in it can run"]


def test_a_gateway_without_outgoing_flow_is_still_refused() -> None:
    content = IMPLICIT.replace(
        b'<bpmn:sequenceFlow id="f3" sourceRef="split" targetRef="note" />', b""
    ).replace(b"<bpmn:incoming>f3</bpmn:incoming>", b"")
    content = content.replace(
        b'<bpmn:sequenceFlow id="f2" sourceRef="split" targetRef="check" />', b""
    ).replace(b"<bpmn:incoming>f2</bpmn:incoming>", b"")
    content = content.replace(b"<bpmn:outgoing>f2</bpmn:outgoing>", b"").replace(
        b"<bpmn:outgoing>f3</bpmn:outgoing>", b""
    )
    problems, _ = check({"implicit_end.bpmn": content})
    assert "split:7: parallelGateway has no outgoing sequence flow" in problems


def test_two_unmarked_processes_are_not_guessed_at() -> None:
    other = IMPLICIT.replace(b'id="implicit"', b'id="other"').replace(
        b'bpmnElement="implicit"', b'bpmnElement="other"'
    )
    problems, warnings = check({"a.bpmn": IMPLICIT, "b.bpmn": other})
    assert problems == ["implicit:3: no executable process (in a.bpmn)"]
    assert warnings == []


def test_problems_name_their_file_when_a_deployment_has_several() -> None:
    marked = IMPLICIT.replace(b'isExecutable="false"', b'isExecutable="true"')
    broken = marked.replace(b'id="implicit"', b'id="second"').replace(
        b'targetRef="note" />', b'targetRef="nowhere" />'
    )
    problems, warnings = check({"first.bpmn": marked, "second.bpmn": broken})
    assert problems[0] == "f3:21: targetRef 'nowhere' does not exist (in second.bpmn)"
    assert all(p.endswith("(in second.bpmn)") for p in problems)
    assert warnings[0].endswith("(in first.bpmn)")
    alone, _ = check({"second.bpmn": broken})
    assert alone[0] == "f3:21: targetRef 'nowhere' does not exist"
