"""The inbox and task work: scopes, ordering, detail, claim/unclaim/assign, complete."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask.testing import FlaskClient

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import SUBSIDY_DATA, error_code, start, step
from webapp.db import utcnow

TASKS = "/api/v1/tasks"
ITEM_KEYS = {"task_id", "instance_id", "reference", "park", "process_key", "name",
             "element_id", "lane", "candidate_groups", "candidate_users", "assignee",
             "created_at", "due_at", "overdue", "form_key", "priority", "status",
             "on_behalf_of", "handoff_kind", "parent_task_id"}


def _inbox(client: FlaskClient, headers: dict[str, str], scope: str = "all") -> list[str]:
    response = client.get(f"{TASKS}?scope={scope}", headers=headers)
    assert response.status_code == 200
    return [item["task_id"] for item in response.json]


def _return_for_correction(client: FlaskClient, login: Login) -> tuple[dict, str]:
    view = start(client, login("xinghe"), "policy_subsidy", data=SUBSIDY_DATA)
    after = client.post(f"{TASKS}/{step(view, 'preliminary_review')}/complete", json={"data": {
        "outcome": "return", "return_reasons": ["缺少审计报告"]}}, headers=login("zhang.wei")).json
    return after, step(after, "correction")


def test_inbox_scopes(client: FlaskClient, login: Login) -> None:
    first = step(start(client, login("xinghe")), "probe_review")
    second = step(start(client, login("lanhai")), "probe_review")
    client.post(f"{TASKS}/{first}/claim", headers=login("zhang.wei"))

    assert _inbox(client, login("zhang.wei"), "mine") == [first]
    assert _inbox(client, login("zhang.wei"), "groups") == [second]
    assert sorted(_inbox(client, login("zhang.wei"))) == sorted([first, second])
    assert _inbox(client, login("li.na")) == []
    assert _inbox(client, login("admin")) == []


def test_inbox_item_shape(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"))

    [item] = client.get(TASKS, headers=login("zhang.wei")).json

    assert set(item) == ITEM_KEYS
    assert item["instance_id"] == view["id"]
    assert item["reference"] == view["reference"]
    assert item["form_key"] == "probe_review"
    assert item["process_key"] == "api_probe"


def test_inbox_overdue_and_soonest_due_first(client: FlaskClient, login: Login) -> None:
    probe = step(start(client, login("xinghe")), "probe_review")  # due in 48 hours
    subsidy = step(start(client, login("xinghe"), "policy_subsidy", data=SUBSIDY_DATA),
                   "preliminary_review")  # due in 3 working days
    with time_machine.travel(utcnow() - timedelta(days=30)):
        old = step(start(client, login("lanhai")), "probe_review")  # overdue long ago

    response = client.get(TASKS, headers=login("zhang.wei"))

    assert [item["task_id"] for item in response.json] == [old, probe, subsidy]
    assert [item["overdue"] for item in response.json] == [True, False, False]


def test_inbox_pages(client: FlaskClient, login: Login) -> None:
    started = [step(start(client, login("xinghe")), "probe_review") for _ in range(3)]
    first = client.get(f"{TASKS}?limit=2", headers=login("zhang.wei"))
    link = first.headers["Link"]
    second = client.get(link[1:link.index(">")], headers=login("zhang.wei"))

    assert [i["task_id"] for i in first.json + second.json] == started
    assert "Link" not in second.headers


def test_inbox_query_errors(client: FlaskClient, login: Login) -> None:
    for query in ("?scope=everything", "?limit=-1", "?limit=1000"):
        assert client.get(f"{TASKS}{query}", headers=login("admin")).status_code == 422
    assert client.get(f"{TASKS}?cursor=%%%", headers=login("admin")).status_code == 400


def test_enterprise_inbox_holds_its_corrections(client: FlaskClient, login: Login) -> None:
    after, correction = _return_for_correction(client, login)

    assert after["current_steps"][0]["lane"] == "企业"
    assert _inbox(client, login("xinghe")) == [correction]
    assert _inbox(client, login("xinghe"), "groups") == [correction]
    assert _inbox(client, login("lanhai")) == []
    assert _inbox(client, login("zhang.wei")) == []
    assert client.get(f"{TASKS}/{correction}", headers=login("lanhai")).status_code == 404


def test_enterprise_completes_its_correction(client: FlaskClient, login: Login) -> None:
    _after, correction = _return_for_correction(client, login)
    url = f"{TASKS}/{correction}/complete"
    data = {"correction_note": "已补充审计报告", "attachments": ["营业执照.pdf", "审计报告.pdf"]}

    by_reviewer = client.post(url, json={"data": data}, headers=login("zhang.wei"))
    done = client.post(url, json={"data": data}, headers=login("xinghe"))

    # the reviewer sees the application (it was theirs to review) but this step is not theirs
    assert by_reviewer.status_code == 403
    assert done.status_code == 200, done.json
    assert [s["element_id"] for s in done.json["current_steps"]] == ["preliminary_review"]


def test_task_detail(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"), "policy_subsidy", data=SUBSIDY_DATA)
    task = step(view, "preliminary_review")

    response = client.get(f"{TASKS}/{task}", headers=login("zhang.wei"))

    assert response.status_code == 200
    detail = response.json
    assert set(detail) == ITEM_KEYS | {"form", "form_data", "context", "completed_by",
                                       "completed_at", "outcome", "approval", "urged",
                                       "handoffs"}
    assert detail["approval"] is None  # no approval mode on this task
    assert detail["form"]["title"] == "初审"
    # the review opens blank; the application is context beside it
    assert detail["form_data"] == {}
    assert detail["context"]["application"]["company_name"] == "星河科技有限公司"
    assert detail["context"]["decisions"] == []
    assert detail["status"] == "open"


def test_task_detail_of_a_completed_task_shows_what_was_submitted(client: FlaskClient,
                                                                  login: Login) -> None:
    task = step(start(client, login("xinghe")), "probe_review")
    client.post(f"{TASKS}/{task}/complete", json={"data": {"outcome": "reject",
                                                           "comment": "no"}},
                headers=login("zhang.wei"))

    detail = client.get(f"{TASKS}/{task}", headers=login("zhang.wei")).json

    assert detail["status"] == "completed"
    assert detail["completed_by"] == "zhang.wei"
    assert detail["outcome"] == "reject"
    assert detail["form_data"] == {"outcome": "reject", "comment": "no"}


def test_task_not_visible_to_uninvolved_staff(client: FlaskClient, login: Login) -> None:
    task = step(start(client, login("xinghe")), "probe_review")

    assert client.get(f"{TASKS}/{task}", headers=login("li.na")).status_code == 404
    assert client.get(f"{TASKS}/{task}", headers=login("admin")).status_code == 200
    # the applicant sees its application, and is told the reviewers' tasks are not its own
    refused = client.get(f"{TASKS}/{task}", headers=login("xinghe"))
    assert refused.status_code == 403 and error_code(refused) == "forbidden"
    assert "not among its candidates" in refused.json["error"]["message"]
    # another enterprise may not know the task exists
    assert client.get(f"{TASKS}/{task}", headers=login("lanhai")).status_code == 404


def test_claim_and_unclaim(client: FlaskClient, login: Login) -> None:
    task = step(start(client, login("xinghe")), "probe_review")
    zhang, admin = login("zhang.wei"), login("admin")

    claimed = client.post(f"{TASKS}/{task}/claim", headers=zhang)
    claimed_again = client.post(f"{TASKS}/{task}/claim", headers=zhang)
    by_admin = client.post(f"{TASKS}/{task}/claim", headers=admin)
    released = client.post(f"{TASKS}/{task}/unclaim", headers=zhang)
    released_again = client.post(f"{TASKS}/{task}/unclaim", headers=zhang)

    assert claimed.status_code == 200 and claimed.json["assignee"] == "zhang.wei"
    assert claimed_again.status_code == 200
    assert by_admin.status_code == 409
    assert "zhang.wei" in by_admin.json["error"]["message"]
    assert released.status_code == 200 and released.json["assignee"] is None
    assert released_again.status_code == 409


def test_claim_needs_a_candidate(client: FlaskClient, login: Login) -> None:
    task = step(start(client, login("xinghe")), "probe_review")

    # the admin sees the task but is not in 政策审核组
    response = client.post(f"{TASKS}/{task}/claim", headers=login("admin"))

    assert response.status_code == 403
    assert error_code(response) == "forbidden"


def test_unclaim_by_someone_else(client: FlaskClient, login: Login) -> None:
    task = step(start(client, login("xinghe")), "probe_review")
    client.post(f"{TASKS}/{task}/assign", json={"username": "li.na"}, headers=login("admin"))

    by_group_member = client.post(f"{TASKS}/{task}/unclaim", headers=login("zhang.wei"))
    by_admin = client.post(f"{TASKS}/{task}/unclaim", headers=login("admin"))

    assert by_group_member.status_code == 403
    assert by_admin.status_code == 200


def test_assign(client: FlaskClient, login: Login) -> None:
    task = step(start(client, login("xinghe")), "probe_review")
    url = f"{TASKS}/{task}/assign"

    by_reviewer = client.post(url, json={"username": "zhang.wei"}, headers=login("zhang.wei"))
    to_stranger = client.post(url, json={"username": "other.reviewer"}, headers=login("admin"))
    to_enterprise = client.post(url, json={"username": "xinghe"}, headers=login("admin"))
    no_body = client.post(url, headers=login("admin"))
    assigned = client.post(url, json={"username": "li.na"}, headers=login("admin"))

    assert by_reviewer.status_code == 403
    assert to_stranger.status_code == 422
    assert to_stranger.json["error"]["details"][0]["field"] == "username"
    assert to_enterprise.status_code == 422
    assert no_body.status_code == 422
    assert assigned.status_code == 200 and assigned.json["assignee"] == "li.na"
    assert _inbox(client, login("li.na"), "mine") == [task]
    # assigned to li.na: zhang.wei can no longer complete it
    done = client.post(f"{TASKS}/{task}/complete", json={"data": {"outcome": "approve"}},
                       headers=login("zhang.wei"))
    assert done.status_code == 403


def test_complete_errors(client: FlaskClient, login: Login) -> None:
    task = step(start(client, login("xinghe")), "probe_review")
    url = f"{TASKS}/{task}/complete"

    invalid = client.post(url, json={"data": {"outcome": "maybe", "comment": 5}},
                          headers=login("zhang.wei"))
    not_candidate = client.post(url, json={"data": {"outcome": "approve"}},
                                headers=login("admin"))
    done = client.post(url, json={"data": {"outcome": "approve"}}, headers=login("zhang.wei"))
    again = client.post(url, json={"data": {"outcome": "approve"}}, headers=login("zhang.wei"))

    assert invalid.status_code == 422
    assert {d["field"] for d in invalid.json["error"]["details"]} == {"outcome", "comment"}
    assert not_candidate.status_code == 403
    assert done.status_code == 200
    assert again.status_code == 409
    assert again.json["error"]["message"].startswith("“Review” was already completed by zhang.wei")


def test_actions_on_a_closed_task_are_409(client: FlaskClient, login: Login) -> None:
    task = step(start(client, login("xinghe")), "probe_review")
    client.post(f"{TASKS}/{task}/complete", json={"data": {"outcome": "approve"}},
                headers=login("zhang.wei"))

    for action, body in (("claim", None), ("unclaim", None), ("assign", {"username": "li.na"})):
        response = client.post(f"{TASKS}/{task}/{action}", json=body,
                               headers=login("admin" if action == "assign" else "zhang.wei"))
        assert response.status_code == 409, action


def test_absent_task(client: FlaskClient, login: Login) -> None:
    assert client.get(f"{TASKS}/nope", headers=login("admin")).status_code == 404
    for path in ("nope/claim", "nope/unclaim", "nope/complete", "nope/assign"):
        response = client.post(f"{TASKS}/{path}", json={"username": "li.na"} if
                               path.endswith("assign") else {}, headers=login("admin"))
        assert response.status_code == 404, path
