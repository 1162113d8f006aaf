"""The integrations pages in a browser: subscribe an address, see its deliveries, redeliver."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import LiveServer, unlabelled
from tests.e2e.test_screens import signed_in_as, wider_than_the_screen
from tests.webapp.fixtures import start
from tests.webapp.worker.stub_http import stub_server
from webapp.worker import Worker


@pytest.mark.parametrize("language", ["zh", "en"])
def test_an_admin_subscribes_and_reads_the_delivery_log(
    chromium: Browser, live_server: LiveServer, screenshots: Path, language: str
) -> None:
    page = signed_in_as(chromium, live_server, "admin", language, "desktop")
    with stub_server() as stub:
        stub.plan = [(503, 0.0)]
        page.goto(f"{live_server.url}/admin/integrations")
        assert unlabelled(page) == []
        page.locator("#f-url").fill(f"{stub.base}/parkflow")
        page.locator("#f-description").fill("财务系统")
        page.locator("input[name=events][value='application.started']").check()
        page.locator("input[name=events][value='application.finished']").check()
        page.locator("#new-subscription button[type=submit]").click()
        page.wait_for_url("**/admin/integrations/webhooks/*")

        start(live_server.db)  # one application: one delivery; the receiver answers 503
        worker = Worker(live_server.db, worker_id="e2e")
        worker.run_until_idle()
        page.reload()
        row = page.locator("#deliveries tbody tr").first
        assert "503" in row.inner_text()
        row.locator("button[type=submit]").click()  # redeliver: the receiver answers 200
        page.wait_for_url("**/admin/integrations/webhooks/*")
        worker.run_until_idle()
        page.reload()
        assert "200" in page.locator("#deliveries tbody tr").first.inner_text()
        assert len(stub.received) == 2
        assert unlabelled(page) == []
        assert not wider_than_the_screen(page)
        page.screenshot(path=str(screenshots / f"admin-webhook-{language}.png"), full_page=True)

        page.goto(f"{live_server.url}/admin/integrations")
        assert page.locator("#subscriptions tbody tr").count() == 1
        page.screenshot(
            path=str(screenshots / f"admin-integrations-{language}.png"), full_page=True
        )
