"""An application's view carries its latest steps; the rest is read page by page.

However long an application lived, its view (and so the answer to every completion) holds
the latest ``RECENT`` steps and the address of the rest; ``GET .../history`` lists them all,
oldest first, keyset-paged like every list.
"""

from __future__ import annotations

import json
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import event

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import SUBSIDY_DATA, complete_step, error_code, start
from tests.webapp.fixtures import CORRECTION, REASONS, complete
from webapp.db import Database
from webapp.models import Instance
from webapp.services import resubmission
from webapp.services.history import RECENT, history_path

RETURN = {"outcome": "return", "return_reasons": REASONS}


def _looped(client: FlaskClient, login: Login, parks: Database, rounds: int) -> str:
    """An application returned for correction ``rounds`` times, through the services."""
    instance_id = str(start(client, login("xinghe"), "policy_subsidy", data=SUBSIDY_DATA)["id"])
    for _ in range(rounds):
        complete(parks, instance_id, "preliminary_review", RETURN, "zhang.wei")
        complete(parks, instance_id, "correction", CORRECTION, "xinghe")
    return instance_id


def _all_pages(
    client: FlaskClient, headers: dict[str, str], url: str
) -> tuple[list[dict[str, Any]], int]:
    """Every entry of a paged list, following its Link headers; and how many pages."""
    entries: list[dict[str, Any]] = []
    pages = 0
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.json
        entries += response.json
        pages += 1
        link = response.headers.get("Link")
        url = link[1 : link.index(">")] if link else ""
    return entries, pages


