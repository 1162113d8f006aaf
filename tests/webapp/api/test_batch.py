"""批量同意: many tasks completed with one decision, each on its own, failures reported."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.webapp.api.conftest import DATA, Login
from tests.webapp.api.helpers import complete_step, start, step
from webapp.db import Database

URL = "/api/v1/tasks/batch-complete"


@pytest.fixture
def deployed(client: FlaskClient, login: Login, parks: Database) -> None:
    body = {"bpmn_xml": (DATA / "returns.bpmn").read_text()}
    answer = client.post("/api/v1/parks/demo/processes", json=body, headers=login("admin"))
    assert answer.status_code == 201, answer.json


def at(client: FlaskClient, login: Login, element_id: str) -> dict[str, Any]:
    view = start(client, login("xinghe"), "three_steps", data={"needs_more": False})
    view = complete_step(client, login, view, "step1", {"checked": 1}, who="zhang.wei")
    if element_id == "step3":
        view = complete_step(client, login, view, "step2", {"reviewed": 1}, who="li.na")
    return view


def test_a_mixed_batch_completes_every_task_it_can(
    client: FlaskClient, login: Login, deployed: None
) -> None:
    views = [at(client, login, "step3") for _ in range(5)]
    batchable = [step(view, "step3") for view in views]
    # a task the caller holds but whose step does not allow a batch
    middle = step(at(client, login, "step2"), "step2")
    assigned = client.post(
        f"/api/v1/tasks/{middle}/assign", json={"username": "wang.qiang"}, headers=login("admin")
    )
    assert assigned.status_code == 200, assigned.json
    done = at(client, login, "step3")
    complete_step(client, login, done, "step3", {"approved": True}, who="wang.qiang")
    other_park = start(client, login("other.ent"), "api_probe", park="other")
    ids = [
        batchable[0],
        middle,
        step(done, "step3"),
        *batchable[1:],
        step(other_park, "probe_review"),
        "no-such-task",
        batchable[0],
    ]

    answer = client.post(
        URL,
        json={"task_ids": ids, "data": {"approved": True}, "comment": "同意"},
        headers=login("wang.qiang"),
    )

    assert answer.status_code == 200, answer.json
    results = {r["task_id"]: r for r in answer.json["results"]}
    assert len(answer.json["results"]) == len(ids) - 1  # the repeated id once
    assert [results[t]["status"] for t in batchable] == ["completed"] * 5
    assert all(results[t]["error"] is None for t in batchable)
    assert (results[middle]["status"], results[middle]["code"]) == ("failed", "invalid")
    assert "batch" in results[middle]["error"]
    assert results[step(done, "step3")]["code"] == "conflict"
    assert results[step(other_park, "probe_review")]["code"] == "not_found"
    assert results["no-such-task"]["code"] == "not_found"
    for view in views:
        after = client.get(f"/api/v1/instances/{view['id']}", headers=login("admin")).json
        assert after["status"] == "completed"
        audit = client.get(f"/api/v1/instances/{view['id']}/audit", headers=login("admin")).json
        [event] = [
            e
            for e in audit
            if e["action"] == "task.completed" and e["details"]["element_id"] == "step3"
        ]
        assert event["details"]["batch"] is True and event["details"]["comment"] == "同意"
    # the middle task is untouched
    still = client.get(f"/api/v1/tasks/{middle}", headers=login("wang.qiang")).json
    assert still["status"] == "open"


def test_a_batch_of_tasks_not_the_callers(
    client: FlaskClient, login: Login, deployed: None
) -> None:
    task = step(at(client, login, "step3"), "step3")
    answer = client.post(URL, json={"task_ids": [task], "data": {}}, headers=login("li.na"))
    assert answer.status_code == 200
    assert answer.json["results"][0]["code"] in ("forbidden", "not_found")
    assert client.get(f"/api/v1/tasks/{task}", headers=login("wang.qiang")).json["status"] == "open"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"task_ids": []},
        {"task_ids": "x"},
        {"task_ids": ["a"] * 101},
        {"task_ids": ["a"], "data": 3},
    ],
)
def test_bad_batches_are_refused(
    client: FlaskClient, login: Login, parks: Database, body: dict[str, Any]
) -> None:
    answer = client.post(URL, json=body, headers=login("wang.qiang"))
    assert answer.status_code == 422, answer.json
