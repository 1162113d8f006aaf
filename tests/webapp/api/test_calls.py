"""A deployment of several files whose call activities cross files starts and runs."""

from __future__ import annotations

import io
import json

from flask.testing import FlaskClient

from tests.engine.bounds_diagrams import INSPECTION, INSPECTION_FORM, calling, diagram
from tests.webapp.api.conftest import Login


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
