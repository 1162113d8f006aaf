"""Moving waiting applications to another version of their procedure through the API."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import complete_step, error_code, start
from webapp.db import Database, utcnow
from webapp.worker import Worker

ENGINE_DATA = Path(__file__).resolve().parents[2] / "engine" / "data" / "migration"
GROUPS = {b'"office"': '"政策审核组"', b'"reviewers"': '"部门负责人"', b'"directors"': '"园区领导"'}


def source(name: str) -> str:
    xml = (ENGINE_DATA / f"{name}.bpmn").read_bytes()
    for group, park_group in GROUPS.items():
        xml = xml.replace(group, park_group.encode())
    return xml.decode()


def deploy(client: FlaskClient, login: Login, name: str) -> int:
    answer = client.post(
        "/api/v1/parks/demo/processes", json={"bpmn_xml": source(name)}, headers=login("admin")
    )
    assert answer.status_code == 201, answer.json
    return int(answer.json["processes"][0]["version"])


@pytest.fixture
def at_review(client: FlaskClient, login: Login) -> dict[str, Any]:
    """An application of version 1 waiting at review, then version 2 deployed."""
    assert deploy(client, login, "permit_v1") == 1
    view = start(client, login("xinghe"), "permit")
    view = complete_step(client, login, view, "intake", {}, who="zhang.wei")
    assert deploy(client, login, "permit_v2") == 2
    return view


def migrate(
    client: FlaskClient,
    login: Login,
    view: dict[str, Any],
    suffix: str = "",
    who: str = "admin",
    **body: Any,
) -> Any:
    return client.post(
        f"/api/v1/instances/{view['id']}/migrate{suffix}",
        json={"version": 2, **body},
        headers=login(who),
    )


def test_a_refused_move_lists_the_reason_and_changes_nothing(
    client: FlaskClient, login: Login, at_review: dict[str, Any]
) -> None:
    check = migrate(client, login, at_review, "/check")
    refused = migrate(client, login, at_review)

    assert check.status_code == 200, check.json
    assert check.json["can_move"] is False
    assert [(p["element_id"], p["code"]) for p in check.json["problems"]] == [
        ("review", "missing_target")
    ]
    assert refused.status_code == 422 and error_code(refused) == "invalid"
    assert refused.json["error"]["details"] == [
        {"field": p["element_id"], "message": p["message"]} for p in check.json["problems"]
    ]
    view = client.get(f"/api/v1/instances/{at_review['id']}", headers=login("admin")).json
    assert view["version"] == 1
    assert [s["element_id"] for s in view["current_steps"]] == ["review"]


def test_a_moved_application_runs_to_the_end_in_the_new_flow(
    client: FlaskClient, login: Login, at_review: dict[str, Any], parks: Database
) -> None:
    [before] = at_review["current_steps"]
    mapping = {"review": "examine"}
    assert migrate(client, login, at_review, "/check", mapping=mapping).json == {
        "can_move": True,
        "problems": [],
    }

    moved = migrate(client, login, at_review, mapping=mapping)

    assert moved.status_code == 200, moved.json
    assert moved.json["version"] == 2
    [now] = moved.json["current_steps"]
    assert now["element_id"] == "examine" and now["due_at"] == before["due_at"]
    audit = client.get(f"/api/v1/instances/{at_review['id']}/audit", headers=login("admin")).json
    entry = audit[-1]
    assert entry["action"] == "instance.migrated"
    assert (
        entry["details"]["from_version"],
        entry["details"]["to_version"],
        entry["details"]["mapping"],
    ) == (1, 2, mapping)
    assert entry["details"]["tasks"] == {before["task_id"]: now["task_id"]}
    # on to the end of version 2: the cooling-off timer, the archive script, the approval
    view = complete_step(client, login, moved.json, "examine", {}, who="li.na")
    assert view["current_steps"] == []
    with time_machine.travel(utcnow() + timedelta(hours=25)):
        Worker(parks, worker_id="test-worker").run_until_idle()
    view = client.get(f"/api/v1/instances/{at_review['id']}", headers=login("admin")).json
    assert [s["element_id"] for s in view["current_steps"]] == ["approve"]
    view = complete_step(client, login, view, "approve", {}, who="wang.qiang")
    assert view["status"] == "completed"


def test_bulk_move_moves_what_can_and_says_why_not_for_the_rest(
    client: FlaskClient, login: Login, at_review: dict[str, Any]
) -> None:
    waiting = start(client, login("xinghe"), "permit")  # version 2 already: not a candidate
    assert waiting["version"] == 2
    first = complete_step(client, login, at_review, "review", {}, who="li.na")
    assert first["current_steps"] == []  # waiting at the cooling-off timer
    url = "/api/v1/parks/demo/processes/permit/migrate"

    chosen = client.post(
        url, json={"version": 2, "instance_ids": [first["id"]]}, headers=login("admin")
    )
    again = client.post(url, json={"version": 2}, headers=login("admin"))

    assert chosen.status_code == 200, chosen.json
    assert [m["instance_id"] for m in chosen.json["moved"]] == [first["id"]]
    assert chosen.json["refused"] == []
    assert again.json == {"moved": [], "refused": []}  # none left on another version
    refused = client.post(
        url, json={"version": 2, "instance_ids": [first["id"]]}, headers=login("admin")
    )
    assert [p["code"] for p in refused.json["refused"][0]["problems"]] == ["same_version"]


def test_only_park_admins_move_applications(
    client: FlaskClient, login: Login, at_review: dict[str, Any]
) -> None:
    for who in ("li.na", "xinghe"):
        assert migrate(
            client, login, at_review, who=who, mapping={"review": "examine"}
        ).status_code in (403, 404)
    bad = migrate(client, login, at_review, mapping={"review": 3})
    assert bad.status_code == 422
    missing = client.post(
        f"/api/v1/instances/{at_review['id']}/migrate", json={"version": 9}, headers=login("admin")
    )
    assert missing.status_code == 404
