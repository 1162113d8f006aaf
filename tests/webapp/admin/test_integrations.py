"""The integrations page: webhook subscriptions with their delivery log, the connector's
allow-list and secrets, in Chinese by default; bad input comes back with the form."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime

from sqlalchemy import select

from tests.webapp.admin.helpers import audits
from tests.webapp.admin.test_park_settings import field_error, park
from tests.webapp.apptools import Browser, text_of
from webapp.db import Database
from webapp.models import WebhookDelivery, WebhookSubscription
from webapp.services import webhooks
from webapp.services.accounts import get_park


def subscription_id(response_location: str) -> str:
    found = re.search(r"/admin/integrations/webhooks/([\w-]+)$", response_location)
    assert found is not None, response_location
    return found.group(1)


def test_an_admin_subscribes_edits_disables_and_redelivers(parks: Database, admin: Browser) -> None:
    page = text_of(admin.get("/admin/integrations"))
    assert "集成" in page and "订阅" in page and "允许调用的地址" in page

    made = admin.post(
        "/admin/integrations/webhooks",
        {
            "url": "https://finance.park.example/events",
            "description": "财务系统",
            "events": ["application.started", "task.overdue"],
        },
    )
    assert made.status_code == 302
    sub_id = subscription_id(made.headers["Location"])
    shown = text_of(admin.get(f"/admin/integrations/webhooks/{sub_id}"))
    with parks.read() as session:
        sub = session.get_one(WebhookSubscription, sub_id)
        assert sub.events == ["application.started", "task.overdue"]
        assert sub.secret in shown
        old_secret = sub.secret
    assert "签名密钥" in shown and "暂无投递记录" in shown

    # a delivery in the log, sent again from the page
    with parks.write() as session:
        demo = get_park(session, "demo")
        (job,) = webhooks.queue(
            session, demo, None, [webhooks.Event("task.overdue", {})], datetime.now(UTC)
        )
        delivery_id = job["payload"]["delivery_id"]
    log = text_of(admin.get(f"/admin/integrations/webhooks/{sub_id}"))
    assert f'data-delivery="{delivery_id}"' in log and "任务逾期" in log and "待发送" in log
    again = admin.post(f"/admin/integrations/deliveries/{delivery_id}/redeliver")
    assert again.status_code == 302

    saved = admin.post(
        f"/admin/integrations/webhooks/{sub_id}",
        {
            "url": "https://finance.park.example/v2",
            "description": "",
            "events": ["application.finished"],
        },
    )  # the "enabled" box left unticked: disabled
    assert saved.status_code == 302
    assert admin.post(f"/admin/integrations/webhooks/{sub_id}/secret").status_code == 302
    with parks.read() as session:
        sub = session.get_one(WebhookSubscription, sub_id)
        assert (sub.url, sub.events, sub.enabled) == (
            "https://finance.park.example/v2",
            ["application.finished"],
            False,
        )
        assert sub.secret != old_secret
        assert session.get_one(WebhookDelivery, delivery_id).status == "pending"
    assert park(parks).settings["webhook_events"] == []
    assert [a.action for a in audits(parks, "webhook.disabled")] == ["webhook.disabled"]
    assert len(audits(parks, "webhook.redelivered")) == 1
    assert "已停用" in text_of(admin.get("/admin/integrations"))


def test_a_bad_subscription_comes_back_with_the_form(parks: Database, admin: Browser) -> None:
    answer = admin.post(
        "/admin/integrations/webhooks",
        {"url": "ftp://finance", "description": "保留的说明", "events": []},
    )
    assert answer.status_code == 422
    html = text_of(answer)
    assert "请填写以 http:// 或 https:// 开头的网址。" in field_error(html, "url")
    assert "保留的说明" in html
    answer = admin.post("/admin/integrations/webhooks", {"url": "https://finance.example"})
    assert answer.status_code == 422
    assert "请至少选择一个事件。" in field_error(text_of(answer), "events")
    with parks.read() as session:
        assert session.scalars(select(WebhookSubscription)).all() == []


def test_the_allow_list_and_secrets_are_saved_and_the_value_never_shown(
    parks: Database, admin: Browser
) -> None:
    saved = admin.post(
        "/admin/integrations/allowlist",
        {"allowlist": "https://bank.example/api\n\nhttps://tax.example/"},
    )
    assert saved.status_code == 302
    assert park(parks).settings["http_allowlist"] == [
        "https://bank.example/api",
        "https://tax.example/",
    ]
    bad = admin.post("/admin/integrations/allowlist", {"allowlist": "bank.example"})
    assert bad.status_code == 422
    assert "http://" in field_error(text_of(bad), "allowlist")

    assert (
        admin.post(
            "/admin/integrations/secrets", {"name": "bank_token", "value": "s3cr3t-value"}
        ).status_code
        == 302
    )
    page = text_of(admin.get("/admin/integrations"))
    assert 'data-secret="bank_token"' in page and "s3cr3t-value" not in page
    bad = admin.post("/admin/integrations/secrets", {"name": "9x", "value": "v"})
    assert bad.status_code == 422
    assert field_error(text_of(bad), "name")
    assert admin.post("/admin/integrations/secrets/bank_token/remove").status_code == 302
    assert admin.post("/admin/integrations/secrets/bank_token/remove").status_code == 404
    assert all(
        "s3cr3t-value" not in str(a.details) + str(a.after)
        for a in audits(parks, "park.secret_set")
    )


def test_another_parks_subscription_is_not_found(
    parks: Database, browser: Callable[[str | None], Browser]
) -> None:
    with parks.write() as session:
        sub = webhooks.subscribe(
            session,
            get_park(session, "demo"),
            actor="admin",
            url="https://x.example/h",
            events=["task.overdue"],
            now=datetime.now(UTC),
        )
        sub_id = sub.id
    other = browser("other.admin")
    assert other.get(f"/admin/integrations/webhooks/{sub_id}").status_code == 404
    assert other.post(f"/admin/integrations/webhooks/{sub_id}/secret").status_code == 404
    assert browser("zhang.wei").get("/admin/integrations").status_code == 403
