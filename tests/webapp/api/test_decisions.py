"""Every decision is its own: a task's form opens with its own fields, earlier decisions are
context beside it, and nobody writes a field their form does not define."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from tests.conftest import Seed
from tests.webapp.api.conftest import DATA, Login, build_parks
from tests.webapp.api.helpers import SUBSIDY_DATA, error_code, start, step
from webapp import demo
from webapp.db import Database
from webapp.services import accounts, processes

TASKS = "/api/v1/tasks"
APPROVED = {"outcome": "approve", "comment": "材料齐全，同意受理。"}


def build_two_step_parks(db: Database) -> None:
    """Both parks, and in the demo park a two-step approval using one form in both steps."""
    build_parks(db)
    with db.write() as session:
        park = accounts.get_park(session, demo.PARK_SLUG)
        processes.deploy(
            session,
            park=park,
            actor="test",
            bpmn={"two_step.bpmn": (DATA / "two_step.bpmn").read_bytes()},
            forms={
                key: json.loads((DATA / f"{key}.json").read_text())
                for key in ("probe_review", "two_step_apply")
            },
        )


TWO_STEP_PARKS = Seed("two_step_parks", build_two_step_parks)


@pytest.fixture
def seed(seed: Seed | None, request: pytest.FixtureRequest) -> Seed | None:
    """The two parks with the two-step approval for tests that ask for ``parks``."""
    return TWO_STEP_PARKS if "parks" in request.fixturenames else seed


@pytest.fixture
def parks(db: Database) -> Database:
    """Both parks, and in the demo park a two-step approval using one form in both steps."""
    return db


def _approved_once(client: FlaskClient, login: Login) -> str:
    view = start(client, login("xinghe"), "two_step", data={"amount": 200000})
    first = step(view, "first_review")
    done = client.post(
        f"{TASKS}/{first}/complete", json={"data": APPROVED}, headers=login("zhang.wei")
    )
    assert done.status_code == 200, done.json
    return step(done.json, "second_review")


def test_the_second_step_opens_blank_with_the_first_decision_as_context(
    client: FlaskClient, login: Login
) -> None:
    second = _approved_once(client, login)

    detail = client.get(f"{TASKS}/{second}", headers=login("li.na")).json

    assert detail["form_data"] == {}
    [decision] = detail["context"]["decisions"]
    assert (decision["name"], decision["completed_by"], decision["outcome"]) == (
        "初审",
        "zhang.wei",
        "approve",
    )
    assert decision["data"] == APPROVED
    assert detail["context"]["application"] == {
        "company_name": "星河科技有限公司",
        "amount": 200000,
    }


def test_the_second_step_decides_for_itself(client: FlaskClient, login: Login) -> None:
    second = _approved_once(client, login)

    blank = client.post(f"{TASKS}/{second}/complete", json={"data": {}}, headers=login("li.na"))
    done = client.post(
        f"{TASKS}/{second}/complete", json={"data": {"outcome": "reject"}}, headers=login("li.na")
    )

    # the first reviewer's "approve" does not count as the second one's
    assert blank.status_code == 422 and blank.json["error"]["details"] == [
        {"field": "outcome", "message": "is required"}
    ]
    assert done.status_code == 200
    steps = {entry["element_id"]: entry for entry in done.json["history"]}
    assert steps["first_review"]["outcome"] == "approve"
    assert steps["second_review"]["outcome"] == "reject"
    assert steps["second_review"]["completed_by"] == "li.na"
    detail = client.get(f"{TASKS}/{second}", headers=login("li.na")).json
    # what the second step submitted, and nothing of the first
    assert detail["form_data"] == {"outcome": "reject"}


def test_an_applicants_extra_field_is_refused(client: FlaskClient, login: Login) -> None:
    response = client.post(
        "/api/v1/parks/demo/instances",
        json={
            "process_key": "policy_subsidy",
            "data": {**SUBSIDY_DATA, "outcome": "approve", "amount": 1},
        },
        headers=login("xinghe"),
    )

    assert response.status_code == 422
    assert error_code(response) == "invalid"
    assert response.json["error"]["details"] == [
        {"field": "outcome", "message": "is not a field of this form"},
        {"field": "amount", "message": "is not a field of this form"},
    ]
    assert "outcome" in response.json["error"]["message"]
    assert client.get("/api/v1/parks/demo/instances", headers=login("xinghe")).json == []


def test_a_reviewers_extra_field_is_refused(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"), "two_step", data={"amount": 5})

    response = client.post(
        f"{TASKS}/{step(view, 'first_review')}/complete",
        json={"data": {"outcome": "approve", "amount": 999999}},
        headers=login("zhang.wei"),
    )

    assert response.status_code == 422
    assert response.json["error"]["details"] == [
        {"field": "amount", "message": "is not a field of this form"}
    ]


@pytest.mark.parametrize("name", ["pf_due", "_state", "class"])
def test_reserved_names_stay_refused(client: FlaskClient, login: Login, name: str) -> None:
    response = client.post(
        "/api/v1/parks/demo/instances",
        json={"process_key": "two_step", "data": {"amount": 5, name: 1}},
        headers=login("xinghe"),
    )

    assert response.status_code == 422
    assert response.json["error"]["details"] == [{"field": name, "message": "is a reserved name"}]


def test_the_enterprise_name_comes_from_its_record(client: FlaskClient, login: Login) -> None:
    view = start(
        client, login("xinghe"), "two_step", data={"company_name": "别家公司", "amount": 5}
    )

    assert view["enterprise"]["name"] == "星河科技有限公司"
    detail = client.get(f"{TASKS}/{step(view, 'first_review')}", headers=login("zhang.wei")).json
    assert detail["context"]["application"]["company_name"] == "星河科技有限公司"


def test_a_read_only_field_is_shown_and_never_written(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"), "policy_subsidy", data=SUBSIDY_DATA)
    after = client.post(
        f"{TASKS}/{step(view, 'preliminary_review')}/complete",
        json={"data": APPROVED},
        headers=login("zhang.wei"),
    ).json
    director = step(after, "director_review")
    detail = client.get(f"{TASKS}/{director}", headers=login("li.na")).json
    amount = detail["context"]["fields"]["amount"]

    done = client.post(
        f"{TASKS}/{director}/complete",
        json={"data": {"outcome": "reject", "comment": "不予批准", "amount": amount * 10}},
        headers=login("li.na"),
    )

    assert detail["form_data"] == {}
    assert done.status_code == 200, done.json
    assert client.get(f"{TASKS}/{director}", headers=login("li.na")).json["form_data"] == {
        "outcome": "reject",
        "comment": "不予批准",
    }
