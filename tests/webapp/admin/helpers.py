"""Shared steps of the administration tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import select
from werkzeug.test import TestResponse

from tests.webapp.apptools import Browser
from tests.webapp.fixtures import PROCESSES
from webapp.db import Database
from webapp.models import AuditEvent, Park, ProcessDefinition

DATA = Path(__file__).parent / "data"
POLICY_SUBSIDY = (PROCESSES / "policy_subsidy.bpmn").read_text(encoding="utf-8")
EXPORT = (DATA / "camunda_modeler_export.bpmn").read_text(encoding="utf-8")
PERMIT_FORM = json.loads((DATA / "visitor_permit_review.json").read_text(encoding="utf-8"))


def post_json(browser: Browser, url: str, body: Any) -> TestResponse:
    """POST JSON as the modeler's scripts do: CSRF token in the header, JSON accepted."""
    return browser.client.post(url, json=body, headers={"X-CSRFToken": browser.token,
                                                        "Accept": "application/json"})


def versions(db: Database, key: str, park: str = "demo") -> list[int]:
    """The deployed versions of a procedure in a park."""
    with db.read() as session:
        return list(session.scalars(
            select(ProcessDefinition.version).join(Park, Park.id == ProcessDefinition.park_id)
            .where(Park.slug == park, ProcessDefinition.key == key)
            .order_by(ProcessDefinition.version)))


def definition(db: Database, key: str, version: int, park: str = "demo") -> ProcessDefinition:
    """One deployed version, with its sources loaded."""
    with db.read() as session:
        found = session.scalars(
            select(ProcessDefinition).join(Park, Park.id == ProcessDefinition.park_id)
            .where(Park.slug == park, ProcessDefinition.key == key,
                   ProcessDefinition.version == version)).one()
        found.bpmn_xml, found.forms  # noqa: B018 -- load the deferred columns
        session.expunge(found)
        return found


def audits(db: Database, action: str) -> list[AuditEvent]:
    """The audit events of one kind, oldest first."""
    with db.read() as session:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)
                                    .order_by(AuditEvent.id)))
        session.expunge_all()
        return rows


def create_permit_form(admin: Browser) -> None:
    """Save the visitor permit's review form through the form editor."""
    answer = admin.post("/admin/forms/new", {"key": "visitor_permit_review",
                                             "schema": json.dumps(PERMIT_FORM)})
    assert answer.status_code == 302, answer.get_data(as_text=True)
