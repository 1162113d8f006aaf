"""The pages run under their Content-Security-Policy: nothing they need is refused."""

from __future__ import annotations

from playwright.sync_api import Browser, ConsoleMessage

from tests.e2e.conftest import SCREENSHOTS, LiveServer
from tests.webapp.apptools import PASSWORD

TIMEOUT_MS = 30_000
# the pages with the most script: the modeler, the inbox and an application with its diagram
PAGES = ["/admin/processes/policy_subsidy/edit", "/admin/processes", "/inbox"]


def test_no_page_breaks_its_content_security_policy(
    chromium: Browser, live_server: LiveServer
) -> None:
    context = chromium.new_context(locale="en-US", viewport={"width": 1366, "height": 900})
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    refused: list[str] = []
    errors: list[str] = []

    def listen(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(f"{page.url}: {message.text}")

    page.on("console", listen)
    page.on("pageerror", lambda exc: errors.append(f"{page.url}: {exc}"))
    try:
        page.goto(f"{live_server.url}/login")
        page.fill("#username", "admin")
        page.fill("#password", PASSWORD)
        page.locator('form[action="/login"] button[type="submit"]').click()
        page.wait_for_url(lambda url: "/login" not in url)
        for path in PAGES:
            page.goto(f"{live_server.url}{path}")
            page.wait_for_load_state("networkidle")
        page.goto(f"{live_server.url}/admin/processes/policy_subsidy/edit")
        page.wait_for_selector(".djs-element", state="attached")
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / "policy-modeler.png"), full_page=True)
    finally:
        context.close()

    assert refused == [] and errors == []
