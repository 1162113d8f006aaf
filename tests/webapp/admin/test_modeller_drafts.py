"""The modeler's drafts: saved per person and procedure, read back, discarded; bad input 4xx."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.test import TestResponse

from tests.webapp.admin.conftest import OTHER_ADMIN
from tests.webapp.admin.helpers import POLICY_SUBSIDY, audits
from tests.webapp.apptools import Browser
from webapp.db import Database

URL = "/admin/modeler/draft"
TARGET = "process:policy_subsidy"
DRAWN = POLICY_SUBSIDY.replace('camunda:dueDate="3WD"', 'camunda:dueDate="5WD"')


def put(browser: Browser, body: Any) -> TestResponse:
    return browser.client.put(
        URL, json=body, headers={"X-CSRFToken": browser.token, "Accept": "application/json"}
    )


def delete(browser: Browser, query: str) -> TestResponse:
    return browser.client.delete(
        f"{URL}?{query}", headers={"X-CSRFToken": browser.token, "Accept": "application/json"}
    )


def test_a_draft_is_saved_read_back_and_discarded(
    parks: Database, admin: Browser, browser: Callable[[str | None], Browser]
) -> None:
    assert admin.get(f"{URL}?target={TARGET}").get_json() == {"draft": None}
    assert put(admin, {"target": TARGET, "xml": POLICY_SUBSIDY}).status_code == 200
    saved = put(admin, {"target": TARGET, "xml": DRAWN})
    assert saved.status_code == 200 and saved.get_json()["saved_at"]
    draft = admin.get(f"{URL}?target={TARGET}").get_json()["draft"]
    assert draft["xml"] == DRAWN and draft["saved_at"] == saved.get_json()["saved_at"]
    # one person's draft is theirs: another procedure, another park's administrator see none
    assert admin.get(f"{URL}?target=process:tax_docking").get_json() == {"draft": None}
    other = browser(OTHER_ADMIN)
    assert other.get(f"{URL}?target={TARGET}").get_json() == {"draft": None}
    assert [e.details for e in audits(parks, "modeller.draft_started")] == [{"target": TARGET}]

    assert delete(admin, f"target={TARGET}").get_json() == {"discarded": True}
    assert admin.get(f"{URL}?target={TARGET}").get_json() == {"draft": None}
    assert delete(admin, f"target={TARGET}").get_json() == {"discarded": False}
    assert [e.details for e in audits(parks, "modeller.draft_discarded")] == [
        {"target": TARGET, "reason": "discarded"}
    ]


def test_bad_drafts_are_refused_with_a_reason(admin: Browser) -> None:
    for body in ({}, ["x"], {"target": TARGET}, {"target": TARGET, "xml": 5}):
        answer = put(admin, body)
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "malformed"
    for target in ("", "tax_docking", "process:" + "x" * 400, None):
        answer = put(admin, {"target": target, "xml": "<a/>"})
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "bad_target"
    assert admin.get(f"{URL}").status_code == 400
    for xml in ("   ", "<a>\x00</a>", "x" * 5_000_001):
        answer = put(admin, {"target": TARGET, "xml": xml})
        assert answer.status_code == 422 and answer.get_json()["error"]["code"] == "invalid_draft"
    # without the page's CSRF token nothing is saved
    refused = admin.client.put(
        URL, json={"target": TARGET, "xml": "<a/>"}, headers={"Accept": "application/json"}
    )
    assert refused.status_code == 400
