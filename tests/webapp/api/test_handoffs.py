"""Hand-offs over the API: 转办, 委派, 加签 (before, after, parallel), 减签 and their refusals."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import SUBSIDY_DATA, error_code, start, step
from webapp.db import Database
from webapp.models import Job

TASKS = "/api/v1/tasks"
APPROVE = {"outcome": "approve", "comment": "同意"}
REJECT = {"outcome": "reject", "comment": "不同意"}


def _probe(client: FlaskClient, login: Login) -> str:
    return step(start(client, login("xinghe")), "probe_review")


def _post(
    client: FlaskClient, login: Login, who: str, task_id: str, action: str, body: dict[str, Any]
) -> Any:
    return client.post(f"{TASKS}/{task_id}/{action}", json=body, headers=login(who))


def _inbox(client: FlaskClient, login: Login, who: str) -> list[dict[str, Any]]:
    response = client.get(f"{TASKS}?scope=mine", headers=login(who))
    assert response.status_code == 200
    return list(response.json)


def _complete(
    client: FlaskClient, login: Login, who: str, task_id: str, data: dict[str, Any] = APPROVE
) -> Any:
    return client.post(f"{TASKS}/{task_id}/complete", json={"data": data}, headers=login(who))


def _audit(client: FlaskClient, login: Login, instance_id: str) -> list[dict[str, Any]]:
    response = client.get(
        f"/api/v1/instances/{instance_id}/audit?limit=500", headers=login("admin")
    )
    assert response.status_code == 200
    return list(response.json)


def _events(db: Database, kind: str) -> list[str | None]:
    """The task ids of the announcements of ``kind`` queued so far."""
    with db.read() as session:
        return [
            job.task_id
            for job in session.scalars(select(Job).where(Job.kind == "event"))
            if job.payload["event"] == kind
        ]


# --- 转办 ---------------------------------------------------------------------------------


def test_transfer_makes_the_task_theirs(client: FlaskClient, login: Login, parks: Database) -> None:
    task = _probe(client, login)

    response = _post(
        client, login, "zhang.wei", task, "transfer", {"username": "li.na", "comment": "请李娜办理"}
    )

    assert response.status_code == 200, response.json
    assert response.json["current_steps"][0]["assignee"] == "li.na"
    assert [t["task_id"] for t in _inbox(client, login, "li.na")] == [task]
    assert _complete(client, login, "zhang.wei", task).status_code == 403
    [event] = [
        e for e in _audit(client, login, response.json["id"]) if e["action"] == "task.transferred"
    ]
    assert event["actor"] == "zhang.wei"
    assert event["details"] == {
        "task_id": task,
        "element_id": "probe_review",
        "name": "Review",
        "to": "li.na",
        "comment": "请李娜办理",
    }
    assert _events(parks, "transferred") == [task]
    done = _complete(client, login, "li.na", task)
    assert done.status_code == 200, done.json
    assert done.json["history"][-1]["completed_by"] == "li.na"


def test_transfer_refusals(client: FlaskClient, login: Login) -> None:
    task = _probe(client, login)

    for username, reason in (
        ("zhang.wei", "is you"),
        ("nobody", "is not a member of this park"),
        ("other.reviewer", "is not a member of this park"),
        ("xinghe", "is an enterprise user"),
    ):
        refused = _post(client, login, "zhang.wei", task, "transfer", {"username": username})
        assert refused.status_code == 422, username
        assert error_code(refused) == "invalid"
        assert refused.json["error"]["details"] == [{"field": "username", "message": reason}]
    assert _post(client, login, "zhang.wei", task, "transfer", {}).status_code == 422
    # someone who can follow the application but does not hold the task
    assert _post(
        client, login, "li.na", task, "transfer", {"username": "wang.qiang"}
    ).status_code in (403, 404)
    assert (
        _post(client, login, "lanhai", task, "transfer", {"username": "li.na"}).status_code == 404
    )
    assert (
        _post(
            client, login, "zhang.wei", "no-such-task", "transfer", {"username": "li.na"}
        ).status_code
        == 404
    )


def test_transfer_by_the_old_holder_is_forbidden(client: FlaskClient, login: Login) -> None:
    task = _probe(client, login)
    assert (
        _post(client, login, "zhang.wei", task, "transfer", {"username": "li.na"}).status_code
        == 200
    )

    again = _post(client, login, "zhang.wei", task, "transfer", {"username": "wang.qiang"})

    assert again.status_code == 403
    assert error_code(again) == "forbidden"


def test_actions_on_a_finished_task_conflict(client: FlaskClient, login: Login) -> None:
    task = _probe(client, login)
    assert _complete(client, login, "zhang.wei", task).status_code == 200

    for action, body in (
        ("transfer", {"username": "li.na"}),
        ("delegate", {"username": "li.na"}),
        ("add-signers", {"usernames": ["li.na"], "position": "before"}),
        ("remove-signers", {"usernames": ["li.na"]}),
    ):
        refused = _post(client, login, "zhang.wei", task, action, body)
        assert refused.status_code == 409, action
        assert error_code(refused) == "conflict"


def test_transfer_is_idempotent(client: FlaskClient, login: Login) -> None:
    task = _probe(client, login)
    headers = {**login("zhang.wei"), "Idempotency-Key": "transfer-1"}

    first = client.post(f"{TASKS}/{task}/transfer", json={"username": "li.na"}, headers=headers)
    second = client.post(f"{TASKS}/{task}/transfer", json={"username": "li.na"}, headers=headers)

    assert first.status_code == second.status_code == 200
    assert second.headers.get("Idempotent-Replayed") == "true"
    assert second.json == first.json
    assert (
        len(
            [
                e
                for e in _audit(client, login, first.json["id"])
                if e["action"] == "task.transferred"
            ]
        )
        == 1
    )


# --- 委派 ---------------------------------------------------------------------------------


def test_delegate_round_trip(client: FlaskClient, login: Login, parks: Database) -> None:
    task = _probe(client, login)

    delegated = _post(
        client, login, "zhang.wei", task, "delegate", {"username": "li.na", "comment": "请先看一下"}
    )
    assert delegated.status_code == 200, delegated.json
    [row] = _inbox(client, login, "li.na")
    assert row["handoff_kind"] == "delegate" and row["parent_task_id"] == task
    detail = client.get(f"{TASKS}/{task}", headers=login("zhang.wei")).json
    assert detail["handoffs"]["delegation"] == {"to": "li.na", "state": "pending", "outcome": None}
    # the holder waits for the delegate
    waiting = _complete(client, login, "zhang.wei", task)
    assert waiting.status_code == 409
    assert "li.na" in waiting.json["error"]["message"]

    resolved = _complete(client, login, "li.na", row["task_id"], REJECT)
    assert resolved.status_code == 200, resolved.json
    assert _inbox(client, login, "li.na") == []
    back = client.get(f"{TASKS}/{task}", headers=login("zhang.wei")).json
    assert back["handoffs"]["delegation"]["state"] == "resolved"
    # the holder's form opens with the delegate's answer, to confirm or change
    assert back["form_data"]["outcome"] == "reject"
    assert [d["completed_by"] for d in back["context"]["decisions"]][-1] == "li.na"

    done = _complete(client, login, "zhang.wei", task, APPROVE)
    assert done.status_code == 200, done.json
    assert done.json["history"][-1]["completed_by"] == "zhang.wei"
    assert done.json["history"][-1]["outcome"] == "approve"
    actions = [e["action"] for e in _audit(client, login, done.json["id"])]
    assert actions.index("task.delegated") < actions.index("task.delegation_resolved")
    assert _events(parks, "delegated") == [row["task_id"]]
    assert _events(parks, "delegation_resolved") == [task]


def test_delegate_refusals(client: FlaskClient, login: Login) -> None:
    task = _probe(client, login)
    assert (
        _post(client, login, "zhang.wei", task, "delegate", {"username": "zhang.wei"}).status_code
        == 422
    )
    assert (
        _post(client, login, "zhang.wei", task, "delegate", {"username": "li.na"}).status_code
        == 200
    )
    # while delegated, no second delegation, transfer or signers
    for action, body in (
        ("delegate", {"username": "wang.qiang"}),
        ("transfer", {"username": "wang.qiang"}),
        ("add-signers", {"usernames": ["wang.qiang"], "position": "before"}),
    ):
        assert _post(client, login, "zhang.wei", task, action, body).status_code == 409, action
    [row] = _inbox(client, login, "li.na")
    # the delegate's row is not theirs to hand on
    assert (
        _post(
            client, login, "li.na", row["task_id"], "transfer", {"username": "wang.qiang"}
        ).status_code
        == 409
    )
    assert _post(
        client, login, "wang.qiang", row["task_id"], "transfer", {"username": "zhao.min"}
    ).status_code in (403, 404)


# --- 加签 / 减签 -------------------------------------------------------------------------


def test_signers_before(client: FlaskClient, login: Login, parks: Database) -> None:
    task = _probe(client, login)

    added = _post(
        client,
        login,
        "zhang.wei",
        task,
        "add-signers",
        {"usernames": ["li.na", "wang.qiang"], "position": "before", "comment": "请两位先会签"},
    )

    assert added.status_code == 200, added.json
    assert _complete(client, login, "zhang.wei", task).status_code == 409
    [li] = _inbox(client, login, "li.na")
    [wang] = _inbox(client, login, "wang.qiang")
    assert _complete(client, login, "li.na", li["task_id"]).status_code == 200
    assert _complete(client, login, "zhang.wei", task).status_code == 409
    assert _complete(client, login, "wang.qiang", wang["task_id"], REJECT).status_code == 200
    detail = client.get(f"{TASKS}/{task}", headers=login("zhang.wei")).json
    assert [(s["username"], s["status"], s["refused"]) for s in detail["handoffs"]["signers"]] == [
        ("li.na", "completed", False),
        ("wang.qiang", "completed", True),
    ]
    done = _complete(client, login, "zhang.wei", task)
    assert done.status_code == 200, done.json
    assert done.json["current_steps"] == []
    audit = _audit(client, login, done.json["id"])
    [event] = [e for e in audit if e["action"] == "task.signers_added"]
    assert event["details"]["usernames"] == ["li.na", "wang.qiang"]
    assert event["details"]["position"] == "before"
    assert event["details"]["comment"] == "请两位先会签"
    signed = [
        e
        for e in audit
        if e["action"] == "task.completed" and e["details"].get("signs_for") == task
    ]
    assert [(e["actor"], e["details"]["refused"]) for e in signed] == [
        ("li.na", False),
        ("wang.qiang", True),
    ]
    assert len(_events(parks, "signers_added")) == 2


def test_signers_after(client: FlaskClient, login: Login, parks: Database) -> None:
    task = _probe(client, login)
    assert (
        _post(
            client,
            login,
            "zhang.wei",
            task,
            "add-signers",
            {"usernames": ["li.na"], "position": "after"},
        ).status_code
        == 200
    )
    assert _inbox(client, login, "li.na") == []  # not before the holder decided
    assert _events(parks, "signers_added") == []

    held = _complete(client, login, "zhang.wei", task, {"outcome": "approve", "comment": "可"})

    assert held.status_code == 200, held.json
    assert [s["element_id"] for s in held.json["current_steps"]] == ["probe_review", "probe_review"]
    [row] = _inbox(client, login, "li.na")
    assert row["handoff_kind"] == "after"
    assert len(_events(parks, "signers_added")) == 1
    # decided once: the holder cannot complete again, nor hand it on
    assert _complete(client, login, "zhang.wei", task).status_code == 409
    signed = _complete(client, login, "li.na", row["task_id"])
    assert signed.status_code == 200, signed.json
    assert signed.json["current_steps"] == []
    steps = [(h["element_id"], h["kind"], h["completed_by"]) for h in signed.json["history"]]
    assert steps[-2:] == [
        ("probe_review", "Signature", "li.na"),
        ("probe_review", "UserTask", "zhang.wei"),
    ]


def test_signers_parallel(client: FlaskClient, login: Login) -> None:
    task = _probe(client, login)
    assert (
        _post(
            client,
            login,
            "zhang.wei",
            task,
            "add-signers",
            {"usernames": ["li.na"], "position": "parallel"},
        ).status_code
        == 200
    )
    [row] = _inbox(client, login, "li.na")

    holder_first = _complete(client, login, "zhang.wei", task)
    assert holder_first.status_code == 200
    assert len(holder_first.json["current_steps"]) == 2
    done = _complete(client, login, "li.na", row["task_id"])

    assert done.status_code == 200, done.json
    assert done.json["current_steps"] == []
    assert done.json["history"][-1]["completed_by"] == "zhang.wei"


def test_add_signers_refusals(client: FlaskClient, login: Login) -> None:
    task = _probe(client, login)
    url_body = {"position": "before"}

    myself = _post(
        client, login, "zhang.wei", task, "add-signers", {**url_body, "usernames": ["zhang.wei"]}
    )
    strangers = _post(
        client,
        login,
        "zhang.wei",
        task,
        "add-signers",
        {**url_body, "usernames": ["xinghe", "other.admin"]},
    )
    bad_position = _post(
        client,
        login,
        "zhang.wei",
        task,
        "add-signers",
        {"usernames": ["li.na"], "position": "sideways"},
    )
    empty = _post(client, login, "zhang.wei", task, "add-signers", {**url_body, "usernames": []})

    assert myself.status_code == 422
    assert myself.json["error"]["details"] == [
        {"field": "usernames", "message": "zhang.wei is you"}
    ]
    assert strangers.status_code == 422
    assert [d["message"] for d in strangers.json["error"]["details"]] == [
        "xinghe is an enterprise user",
        "other.admin is not a member of this park",
    ]
    assert bad_position.status_code == 422 and empty.status_code == 422
    assert (
        _post(
            client, login, "zhang.wei", task, "add-signers", {**url_body, "usernames": ["li.na"]}
        ).status_code
        == 200
    )
    twice = _post(
        client,
        login,
        "zhang.wei",
        task,
        "add-signers",
        {"usernames": ["li.na"], "position": "parallel"},
    )
    assert twice.status_code == 409
    assert "li.na already signs" in twice.json["error"]["message"]
    # not the holder
    assert _post(
        client, login, "wang.qiang", task, "add-signers", {**url_body, "usernames": ["zhao.min"]}
    ).status_code in (403, 404)


def test_remove_signers(client: FlaskClient, login: Login) -> None:
    task = _probe(client, login)
    assert (
        _post(
            client,
            login,
            "zhang.wei",
            task,
            "add-signers",
            {"usernames": ["li.na", "wang.qiang"], "position": "before"},
        ).status_code
        == 200
    )
    [li] = _inbox(client, login, "li.na")
    assert _complete(client, login, "li.na", li["task_id"]).status_code == 200

    signed = _post(client, login, "zhang.wei", task, "remove-signers", {"usernames": ["li.na"]})
    stranger = _post(
        client, login, "zhang.wei", task, "remove-signers", {"usernames": ["zhao.min"]}
    )
    not_holder = _post(
        client, login, "wang.qiang", task, "remove-signers", {"usernames": ["wang.qiang"]}
    )
    removed = _post(
        client,
        login,
        "zhang.wei",
        task,
        "remove-signers",
        {"usernames": ["wang.qiang"], "comment": "不需要了"},
    )

    assert signed.status_code == 409
    assert "li.na already signed" in signed.json["error"]["message"]
    assert stranger.status_code == 422
    assert not_holder.status_code in (403, 404)
    assert removed.status_code == 200, removed.json
    assert _inbox(client, login, "wang.qiang") == []
    assert _complete(client, login, "zhang.wei", task).status_code == 200
    [event] = [
        e
        for e in _audit(client, login, removed.json["id"])
        if e["action"] == "task.signers_removed"
    ]
    assert event["details"]["usernames"] == ["wang.qiang"]
    assert event["details"]["comment"] == "不需要了"


def test_removing_the_last_parallel_signer_lets_the_flow_move_on(
    client: FlaskClient, login: Login
) -> None:
    task = _probe(client, login)
    _post(
        client,
        login,
        "zhang.wei",
        task,
        "add-signers",
        {"usernames": ["li.na"], "position": "parallel"},
    )
    assert _complete(client, login, "zhang.wei", task).status_code == 200

    removed = _post(client, login, "zhang.wei", task, "remove-signers", {"usernames": ["li.na"]})

    # the holder's decision was held for li.na alone: without her it goes to the engine
    assert removed.status_code == 200, removed.json
    assert removed.json["current_steps"] == []
    assert removed.json["history"][-1]["completed_by"] == "zhang.wei"


# --- between steps ------------------------------------------------------------------------


def test_transfer_then_signer_before_then_next_step_sees_the_decision(
    client: FlaskClient, login: Login
) -> None:
    view = start(client, login("xinghe"), "policy_subsidy", data=SUBSIDY_DATA)
    review = step(view, "preliminary_review")
    # A (zhang.wei) transfers to B (chen.jie); B adds C (zhao.min) before; C signs; B completes
    assert (
        _post(client, login, "zhang.wei", review, "transfer", {"username": "chen.jie"}).status_code
        == 200
    )
    assert (
        _post(
            client,
            login,
            "chen.jie",
            review,
            "add-signers",
            {"usernames": ["zhao.min"], "position": "before"},
        ).status_code
        == 200
    )
    [signature] = _inbox(client, login, "zhao.min")
    assert (
        _complete(
            client,
            login,
            "zhao.min",
            signature["task_id"],
            {"outcome": "approve", "comment": "财务无异议"},
        ).status_code
        == 200
    )

    after = _complete(
        client, login, "chen.jie", review, {"outcome": "approve", "comment": "材料齐全，同意受理。"}
    )

    assert after.status_code == 200, after.json
    director = step(after.json, "director_review")
    detail = client.get(f"{TASKS}/{director}", headers=login("li.na")).json
    decisions = [
        (d["element_id"], d["completed_by"], d["data"].get("comment"))
        for d in detail["context"]["decisions"]
    ]
    assert decisions[-2:] == [
        ("preliminary_review", "zhao.min", "财务无异议"),
        ("preliminary_review", "chen.jie", "材料齐全，同意受理。"),
    ]
