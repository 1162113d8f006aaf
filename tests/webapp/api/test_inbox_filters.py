"""``GET /api/v1/tasks`` narrowed by procedure, reference or enterprise, and overdue only."""

from __future__ import annotations

from datetime import timedelta

import time_machine
from flask.testing import FlaskClient

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import SUBSIDY_DATA, start, step
from webapp.db import utcnow

TASKS = "/api/v1/tasks"


def _inbox(client: FlaskClient, headers: dict[str, str], query: str) -> list[str]:
    response = client.get(f"{TASKS}{query}", headers=headers)
    assert response.status_code == 200, response.json
    return [item["task_id"] for item in response.json]


def test_the_inbox_narrowed_by_each_filter(client: FlaskClient, login: Login) -> None:
    probe_view = start(client, login("xinghe"))
    probe = step(probe_view, "probe_review")
    subsidy = step(
        start(client, login("xinghe"), "policy_subsidy", data=SUBSIDY_DATA), "preliminary_review"
    )
    with time_machine.travel(utcnow() - timedelta(days=30)):
        late = step(start(client, login("lanhai")), "probe_review")
    reviewer = login("zhang.wei")

    assert _inbox(client, reviewer, "") == [late, probe, subsidy]
    assert _inbox(client, reviewer, "?overdue=1") == [late]
    assert _inbox(client, reviewer, "?overdue=false") == [late, probe, subsidy]
    assert _inbox(client, reviewer, "?process_key=api_probe") == [late, probe]
    assert _inbox(client, reviewer, "?process_key=api_probe&overdue=true") == [late]
    assert _inbox(client, reviewer, f"?q={probe_view['reference']}") == [probe]
    assert _inbox(client, reviewer, "?q=星河") == [probe, subsidy]
    assert _inbox(client, reviewer, "?q=100%25") == []
    client.post(f"{TASKS}/{late}/claim", headers=reviewer)
    assert _inbox(client, reviewer, "?scope=mine&overdue=1") == [late]
    assert _inbox(client, reviewer, "?scope=groups&overdue=1") == []


def test_filtered_pages_carry_the_filter(client: FlaskClient, login: Login) -> None:
    started = [step(start(client, login("xinghe")), "probe_review") for _ in range(3)]
    step(start(client, login("xinghe"), "policy_subsidy", data=SUBSIDY_DATA), "preliminary_review")
    reviewer = login("zhang.wei")

    first = client.get(f"{TASKS}?process_key=api_probe&limit=2", headers=reviewer)
    link = first.headers["Link"]
    second = client.get(link[1 : link.index(">")], headers=reviewer)

    assert "process_key=api_probe" in link
    assert [i["task_id"] for i in first.json + second.json] == started
    assert "Link" not in second.headers
