"""Applications through the API: start, list per role, view, audit, messages, cancel."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask.testing import FlaskClient

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import SUBSIDY_DATA, error_code, start, step
from webapp.db import utcnow

PARK = "/api/v1/parks/demo/instances"

VIEW_KEYS = {"id", "reference", "park", "process_key", "process_name", "version", "status",
             "result", "status_detail", "paused_seconds",
             "promised_at", "enterprise", "started_at", "ended_at", "error", "current_steps",
             "history", "history_next", "predicted_at", "prediction_basis"}
STEP_KEYS = {"task_id", "element_id", "name", "lane", "candidate_groups", "assignee", "due_at",
             "overdue"}
HISTORY_KEYS = {"element_id", "name", "kind", "lane", "completed_by", "completed_at", "outcome"}


def test_enterprise_starts_an_application(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"), "policy_subsidy", data=SUBSIDY_DATA)

    assert set(view) == VIEW_KEYS
    assert view["reference"] == f"DEMO-{view['started_at'][:4]}-000001"
    assert view["park"] == "demo"
    assert view["status"] == "active"
    assert view["enterprise"]["name"] == "星河科技有限公司"
    assert view["promised_at"] > view["started_at"]
    assert view["ended_at"] is None
    [current] = view["current_steps"]
    assert set(current) == STEP_KEYS
    assert current["element_id"] == "preliminary_review"
    assert current["candidate_groups"] == ["政策审核组"]
    assert current["overdue"] is False
    assert [h["element_id"] for h in view["history"]] == ["Event_submitted"]
    assert set(view["history"][0]) == HISTORY_KEYS


def test_admin_starts_for_a_named_enterprise(client: FlaskClient, login: Login) -> None:
    missing = client.post(PARK, json={"process_key": "api_probe"}, headers=login("admin"))
    unknown = client.post(PARK, json={"process_key": "api_probe", "enterprise": "无此企业"},
                          headers=login("admin"))
    view = start(client, login("admin"), enterprise="蓝海新材料股份有限公司")

    assert missing.status_code == 422
    assert missing.json["error"]["details"] == [
        {"field": "enterprise", "message": "is required when an administrator applies"}]
    assert unknown.status_code == 404
    assert view["enterprise"]["name"] == "蓝海新材料股份有限公司"


def test_reviewers_cannot_apply(client: FlaskClient, login: Login) -> None:
    response = client.post(PARK, json={"process_key": "api_probe"}, headers=login("zhang.wei"))

    assert response.status_code == 403
    assert error_code(response) == "forbidden"


def test_start_data_is_checked_against_the_start_form(client: FlaskClient,
                                                      login: Login) -> None:
    data = {**SUBSIDY_DATA, "contact_phone": "12", "requested_amount": -5}
    del data["commitment"]

    response = client.post(PARK, json={"process_key": "policy_subsidy", "data": data},
                           headers=login("xinghe"))

    assert response.status_code == 422
    fields = {detail["field"] for detail in response.json["error"]["details"]}
    assert fields == {"contact_phone", "requested_amount", "commitment"}


def test_a_number_past_any_sensible_bound_is_refused(client: FlaskClient, login: Login) -> None:
    # 研发投入 has only a minimum in its form: the default bound (10^15) still holds
    response = client.post(PARK, json={"process_key": "policy_subsidy",
                                       "data": {**SUBSIDY_DATA, "rd_spend": 1e99}},
                           headers=login("xinghe"))

    assert response.status_code == 422
    assert [d["field"] for d in response.json["error"]["details"]] == ["rd_spend"]


def test_start_body_errors(client: FlaskClient, login: Login) -> None:
    headers = login("xinghe")
    unknown = client.post(PARK, json={"process_key": "nope"}, headers=headers)
    no_key = client.post(PARK, json={"data": {}}, headers=headers)
    bad_data = client.post(PARK, json={"process_key": "api_probe", "data": [1]}, headers=headers)
    extra = client.post(PARK, json={"process_key": "api_probe", "surprise": 1}, headers=headers)
    reserved = client.post(PARK, json={"process_key": "api_probe", "data": {"__class__": 1}},
                           headers=headers)

    assert unknown.status_code == 404
    assert no_key.status_code == 422
    assert bad_data.status_code == 422
    assert extra.status_code == 422
    assert extra.json["error"]["details"] == [{"field": "surprise", "message": "Unknown field."}]
    assert reserved.status_code == 422


def test_lists_follow_the_role(client: FlaskClient, login: Login) -> None:
    mine = start(client, login("xinghe"))
    theirs = start(client, login("lanhai"))
    subsidy = start(client, login("lanhai"), "policy_subsidy", data=SUBSIDY_DATA)

    def listed(username: str, query: str = "") -> list[str]:
        response = client.get(f"{PARK}{query}", headers=login(username))
        assert response.status_code == 200
        return [item["id"] for item in response.json]

    assert listed("admin") == [subsidy["id"], theirs["id"], mine["id"]]
    assert listed("xinghe") == [mine["id"]]
    assert listed("lanhai") == [subsidy["id"], theirs["id"]]
    # 政策审核组 has tasks in all three; the finance reviewer in none
    assert listed("zhang.wei") == [subsidy["id"], theirs["id"], mine["id"]]
    assert listed("zhao.min") == []
    assert listed("admin", "?process_key=policy_subsidy") == [subsidy["id"]]
    assert listed("admin", "?status=completed") == []
    assert listed("admin", "?status=active&process_key=api_probe") == [theirs["id"], mine["id"]]


def test_reviewer_keeps_seeing_what_they_completed(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"))
    client.post(f"/api/v1/tasks/{step(view, 'probe_review')}/assign",
                json={"username": "li.na"}, headers=login("admin"))
    # li.na is not in 政策审核组, but the task was given to her
    assert [i["id"] for i in client.get(PARK, headers=login("li.na")).json] == [view["id"]]

    client.post(f"/api/v1/tasks/{step(view, 'probe_review')}/complete",
                json={"data": {"outcome": "approve"}}, headers=login("li.na"))

    assert [i["id"] for i in client.get(PARK, headers=login("li.na")).json] == [view["id"]]
    assert client.get(f"/api/v1/instances/{view['id']}", headers=login("li.na")).status_code == 200


def test_list_query_errors(client: FlaskClient, login: Login) -> None:
    headers = login("admin")
    for query in ("?status=bogus", "?limit=0", "?limit=501", "?limit=many", "?process_key="):
        response = client.get(f"{PARK}{query}", headers=headers)
        assert response.status_code == 422, query
    for query in ("?cursor=bogus", "?cursor=WzFd", "?cursor=WyJ4IiwieSJd"):
        response = client.get(f"{PARK}{query}", headers=headers)
        assert response.status_code == 400, query
        assert error_code(response) == "bad_cursor"


def test_list_pages_with_link_header(client: FlaskClient, login: Login) -> None:
    started = [start(client, login("xinghe"))["id"] for _ in range(5)]
    seen: list[str] = []
    url: str | None = f"{PARK}?limit=2&process_key=api_probe"
    pages = 0
    while url is not None:
        response = client.get(url, headers=login("xinghe"))
        pages += 1
        seen.extend(item["id"] for item in response.json)
        link = response.headers.get("Link")
        assert link is None or link.endswith('>; rel="next"')
        url = link[1:link.index(">")] if link else None

    assert pages == 3
    assert seen == list(reversed(started))


def test_view_shows_overdue_steps(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"))
    url = f"/api/v1/instances/{view['id']}"

    with time_machine.travel(utcnow() + timedelta(hours=49)):
        # signed in two days later: the first token would have expired by then
        later = client.get(url, headers=login("admin")).json

    assert view["current_steps"][0]["overdue"] is False
    assert later["current_steps"][0]["overdue"] is True


def test_view_follows_the_process(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"))

    after = client.post(f"/api/v1/tasks/{step(view, 'probe_review')}/complete",
                        json={"data": {"outcome": "approve", "comment": "ok"}},
                        headers=login("zhang.wei")).json

    assert after["current_steps"] == []
    assert after["status"] == "active"
    review = [h for h in after["history"] if h["element_id"] == "probe_review"]
    assert review == [{"element_id": "probe_review", "name": "Review", "kind": "UserTask",
                       "lane": None, "completed_by": "zhang.wei",
                       "completed_at": review[0]["completed_at"], "outcome": "approve"}]


def test_audit_trail_oldest_first(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"))
    task = step(view, "probe_review")
    client.post(f"/api/v1/tasks/{task}/claim", headers=login("zhang.wei"))
    client.post(f"/api/v1/tasks/{task}/complete", json={"data": {"outcome": "approve"}},
                headers=login("zhang.wei"))

    response = client.get(f"/api/v1/instances/{view['id']}/audit", headers=login("xinghe"))
    paged = client.get(f"/api/v1/instances/{view['id']}/audit?limit=1", headers=login("admin"))

    assert response.status_code == 200
    assert [e["action"] for e in response.json] == [
        "application.started", "task.claimed", "task.completed"]
    assert [e["actor"] for e in response.json] == ["xinghe", "zhang.wei", "zhang.wei"]
    assert set(response.json[0]) == {"at", "actor", "action", "details"}
    assert len(paged.json) == 1 and "Link" in paged.headers


def test_message_delivery(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"))
    url = f"/api/v1/instances/{view['id']}/messages/payment_received"

    too_early = client.post(url, json={"payload": {"amount": 1}}, headers=login("zhao.min"))
    client.post(f"/api/v1/tasks/{step(view, 'probe_review')}/complete",
                json={"data": {"outcome": "approve"}}, headers=login("zhang.wei"))
    by_enterprise = client.post(url, json={"payload": {}}, headers=login("xinghe"))
    wrong_name = client.post(f"/api/v1/instances/{view['id']}/messages/other", json={},
                             headers=login("zhao.min"))
    delivered = client.post(url, json={"payload": {"amount": 1}}, headers=login("zhao.min"))
    after_end = client.post(url, json={"payload": {}}, headers=login("admin"))

    assert too_early.status_code == 404
    assert by_enterprise.status_code == 403
    assert wrong_name.status_code == 404
    assert delivered.status_code == 200, delivered.json
    assert delivered.json["status"] == "completed"
    assert delivered.json["ended_at"] is not None
    assert after_end.status_code == 409


def test_message_body_errors(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"))
    url = f"/api/v1/instances/{view['id']}/messages/payment_received"

    assert client.post(url, json={"payload": "x"}, headers=login("admin")).status_code == 422
    assert client.post(url, data="x", headers=login("admin")).status_code == 415


def test_cancel(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"))
    url = f"/api/v1/instances/{view['id']}/cancel"

    by_owner = client.post(url, headers=login("xinghe"))
    by_reviewer = client.post(url, headers=login("zhang.wei"))
    cancelled = client.post(url, json={"reason": "withdrawn by phone"}, headers=login("admin"))
    again = client.post(url, headers=login("admin"))

    assert by_owner.status_code == 403
    assert by_reviewer.status_code == 403
    assert cancelled.status_code == 200
    assert cancelled.json["status"] == "cancelled"
    assert cancelled.json["current_steps"] == []
    assert again.status_code == 409
    assert error_code(again) == "conflict"
    inbox = client.get("/api/v1/tasks", headers=login("zhang.wei")).json
    assert view["id"] not in [task["instance_id"] for task in inbox]


def test_absent_instance(client: FlaskClient, login: Login) -> None:
    for path in ("nope", "nope/audit", "x" * 500):
        response = client.get(f"/api/v1/instances/{path}", headers=login("admin"))
        assert response.status_code == 404, path
    for path in ("nope/cancel", "nope/messages/payment_received"):
        response = client.post(f"/api/v1/instances/{path}", headers=login("admin"))
        assert response.status_code == 404, path
