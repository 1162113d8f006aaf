"""A diagram as bpmn-js leaves it deploys with warnings, and its task naming nobody reaches the
park's administrators: their inbox shows it, they complete it, reviewers never see it."""

from __future__ import annotations

from flask.testing import FlaskClient

from tests.webapp.api.conftest import DATA, Login
from tests.webapp.api.helpers import start, step

URL = "/api/v1/parks/demo/processes"
TASKS = "/api/v1/tasks"


def _deploy(client: FlaskClient, login: Login) -> dict:
    body = {"bpmn_xml": (DATA / "implicit_end.bpmn").read_text()}
    answer = client.post(URL, json=body, headers=login("admin"))
    assert answer.status_code == 201, answer.json
    return dict(answer.json)


def test_deploy_answers_its_warnings(client: FlaskClient, login: Login) -> None:
    answer = _deploy(client, login)
    assert answer["processes"][0]["key"] == "implicit"
    assert [(w["element_id"], w["line"]) for w in answer["warnings"]] == [
        ("implicit", 3),
        ("check", 12),
    ]
    assert "park's administrators" in answer["warnings"][1]["message"]


def test_a_task_naming_nobody_goes_to_the_administrators(client: FlaskClient, login: Login) -> None:
    _deploy(client, login)
    view = start(client, login("xinghe"), "implicit")
    task_id = step(view, "check")
    inbox = [item["task_id"] for item in client.get(TASKS, headers=login("admin")).json]
    assert task_id in inbox
    assert client.get(TASKS, headers=login("zhang.wei")).json == []
    refused = client.post(
        f"{TASKS}/{task_id}/complete", json={"data": {}}, headers=login("zhang.wei")
    )
    assert refused.status_code in (403, 404)
    done = client.post(f"{TASKS}/{task_id}/complete", json={"data": {}}, headers=login("admin"))
    assert done.status_code == 200, done.json
    assert done.json["status"] == "completed"
