"""A Camunda diagram with variable mappings and listeners deploys and runs through the API."""

from __future__ import annotations

import io

from flask.testing import FlaskClient

from tests.engine.test_mappings import MAPPINGS
from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import error_code, start, step

REVIEWED = MAPPINGS.replace(
    b'camunda:candidateGroups="office"', 'camunda:candidateGroups="政策审核组"'.encode()
)


def deploy(client: FlaskClient, login: Login, content: bytes) -> object:
    return client.post(
        "/api/v1/parks/demo/processes",
        headers=login("admin"),
        content_type="multipart/form-data",
        data={"bpmn": [(io.BytesIO(content), "mappings.bpmn")]},
    )


def test_a_diagram_with_mappings_and_listeners_runs_to_its_end(
    client: FlaskClient, login: Login
) -> None:
    deployed = deploy(client, login, REVIEWED)
    assert deployed.status_code == 201, deployed.json

    view = start(client, login("xinghe"), "mapped_review", data={"amount": 7, "applicant": "Li"})
    task_id = step(view, "review")
    done = client.post(
        f"/api/v1/tasks/{task_id}/complete",
        headers=login("zhang.wei"),
        json={"data": {"approved": True}},
    )

    assert done.status_code == 200, done.json
    assert done.json["status"] == "completed"
    finished = [entry["element_id"] for entry in done.json["history"]]
    assert {"review", "call", "compute", "all_call"} <= set(finished), finished


def test_a_java_listener_is_refused_naming_element_and_line(
    client: FlaskClient, login: Login
) -> None:
    content = REVIEWED.replace(
        b'<camunda:executionListener event="start">',
        b'<camunda:executionListener event="start" class="com.example.Audit"/>'
        b'<camunda:executionListener event="start">',
    )

    refused = deploy(client, login, content)

    assert refused.status_code == 422
    assert error_code(refused) == "invalid_process"
    (found,) = refused.json["error"]["details"]
    assert (found["element_id"], found["line"]) == ("review", 18)
    assert "Parkflow runs no Java code" in found["message"]
