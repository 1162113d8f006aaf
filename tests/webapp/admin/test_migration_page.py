"""Moving waiting applications from the versions page: checked first, then in bulk."""

from __future__ import annotations

import re
from pathlib import Path

from sqlalchemy import select

from tests.webapp.apptools import Browser, text_of
from webapp.db import Database
from webapp.models import AuditEvent, HumanTask, Instance
from webapp.services import accounts, applications, processes

ENGINE_DATA = Path(__file__).resolve().parents[2] / "engine" / "data" / "migration"
GROUPS = {b'"office"': '"政策审核组"', b'"reviewers"': '"部门负责人"', b'"directors"': '"园区领导"'}
PAGE = "/admin/processes/permit/migrate"


def deploy(db: Database, name: str) -> None:
    xml = (ENGINE_DATA / f"{name}.bpmn").read_bytes()
    for group, park_group in GROUPS.items():
        xml = xml.replace(group, park_group.encode())
    with db.write() as session:
        processes.deploy(
            session,
            park=accounts.get_park(session, "demo"),
            actor="test",
            bpmn={f"{name}.bpmn": xml},
        )


def open_task(db: Database, instance_id: str) -> tuple[str, str]:
    """The id and element of the application's open task."""
    with db.read() as session:
        row = session.execute(
            select(HumanTask.id, HumanTask.element_id).where(
                HumanTask.instance_id == instance_id, HumanTask.status == "open"
            )
        ).one()
        return row.id, row.element_id


def two_applications(db: Database) -> tuple[str, str]:
    """One application at intake, one at review (renamed in version 2), both of version 1."""
    deploy(db, "permit_v1")
    at_intake, at_review = (
        applications.start_application(
            db, park_slug="demo", process_key="permit", data={}, actor="xinghe"
        )
        for _ in range(2)
    )
    applications.complete_task(db, task_id=open_task(db, at_review)[0], data={}, actor="zhang.wei")
    deploy(db, "permit_v2")
    return at_intake, at_review


def version_of(db: Database, instance_id: str) -> int:
    with db.read() as session:
        return session.get_one(Instance, instance_id).definition.version


def test_the_page_lists_what_can_move_and_why_the_rest_cannot(
    admin: Browser, parks: Database
) -> None:
    at_intake, at_review = two_applications(parks)
    html = text_of(admin.get(PAGE))
    assert f'value="{at_intake}"' in html  # a checkbox: it can move
    assert f'value="{at_review}"' not in html
    assert "has no counterpart in the target version" in html or "在目标版本中没有对应" in html
    mapped = text_of(admin.get(PAGE, query_string={"to": 2, "mapping": "review = examine"}))
    assert f'value="{at_review}"' in mapped


def test_moving_all_that_can_move_then_the_mapped_one(admin: Browser, parks: Database) -> None:
    at_intake, at_review = two_applications(parks)

    answer = admin.post(PAGE, {"to": "2", "mapping": "", "scope": "all"})

    assert answer.status_code == 302
    assert (version_of(parks, at_intake), version_of(parks, at_review)) == (2, 1)
    chosen = admin.post(
        PAGE,
        {"to": "2", "mapping": "review = examine", "scope": "selected", "instance_id": at_review},
    )
    assert chosen.status_code == 302
    assert version_of(parks, at_review) == 2
    assert open_task(parks, at_review)[1] == "examine"
    with parks.read() as session:
        actions = session.scalars(
            select(AuditEvent.details).where(AuditEvent.action == "instance.migrated")
        ).all()
    assert sorted(d["mapping"].get("review", "") for d in actions) == ["", "examine"]
    # the application's timeline tells of the move
    assert "从版本 1 迁移到版本 2" in text_of(admin.get(f"/applications/{at_review}"))


def test_bad_input_shows_the_form_again(admin: Browser, parks: Database) -> None:
    two_applications(parks)
    nothing = admin.post(PAGE, {"to": "2", "mapping": "", "scope": "selected"})
    garbled = admin.post(PAGE, {"to": "2", "mapping": "review examine", "scope": "all"})
    no_version = admin.post(PAGE, {"to": "x", "scope": "all"})
    assert [r.status_code for r in (nothing, garbled, no_version)] == [422, 422, 422]
    assert 'id="error-summary"' in text_of(garbled)


def test_an_unknown_procedure_or_version_is_not_found_or_said(
    admin: Browser, parks: Database
) -> None:
    two_applications(parks)
    assert admin.get("/admin/processes/nope/migrate").status_code == 404
    page = admin.get(PAGE, query_string={"to": 9})
    assert page.status_code == 200 and 'id="e-to"' in text_of(page)
    assert admin.post(PAGE, {"to": "9", "scope": "all"}).status_code == 422


def test_an_application_at_a_timer_shows_the_timer_it_waits_for(
    admin: Browser, parks: Database
) -> None:
    _, at_review = two_applications(parks)
    applications.complete_task(
        parks, task_id=open_task(parks, at_review)[0], data={}, actor="li.na"
    )
    html = text_of(admin.get(PAGE))
    row = re.search(rf'<tr data-instance-id="{at_review}".*?</tr>', html, re.S)
    assert row is not None and "<td>cooling</td>" in row.group(0)
