"""Diagrams that used to hold a web worker or crash it answer with an instance in error."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from tests.engine.bounds_diagrams import ENDLESS, calling, diagram, multi_instance
from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import error_code

PROCESSES = "/api/v1/parks/demo/processes"
INSTANCES = "/api/v1/parks/demo/instances"


def deploy(client: FlaskClient, login: Login, bpmn: bytes) -> str:
    response = client.post(PROCESSES, json={"bpmn_xml": bpmn.decode()}, headers=login("admin"))
    assert response.status_code == 201, response.json
    return str(response.json["processes"][0]["key"])


@pytest.mark.parametrize(
    ("bpmn", "element", "reason"),
    [
        (ENDLESS, "stamp", "loop without end"),
        (multi_instance(False), "sign", "'input_data'"),
        (multi_instance(True), "sign", "'input_data'"),
    ],
    ids=["endless loop", "parallel multi-instance", "sequential multi-instance"],
)
def test_a_start_that_cannot_go_on_answers_an_instance_in_error(
    client: FlaskClient, login: Login, bpmn: bytes, element: str, reason: str
) -> None:
    key = deploy(client, login, bpmn)

    started = client.post(INSTANCES, json={"process_key": key, "data": {}}, headers=login("xinghe"))

    assert started.status_code == 201, started.json
    assert started.json["status"] == "error"
    shown = client.get(f"/api/v1/instances/{started.json['id']}", headers=login("admin"))
    assert shown.json["status"] == "error"
    assert shown.json["error"]["element_id"] == element
    assert reason in shown.json["error"]["message"]


def test_a_call_cycle_is_refused_at_deploy(client: FlaskClient, login: Login) -> None:
    response = client.post(
        PROCESSES,
        json={"bpmn_xml": diagram("self", calling("me", "me")).decode()},
        headers=login("admin"),
    )

    assert response.status_code == 422
    assert error_code(response) == "invalid_process"
    (detail,) = response.json["error"]["details"]
    assert detail["element_id"] == "call_me"
    assert "call cycle" in detail["message"]
