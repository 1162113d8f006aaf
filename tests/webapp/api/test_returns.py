"""退回 to any earlier step or the applicant, with reasons, following the flow or 直达."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.webapp.api.conftest import DATA, Login
from tests.webapp.api.helpers import complete_step, error_code, start, step
from webapp.db import Database
from webapp.worker import Worker

TASKS = "/api/v1/tasks"
REASONS = ["营业执照复印件未加盖公章", "研发费用明细缺少2025年第四季度"]


@pytest.fixture
def deployed(client: FlaskClient, login: Login) -> None:
    body = {"bpmn_xml": (DATA / "returns.bpmn").read_text()}
    answer = client.post("/api/v1/parks/demo/processes", json=body, headers=login("admin"))
    assert answer.status_code == 201, answer.json


def at_step3(client: FlaskClient, login: Login, **data: Any) -> dict[str, Any]:
    view = start(client, login("xinghe"), "three_steps", data={"needs_more": False, **data})
    view = complete_step(client, login, view, "step1", {"checked": 1}, who="zhang.wei")
    view = complete_step(client, login, view, "step2", {"reviewed": 1}, who="li.na")
    assert [s["element_id"] for s in view["current_steps"]] == ["step3"]
    return view


def send_back(
    client: FlaskClient,
    login: Login,
    view: dict[str, Any],
    to: str,
    resume: str = "flow",
    who: str = "wang.qiang",
    source: str = "step3",
) -> Any:
    return client.post(
        f"{TASKS}/{step(view, source)}/return",
        headers=login(who),
        json={"to": to, "reasons": REASONS, "resume": resume, "comment": "请补正后再提交"},
    )


def test_targets_are_the_steps_passed_and_the_applicant(
    client: FlaskClient, login: Login, deployed: None
) -> None:
    view = at_step3(client, login)
    answer = client.get(
        f"{TASKS}/{step(view, 'step3')}/return-targets", headers=login("wang.qiang")
    )
    assert answer.status_code == 200, answer.json
    assert answer.json == [
        {"element_id": "step2", "name": "复核"},
        {"element_id": "step1", "name": "初审"},
        {"element_id": "applicant", "name": "补充材料"},
    ]


def test_return_to_the_first_step_follows_the_flow(
    client: FlaskClient, login: Login, deployed: None
) -> None:
    view = at = at_step3(client, login)
    answer = send_back(client, login, view, "step1")
    assert answer.status_code == 200, answer.json
    [current] = answer.json["current_steps"]
    # the step goes back to whoever completed it last time
    assert (current["element_id"], current["assignee"]) == ("step1", "zhang.wei")
    assert current["due_at"] is not None
    assert answer.json["history"][-1]["outcome"] == "return"
    task = client.get(f"{TASKS}/{current['task_id']}", headers=login("zhang.wei")).json
    returned = task["context"]["returned"]
    assert (returned["from"], returned["by"], returned["reasons"], returned["resume"]) == (
        "审定",
        "wang.qiang",
        REASONS,
        "flow",
    )
    assert returned["comment"] == "请补正后再提交"
    view = complete_step(client, login, answer.json, "step1", {"checked": 2}, who="zhang.wei")
    assert [s["element_id"] for s in view["current_steps"]] == ["step2"]
    # the steps after it, reached along the flow again, were not returned to
    again = client.get(f"{TASKS}/{step(view, 'step2')}", headers=login("li.na")).json
    assert again["context"]["returned"] is None
    audit = client.get(f"/api/v1/instances/{view['id']}/audit", headers=login("admin")).json
    [event] = [e for e in audit if e["action"] == "task.returned"]
    assert event["actor"] == "wang.qiang"
    assert event["details"] == {
        "task_id": step(at, "step3"),
        "element_id": "step3",
        "name": "审定",
        "to": "step1",
        "to_name": "初审",
        "reasons": REASONS,
        "resume": "flow",
        "comment": "请补正后再提交",
    }


def test_return_with_straight_back_skips_the_steps_between(
    client: FlaskClient, login: Login, deployed: None
) -> None:
    view = at_step3(client, login)
    answer = send_back(client, login, view, "step1", resume="to_me")
    assert answer.status_code == 200, answer.json
    view = complete_step(
        client, login, answer.json, "step1", {"checked": 2, "note": "已补"}, who="zhang.wei"
    )
    assert [s["element_id"] for s in view["current_steps"]] == ["step3"]
    assert [h["element_id"] for h in view["history"]][-2:] == ["step3", "step1"]
    # step 3 sees step 1's new decision
    task = client.get(f"{TASKS}/{step(view, 'step3')}", headers=login("wang.qiang")).json
    latest = task["context"]["decisions"][-1]
    assert (latest["element_id"], latest["data"]) == ("step1", {"checked": 2, "note": "已补"})
    done = complete_step(client, login, view, "step3", {"approved": True}, who="wang.qiang")
    assert done["status"] == "completed"


@pytest.mark.parametrize("resume", ["flow", "to_me"])
def test_return_to_the_applicant(
    client: FlaskClient, login: Login, deployed: None, resume: str
) -> None:
    view = at_step3(client, login)
    answer = send_back(client, login, view, "applicant", resume=resume)
    assert answer.status_code == 200, answer.json
    assert [s["element_id"] for s in answer.json["current_steps"]] == ["supplement"]
    assert answer.json["status_detail"] == "with_applicant"
    task = client.get(f"{TASKS}/{step(answer.json, 'supplement')}", headers=login("xinghe"))
    assert task.json["context"]["returned"]["reasons"] == REASONS
    view = complete_step(client, login, answer.json, "supplement", {"added": True}, who="xinghe")
    expected = "step3" if resume == "to_me" else "step2"
    assert [s["element_id"] for s in view["current_steps"]] == [expected]


def test_return_to_the_middle_step(client: FlaskClient, login: Login, deployed: None) -> None:
    view = at_step3(client, login)
    answer = send_back(client, login, view, "step2")
    assert answer.status_code == 200, answer.json
    assert [(s["element_id"], s["assignee"]) for s in answer.json["current_steps"]] == [
        ("step2", "li.na")
    ]


def test_refusals(client: FlaskClient, login: Login, deployed: None) -> None:
    view = at_step3(client, login)
    # not a step it passed, not a step at all, the step itself
    for to in ("supplement", "nowhere", "step3", "done"):
        answer = send_back(client, login, view, to)
        assert answer.status_code == 422, (to, answer.json)
        assert error_code(answer) == "invalid"
    for body in (
        {"to": "step1", "reasons": []},
        {"to": "step1"},
        {"to": "step1", "reasons": ["x"], "resume": "later"},
        {"to": "step1", "reasons": [""]},
    ):
        answer = client.post(
            f"{TASKS}/{step(view, 'step3')}/return", json=body, headers=login("wang.qiang")
        )
        assert answer.status_code == 422, (body, answer.json)
    # a reviewer who is not a candidate; the enterprise; someone of another park
    assert send_back(client, login, view, "step1", who="zhang.wei").status_code == 403
    assert send_back(client, login, view, "step1", who="xinghe").status_code in (403, 404)
    assert send_back(client, login, view, "step1", who="other.reviewer").status_code == 404
    # the first step has nothing earlier to return to
    first = start(client, login("xinghe"), "three_steps", data={"needs_more": False})
    assert (
        client.get(
            f"{TASKS}/{step(first, 'step1')}/return-targets", headers=login("zhang.wei")
        ).json
        == []
    )
    assert (
        send_back(client, login, first, "applicant", who="zhang.wei", source="step1").status_code
        == 422
    )
    # done: no longer open
    assert send_back(client, login, view, "step1").status_code == 200
    again = send_back(client, login, view, "step1")
    assert again.status_code == 409, again.json
    assert error_code(again) == "conflict"


def test_the_applicant_cannot_return_its_own_step(
    client: FlaskClient, login: Login, deployed: None
) -> None:
    view = at_step3(client, login)
    view = send_back(client, login, view, "applicant").json
    answer = send_back(client, login, view, "step1", who="xinghe", source="supplement")
    assert answer.status_code == 403, answer.json
    targets = client.get(f"{TASKS}/{step(view, 'supplement')}/return-targets",
                         headers=login("xinghe"))
    assert targets.status_code == 200 and targets.json == []


def test_the_person_returned_to_is_notified_with_the_reasons(
    client: FlaskClient, login: Login, deployed: None, parks: Database
) -> None:
    view = at_step3(client, login)
    send_back(client, login, view, "step1")
    Worker(parks, worker_id="test-worker").run_until_idle()
    notes = client.get("/api/v1/notifications", headers=login("zhang.wei")).json
    returned = [n for n in notes if n["kind"] == "returned"]
    assert returned and "退回到“初审”" in returned[0]["body"]
    assert REASONS[0] in returned[0]["body"]
