"""A deployment of several files whose call activities cross files starts and runs."""

from __future__ import annotations

import io
import json
from typing import Any

from flask.testing import FlaskClient

from tests.engine.bounds_diagrams import INSPECTION, INSPECTION_FORM, calling, diagram
from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import complete_step, start


def test_a_call_into_another_deployed_file_starts(client: FlaskClient, login: Login) -> None:
    deployed = client.post(
        "/api/v1/parks/demo/processes",
        headers=login("admin"),
        content_type="multipart/form-data",
        data={
            "bpmn": [
                (io.BytesIO(diagram("visit", calling("visit", "inspection"))), "visit.bpmn"),
                (io.BytesIO(INSPECTION), "inspection.bpmn"),
            ],
            "form:inspection": (
                io.BytesIO(json.dumps(INSPECTION_FORM).encode()),
                "inspection.json",
            ),
        },
    )
    assert deployed.status_code == 201, deployed.json

    started = client.post(
        "/api/v1/parks/demo/instances",
        headers=login("xinghe"),
        json={"process_key": "visit", "data": {}},
    )

    assert started.status_code == 201, started.json
    assert started.json["status"] == "active"
    assert [s["element_id"] for s in started.json["current_steps"]] == ["inspect"]


def _review(name: str, task: str) -> bytes:
    return diagram(name, f"""
  <bpmn:process id="{name}" isExecutable="true">
    <bpmn:startEvent id="{name}_start"/>
    <bpmn:userTask id="{task}" camunda:candidateGroups="政策审核组"/>
    <bpmn:endEvent id="{name}_end"/>
    <bpmn:sequenceFlow id="{name}_f1" sourceRef="{name}_start" targetRef="{task}"/>
    <bpmn:sequenceFlow id="{name}_f2" sourceRef="{task}" targetRef="{name}_end"/>
  </bpmn:process>""")


def _deploy(client: FlaskClient, login: Login, name: str, content: bytes) -> Any:
    return client.post("/api/v1/parks/demo/processes", headers=login("admin"),
                       content_type="multipart/form-data",
                       data={"bpmn": [(io.BytesIO(content), f"{name}.bpmn")]})


def test_a_call_to_a_procedure_deployed_before_runs_the_version_bound_at_deploy(
        client: FlaskClient, login: Login) -> None:
    assert _deploy(client, login, "review", _review("review", "review_v1")).status_code == 201
    deployed = _deploy(client, login, "visit", diagram("visit", calling("visit", "review")))
    assert deployed.status_code == 201, deployed.json
    assert "calls 'review' version 1, the latest deployed" in json.dumps(deployed.json,
                                                                         ensure_ascii=False)
    # a newer review does not reach the deployed visit until visit is deployed again
    assert _deploy(client, login, "review", _review("review", "review_v2")).status_code == 201

    view = start(client, login("xinghe"), "visit")
    assert [s["element_id"] for s in view["current_steps"]] == ["review_v1"]
    done = complete_step(client, login, view, "review_v1", {})
    assert done["status"] == "completed", done

    again = _deploy(client, login, "visit", diagram("visit", calling("visit", "review")))
    assert again.status_code == 201, again.json
    view = start(client, login("xinghe"), "visit")
    assert [s["element_id"] for s in view["current_steps"]] == ["review_v2"]


def test_a_call_to_a_procedure_the_park_lacks_is_refused(client: FlaskClient,
                                                          login: Login) -> None:
    refused = _deploy(client, login, "visit", diagram("visit", calling("visit", "nowhere")))
    assert refused.status_code == 422, refused.json
    assert "calledElement 'nowhere' is not a process of this deployment, nor deployed in the park" \
        in json.dumps(refused.json, ensure_ascii=False)


def test_a_call_binds_the_deployed_version_with_its_version_tag(client: FlaskClient,
                                                                  login: Login) -> None:
    for tag, task in (("2026-a", "review_a"), ("2026-b", "review_b"), ("2026-c", "review_c")):
        tagged = _review("review", task).replace(
            b'id="review" isExecutable="true"',
            f'id="review" isExecutable="true" camunda:versionTag="{tag}"'.encode())
        assert _deploy(client, login, "review", tagged).status_code == 201
    body = calling("visit", "review").replace(
        'calledElement="review"',
        'calledElement="review" camunda:calledElementBinding="versionTag" '
        'camunda:calledElementVersionTag="2026-b"')
    deployed = _deploy(client, login, "visit", diagram("visit", body))
    assert deployed.status_code == 201, deployed.json

    view = start(client, login("xinghe"), "visit")
    assert [s["element_id"] for s in view["current_steps"]] == ["review_b"]

    unknown = _deploy(client, login, "visit", diagram("visit", body.replace("2026-b", "2027")))
    assert unknown.status_code == 422
    assert "version tags: 2026-a, 2026-b, 2026-c" in json.dumps(unknown.json, ensure_ascii=False)