def test_a_new_application_lists_its_whole_history(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"), "policy_subsidy", data=SUBSIDY_DATA)

    assert view["history_next"] is None
    assert [entry["kind"] for entry in view["history"]] == ["StartEvent"]
    response = client.get(history_path(view["id"]), headers=login("xinghe"))
    assert response.status_code == 200
    assert response.json == view["history"]
    assert "Link" not in response.headers


def test_the_view_carries_the_latest_steps_and_where_the_rest_is(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    instance_id = _looped(client, login, parks, rounds=12)

    view = client.get(f"/api/v1/instances/{instance_id}", headers=login("xinghe")).json
    everything, pages = _all_pages(client, login("xinghe"), view["history_next"])

    assert view["history_next"] == history_path(instance_id)
    assert len(everything) == 1 + 2 * 12 and pages == 1
    assert everything[0]["kind"] == "StartEvent"
    assert len(view["history"]) == RECENT
    assert view["history"] == everything[-RECENT:]


def test_history_pages_follow_the_cursor_to_the_end(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    instance_id = _looped(client, login, parks, rounds=5)
    headers = login("zhang.wei")

    first = client.get(f"{history_path(instance_id)}?limit=4", headers=headers)
    everything, pages = _all_pages(client, headers, f"{history_path(instance_id)}?limit=4")
    whole = client.get(history_path(instance_id), headers=headers).json

    assert len(first.json) == 4
    assert "cursor=" in first.headers["Link"] and "limit=4" in first.headers["Link"]
    assert everything == whole and len(whole) == 11
    assert pages == 3  # 4 + 4 + 3, the last without a Link
    assert [entry["outcome"] for entry in whole[1:5]] == ["return", None, "return", None]


def test_history_refuses_bad_cursors_and_strangers(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    instance_id = _looped(client, login, parks, rounds=1)

    bad = client.get(f"{history_path(instance_id)}?cursor=WyJ4Il0", headers=login("xinghe"))
    assert bad.status_code == 400 and error_code(bad) == "bad_cursor"
    assert (
        client.get(f"{history_path(instance_id)}?limit=0", headers=login("xinghe")).status_code
        == 422
    )
    stranger = client.get(history_path(instance_id), headers=login("other.admin"))
    assert stranger.status_code == 404
    assert client.get(history_path("nobody"), headers=login("xinghe")).status_code == 404


def test_after_300_rounds_the_completion_answer_is_as_long_as_after_11(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    instance_id = _looped(client, login, parks, rounds=10)
    view = client.get(f"/api/v1/instances/{instance_id}", headers=login("xinghe")).json
    view = complete_step(client, login, view, "preliminary_review", RETURN)
    after_11 = complete_step(client, login, view, "correction", CORRECTION, who="xinghe")
    for _ in range(288):
        complete(parks, instance_id, "preliminary_review", RETURN, "zhang.wei")
        complete(parks, instance_id, "correction", CORRECTION, "xinghe")

    view = client.get(f"/api/v1/instances/{instance_id}", headers=login("xinghe")).json
    view = complete_step(client, login, view, "preliminary_review", RETURN)
    answer = client.post(
        f"/api/v1/tasks/{view['current_steps'][0]['task_id']}/complete",
        json={"data": CORRECTION},
        headers=login("xinghe"),
    )

    after_300 = answer.json
    assert answer.status_code == 200
    assert len(after_300["history"]) == len(after_11["history"]) == RECENT
    assert after_300["history_next"] == history_path(instance_id)
    # the same steps (ids and times aside): the answer did not grow with the rounds
    assert abs(len(json.dumps(after_300)) - len(json.dumps(after_11))) < 50
    assert [e["element_id"] for e in after_300["history"]] == [
        e["element_id"] for e in after_11["history"]
    ]
    entries, _ = _all_pages(client, login("xinghe"), f"{history_path(instance_id)}?limit=500")
    assert len(entries) == 1 + 2 * 300


def _step_history_reads(parks: Database, read: Any) -> list[str]:
    """The statements on step_history that ``read`` runs."""
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "step_history" in statement:
            seen.append(statement)

    event.listen(parks.engine, "before_cursor_execute", record)
    try:
        read()
    finally:
        event.remove(parks.engine, "before_cursor_execute", record)
    return seen


def test_a_resubmission_is_told_from_the_latest_rounds_alone(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    instance_id = _looped(client, login, parks, rounds=12)
    complete(parks, instance_id, "preliminary_review", RETURN, "zhang.wei")
    # the amount was last sent by the application itself, twelve rounds ago
    complete(parks, instance_id, "correction", {**CORRECTION, "requested_amount": 150000}, "xinghe")
    with parks.read() as session:
        instance = session.get_one(Instance, instance_id)
        reads = _step_history_reads(parks, lambda: resubmission.latest(session, instance))
        found = resubmission.latest(session, instance)

    assert found is not None and found.note == CORRECTION["correction_note"]
    assert [(c.field, c.old, c.new) for c in found.changes] == [
        ("requested_amount", SUBSIDY_DATA["requested_amount"], 150000)
    ]
    assert reads and all("LIMIT" in statement for statement in reads)

    # a round that sends what the one before it sent is told from those two rounds
    complete(parks, instance_id, "preliminary_review", RETURN, "zhang.wei")
    complete(parks, instance_id, "correction", CORRECTION, "xinghe")
    with parks.read() as session:
        instance = session.get_one(Instance, instance_id)
        reads = _step_history_reads(parks, lambda: resubmission.latest(session, instance))
        found = resubmission.latest(session, instance)
    assert found is not None and found.changes == [] and len(reads) == 1


def test_the_task_view_of_a_resubmission_after_many_rounds(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    instance_id = _looped(client, login, parks, rounds=6)
    view = client.get(f"/api/v1/instances/{instance_id}", headers=login("xinghe")).json

    task = client.get(
        f"/api/v1/tasks/{view['current_steps'][0]['task_id']}", headers=login("zhang.wei")
    ).json

    sent = task["context"]["resubmission"]
    assert (
        len(task["context"]["decisions"]) == 12 and task["context"]["decisions_truncated"] is False
    )
    assert sent["note"] == CORRECTION["correction_note"] and sent["changes"] == []
    assert [f["change"] for f in sent["files"]] == []


def test_a_task_carries_the_latest_decisions_and_says_earlier_ones_exist(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    instance_id = _looped(client, login, parks, rounds=15)
    view = client.get(f"/api/v1/instances/{instance_id}", headers=login("xinghe")).json

    task = client.get(
        f"/api/v1/tasks/{view['current_steps'][0]['task_id']}", headers=login("zhang.wei")
    ).json

    decided = task["context"]["decisions"]
    assert len(decided) == 20 and task["context"]["decisions_truncated"] is True
    assert [d["element_id"] for d in decided[-2:]] == ["preliminary_review", "correction"]
    assert decided[-1]["data"] == CORRECTION
