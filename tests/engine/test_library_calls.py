"""Call activities to procedures deployed earlier in the park, bound when the caller deploys."""

from __future__ import annotations

import pytest

from engine import CallableProcess, Engine, InvalidProcess, prepare_deployment, version_tag_of
from tests.engine.bounds_diagrams import calling, diagram


def callee(name: str, tag: str | None = None, task: str = "check") -> bytes:
    tagged = f' camunda:versionTag="{tag}"' if tag else ""
    return diagram(
        name,
        f"""
  <bpmn:process id="{name}" isExecutable="true"{tagged}>
    <bpmn:startEvent id="{name}_start"/>
    <bpmn:userTask id="{task}" camunda:candidateGroups="office"/>
    <bpmn:endEvent id="{name}_end"/>
    <bpmn:sequenceFlow id="{name}_f1" sourceRef="{name}_start" targetRef="{task}"/>
    <bpmn:sequenceFlow id="{name}_f2" sourceRef="{task}" targetRef="{name}_end"/>
  </bpmn:process>""",
    )


def caller(binding: str = "") -> bytes:
    body = calling("visit", "inspection")
    return diagram(
        "visit", body.replace('calledElement="inspection"', f'calledElement="inspection" {binding}')
    )


def library() -> dict[str, list[CallableProcess]]:
    versions = [
        callee("inspection", "2026-a", "check_v1"),
        callee("inspection", "2026-b", "check_v2"),
        callee("inspection", None, "check_v3"),
    ]
    return {
        "inspection": [
            CallableProcess("inspection", n, content, (), version_tag_of(content, "inspection"))
            for n, content in enumerate(versions, start=1)
        ]
    }


def bound_task(binding: str = "") -> tuple[str, str]:
    (visit,) = prepare_deployment({"visit.bpmn": caller(binding)}, {}, {}, library=library())
    started = Engine().start(visit, {})
    (task,) = started.open_tasks
    done = Engine().complete_task(visit, started.state, task.task_id, {})
    assert done.status == "completed"
    return task.element_id, " ".join(w.message for w in visit.warnings)


def test_without_binding_a_call_out_of_the_deployment_runs_the_latest_version() -> None:
    element, warnings = bound_task()
    assert element == "check_v3"
    assert (
        "calls 'inspection' version 3, the latest deployed; redeploy to call a newer one"
        in warnings
    )


def test_binding_latest_says_the_same() -> None:
    assert bound_task('camunda:calledElementBinding="latest"')[0] == "check_v3"


def test_binding_version_runs_that_version() -> None:
    element, warnings = bound_task(
        'camunda:calledElementBinding="version" camunda:calledElementVersion="1"'
    )
    assert element == "check_v1"
    assert "version 1" in warnings


def test_binding_version_tag_runs_the_tagged_version() -> None:
    element, _ = bound_task(
        'camunda:calledElementBinding="versionTag" camunda:calledElementVersionTag="2026-b"'
    )
    assert element == "check_v2"


def test_a_stored_caller_keeps_the_bound_version() -> None:
    (visit,) = prepare_deployment({"visit.bpmn": caller()}, {}, {}, library=library())
    assert visit.called == (library()["inspection"][2].bpmn,)
    from engine import ProcessVersion

    again = ProcessVersion.from_sources(visit.key, visit.bpmn, visit.dmn, visit.forms, visit.called)
    assert Engine().start(again, {}).open_tasks[0].element_id == "check_v3"


def problems(binding: str = "", park: dict[str, list[CallableProcess]] | None = None) -> str:
    with pytest.raises(InvalidProcess) as caught:
        prepare_deployment(
            {"visit.bpmn": caller(binding)}, {}, {}, library=library() if park is None else park
        )
    return " ".join(p.message for p in caught.value.problems)


def test_an_unknown_key_is_refused_naming_the_element() -> None:
    text = problems(park={})
    assert "calledElement 'inspection' is not a process of this deployment, nor deployed" in text


def test_an_unknown_version_is_refused_naming_what_exists() -> None:
    text = problems('camunda:calledElementBinding="version" camunda:calledElementVersion="7"')
    assert "call activity 'call_inspection' calls 'inspection' version '7'" in text
    assert "deployed versions: 1, 2, 3" in text


def test_an_unknown_version_tag_is_refused_naming_the_tags() -> None:
    text = problems('camunda:calledElementBinding="versionTag" camunda:calledElementVersionTag="x"')
    assert "versionTag 'x'" in text and "version tags: 2026-a, 2026-b" in text


def test_binding_deployment_does_not_reach_the_park() -> None:
    assert "is not a process of this deployment" in problems(
        'camunda:calledElementBinding="deployment"'
    )


def test_a_call_cycle_across_procedures_is_refused() -> None:
    # inspection v1 was deployed calling visit (bound then); visit now calls inspection
    old_visit = callee("visit")
    inspection = diagram("inspection", calling("inspection", "visit"))
    park = {"inspection": [CallableProcess("inspection", 1, inspection, (old_visit,))]}
    text = problems(park=park)
    assert "call cycle across procedures (inspection → visit)" in text


def test_the_called_version_brings_its_forms() -> None:
    from engine import FormDataInvalid
    from tests.engine.bounds_diagrams import INSPECTION, INSPECTION_FORM

    park = {
        "inspection": [
            CallableProcess("inspection", 1, INSPECTION, (), None, {"inspection": INSPECTION_FORM})
        ]
    }
    (visit,) = prepare_deployment({"visit.bpmn": caller()}, {}, {}, library=park)
    started = Engine().start(visit, {})

    assert visit.forms == {"inspection": INSPECTION_FORM}
    with pytest.raises(FormDataInvalid):
        Engine().complete_task(
            visit, started.state, started.open_tasks[0].task_id, {"passed": "maybe"}
        )


def test_a_called_version_bringing_a_process_of_the_deployment_is_refused() -> None:
    # inspection v1 calls its own 'audit'; this deployment defines another 'audit'
    inspection = diagram("inspection", calling("inspection", "audit"))
    park = {"inspection": [CallableProcess("inspection", 1, inspection, (callee("audit"),))]}
    files = {"visit.bpmn": caller(), "audit.bpmn": callee("audit", task="other")}
    with pytest.raises(InvalidProcess) as caught:
        prepare_deployment(files, {}, {}, library=park)
    text = " ".join(p.message for p in caught.value.problems)
    assert "calls its own version of 'audit', a process this deployment defines too" in text


def test_a_called_procedure_drawn_unmarked_runs_as_it_was_deployed() -> None:
    # bpmn-js writes isExecutable="false"; deployed alone, the lone process was run anyway
    from engine import ProcessVersion

    unmarked = callee("inspection").replace(b'isExecutable="true"', b'isExecutable="false"')
    park = {"inspection": [CallableProcess("inspection", 1, unmarked)]}
    (visit,) = prepare_deployment({"visit.bpmn": caller()}, {}, {}, library=park)
    again = ProcessVersion.from_sources(visit.key, visit.bpmn, visit.dmn, visit.forms, visit.called)

    assert [t.element_id for t in Engine().start(again, {}).open_tasks] == ["check"]
