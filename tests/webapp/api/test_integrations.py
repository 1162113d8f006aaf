"""The API of a park's webhooks and HTTP connector settings: admins only, bad input 4xx."""

from __future__ import annotations

import io

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.engine.test_http_connector import PAY, diagram
from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import error_code, start
from webapp.db import Database
from webapp.models import AuditEvent, WebhookDelivery
from webapp.worker import Worker

HOOKS = "/api/v1/parks/demo/webhooks"


def test_an_admin_subscribes_changes_disables_and_reads_the_log(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    admin = login("admin")
    made = client.post(
        HOOKS,
        headers=admin,
        json={
            "url": "http://127.0.0.1:9/hook",
            "events": ["application.started"],
            "description": "财务系统",
        },
    )
    assert made.status_code == 201, made.json
    sub = made.json
    assert sub["secret"].startswith("whsec_") and sub["enabled"] is True
    assert [s["id"] for s in client.get(HOOKS, headers=admin).json] == [sub["id"]]

    start(client, login("xinghe"))  # the probe procedure: one delivery is queued
    log = client.get(f"{HOOKS}/{sub['id']}/deliveries", headers=admin)
    assert log.status_code == 200
    (delivery,) = log.json
    assert (delivery["event"], delivery["status"], delivery["attempts"]) == (
        "application.started",
        "pending",
        0,
    )

    # nobody listens on port 9: the attempt is logged, with no status code
    Worker(parks, worker_id="w").run_until_idle()
    (delivery,) = client.get(f"{HOOKS}/{sub['id']}/deliveries", headers=admin).json
    assert (delivery["status"], delivery["attempts"], delivery["last_status_code"]) == (
        "pending",
        1,
        None,
    )
    assert delivery["last_error"] and delivery["next_attempt_at"]
    changed = client.patch(
        f"{HOOKS}/{sub['id']}", headers=admin, json={"enabled": False, "new_secret": True}
    )
    assert changed.status_code == 200
    assert changed.json["enabled"] is False and changed.json["secret"] != sub["secret"]
    again = client.post(
        f"/api/v1/parks/demo/webhook-deliveries/{delivery['id']}/redeliver", headers=admin
    )
    assert again.status_code == 200 and again.json["status"] == "pending"
    with parks.read() as session:
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.like("webhook.%"))
            .order_by(AuditEvent.id)
        ).all()
        assert session.scalars(select(WebhookDelivery.status)).all() == ["pending"]
    assert actions == ["webhook.subscribed", "webhook.disabled", "webhook.redelivered"]


def test_bad_subscriptions_and_strangers_are_refused(client: FlaskClient, login: Login) -> None:
    admin = login("admin")
    for body in (
        {"url": "ftp://x", "events": ["task.overdue"]},
        {"url": "https://x.example", "events": []},
        {"url": "https://x.example", "events": ["exploded"]},
        {"url": "https://x.example"},
    ):
        response = client.post(HOOKS, headers=admin, json=body)
        assert response.status_code == 422, body
        error_code(response)
    assert (
        client.post(
            HOOKS,
            headers=login("zhang.wei"),
            json={"url": "https://x.example", "events": ["task.overdue"]},
        ).status_code
        == 403
    )
    assert client.get("/api/v1/parks/other/webhooks", headers=admin).status_code == 404
    assert client.get(f"{HOOKS}/nope/deliveries", headers=admin).status_code == 404
    assert (
        client.patch(f"{HOOKS}/{'x' * 50}", headers=admin, json={"enabled": False}).status_code
        == 404
    )
    assert (
        client.post(
            "/api/v1/parks/demo/webhook-deliveries/nope/redeliver", headers=admin
        ).status_code
        == 404
    )


def test_connector_settings_keep_secret_values_write_only(
    client: FlaskClient, login: Login
) -> None:
    admin = login("admin")
    base = "/api/v1/parks/demo"
    put = client.put(
        f"{base}/http-connector/allowlist",
        headers=admin,
        json={"allowlist": ["https://bank.example/api", " "]},
    )
    assert put.status_code == 200
    assert put.json == {"allowlist": ["https://bank.example/api"], "secrets": []}
    assert (
        client.put(
            f"{base}/secrets/bank_token", headers=admin, json={"value": "s3cr3t"}
        ).status_code
        == 204
    )
    shown = client.get(f"{base}/http-connector", headers=admin)
    assert shown.json == {"allowlist": ["https://bank.example/api"], "secrets": ["bank_token"]}
    assert "s3cr3t" not in shown.get_data(as_text=True)
    assert client.put(f"{base}/secrets/1bad", headers=admin, json={"value": "x"}).status_code == 422
    assert (
        client.put(
            f"{base}/http-connector/allowlist",
            headers=admin,
            json={"allowlist": ["javascript:alert(1)"]},
        ).status_code
        == 422
    )
    assert client.get(f"{base}/http-connector", headers=login("zhang.wei")).status_code == 403
    assert client.delete(f"{base}/secrets/bank_token", headers=admin).status_code == 204
    assert client.delete(f"{base}/secrets/bank_token", headers=admin).status_code == 404


def test_deploying_a_connector_without_a_url_is_refused_with_its_code(
    client: FlaskClient, login: Login
) -> None:
    properties = {name: value for name, value in PAY.items() if name != "url"}
    bpmn = diagram(properties)
    response = client.post(
        "/api/v1/parks/demo/processes",
        headers=login("admin"),
        content_type="multipart/form-data",
        data={"bpmn": [(io.BytesIO(bpmn.encode()), "pay.bpmn")]},
    )
    assert response.status_code == 422
    problems = response.json["error"]["details"]
    assert any(problem.get("code") == "http_without_url" for problem in problems), problems
