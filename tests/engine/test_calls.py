"""A call activity to a process in another file of the same deployment runs as deployed.

Deploy checked a ``calledElement`` against every file of the deployment, but a version kept
only its own file, so every start failed with SpiffWorkflow's "process not found".
"""

from __future__ import annotations

import pytest

from engine import Engine, FormDataInvalid, ProcessVersion, content_hash, prepare_deployment
from tests.engine.bounds_diagrams import INSPECTION, INSPECTION_FORM, calling, diagram


def deploy_chain() -> dict[str, ProcessVersion]:
    files = {
        "visit.bpmn": diagram("visit", calling("visit", "relay")),
        "relay.bpmn": diagram("relay", calling("relay", "inspection")),
        "inspection.bpmn": INSPECTION,
    }
    return {v.key: v for v in prepare_deployment(files, {}, {"inspection": INSPECTION_FORM})}


def test_a_call_into_another_file_runs_through_a_chain_of_files() -> None:
    engine = Engine()
    visit = deploy_chain()["visit"]

    started = engine.start(visit, {})
    (task,) = started.open_tasks
    done = engine.complete_task(visit, started.state, task.task_id, {"passed": True})

    assert started.status == "active"
    assert (task.element_id, task.candidate_groups) == ("inspect", ("office",))
    assert done.status == "completed"
    assert done.data["passed"] is True


def test_the_called_file_brings_its_forms() -> None:
    engine = Engine()
    visit = deploy_chain()["visit"]
    started = engine.start(visit, {})

    with pytest.raises(FormDataInvalid):
        engine.complete_task(
            visit, started.state, started.open_tasks[0].task_id, {"passed": "maybe"}
        )


def test_a_version_keeps_the_files_it_calls_and_only_those() -> None:
    versions = deploy_chain()

    assert versions["visit"].called == (versions["relay"].bpmn, INSPECTION)
    assert versions["relay"].called == (INSPECTION,)
    assert versions["inspection"].called == ()


def test_a_version_rebuilt_from_stored_sources_runs_the_same() -> None:
    visit = deploy_chain()["visit"]

    again = ProcessVersion.from_sources(
        visit.key, visit.bpmn, visit.dmn, visit.forms, called=visit.called
    )

    assert again == visit
    assert Engine().start(again, {}).open_tasks[0].element_id == "inspect"


def test_a_version_that_calls_no_other_file_keeps_its_hash() -> None:
    (inspection,) = [
        v for v in prepare_deployment({"i.bpmn": INSPECTION}, {}, {"inspection": INSPECTION_FORM})
    ]

    assert inspection.content_hash == content_hash(INSPECTION, (), inspection.forms)
