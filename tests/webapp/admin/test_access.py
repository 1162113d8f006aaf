"""Only the park's administrators reach the administration; another park's objects are 404."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from tests.webapp.admin.conftest import OTHER_ADMIN
from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import open_tasks, start
from webapp.db import Database
from webapp.models import Enterprise, Group, Job, Park, User

OpenBrowser = Callable[..., Browser]
PAGES = ["/admin/processes", "/admin/processes/new", "/admin/processes/policy_subsidy/edit",
         "/admin/processes/policy_subsidy/compare", "/admin/processes/blank.bpmn",
         "/admin/processes/policy_subsidy/versions/1.bpmn", "/admin/forms",
         "/admin/forms/new", "/admin/forms/policy_subsidy_review", "/admin/users",
         "/admin/groups", "/admin/enterprises", "/admin/calendar", "/admin/settings",
         "/admin/incidents", "/admin/applications"]


def test_every_page_opens_for_the_park_administrator(admin: Browser) -> None:
    for url in PAGES:
        answer = admin.get(url)
        assert answer.status_code == 200, url
        if answer.mimetype == "text/html":
            assert 'aria-current="page"' in text_of(answer), url  # its tab is marked


def test_the_admin_start_page_is_the_procedures(admin: Browser) -> None:
    answer = admin.get("/admin/")
    assert answer.status_code == 302 and answer.location.endswith("/admin/processes")


@pytest.mark.parametrize("username", ["zhang.wei", "xinghe"])
def test_reviewers_and_enterprises_are_refused(browser: OpenBrowser, username: str) -> None:
    visitor = browser(username)
    for url in PAGES:
        assert visitor.get(url).status_code == 403, url
    refused = visitor.client.post("/admin/processes/validate", json={"bpmn_xml": "<x/>"},
                                  headers={"X-CSRFToken": visitor.token})
    assert refused.status_code == 403
    assert refused.get_json()["error"]["code"] == "forbidden"
    assert visitor.post("/admin/groups", {"name": "黑客组"}).status_code == 403


def test_visitors_are_sent_to_sign_in(browser: OpenBrowser) -> None:
    answer = browser(None).get("/admin/users")
    assert answer.status_code == 302 and "/login?next=/admin/users" in answer.location


def test_an_admin_of_another_park_gets_404_for_this_parks_objects(
        parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    task = open_tasks(parks, instance_id)["preliminary_review"]
    with parks.write() as session:
        demo = session.scalars(select(Park).where(Park.slug == "demo")).one()
        user_id = session.scalars(select(User.id).where(User.username == "xinghe")).one()
        group_id = session.scalars(select(Group.id).where(Group.park_id == demo.id)).first()
        enterprise_id = session.scalars(select(Enterprise.id).where(
            Enterprise.park_id == demo.id)).first()
        job = Job(park_id=demo.id, kind="notify", due_at=task.created_at, status="failed",
                  attempts=5, last_error="boom")
        session.add(job)
        session.flush()
        job_id = job.id
    stranger = browser(OTHER_ADMIN)
    for url in (f"/admin/users/{user_id}", f"/admin/groups/{group_id}",
                f"/admin/applications/{instance_id}", "/admin/forms/no_such_form",
                "/admin/processes/no_such_key/edit",
                "/admin/processes/policy_subsidy/versions/9.bpmn"):
        assert stranger.get(url).status_code == 404, url
    for url, data in ((f"/admin/users/{user_id}/password", {"password": "another-secret"}),
                      (f"/admin/users/{user_id}/role", {"role": "admin"}),
                      (f"/admin/enterprises/{enterprise_id}", {"name": "改名"}),
                      (f"/admin/incidents/{job_id}/retry", {}),
                      (f"/admin/applications/{instance_id}/cancel", {}),
                      (f"/admin/applications/{instance_id}/tasks/{task.id}/assign",
                       {"username": "other.reviewer"})):
        assert stranger.post(url, data).status_code == 404, url
    with parks.read() as session:
        assert session.get_one(Job, job_id).status == "failed"
    assert "preliminary_review" in open_tasks(parks, instance_id)


def test_the_other_park_sees_only_its_own_things(browser: OpenBrowser) -> None:
    html = text_of(browser(OTHER_ADMIN).get("/admin/users"))
    assert "other.reviewer" in html and "xinghe" not in html


def test_changes_without_the_csrf_token_are_refused(admin: Browser, parks: Database) -> None:
    answer = admin.post("/admin/groups", {"name": "无令牌组"}, csrf=False)
    assert answer.status_code == 400
    with parks.read() as session:
        assert session.scalars(select(Group).where(Group.name == "无令牌组")).first() is None
    refused = admin.client.post("/admin/processes/validate", json={"bpmn_xml": "<x/>"})
    assert refused.status_code == 400 and refused.get_json()["error"]["code"] == "csrf"


def test_nul_characters_are_refused_not_stored(parks: Database, admin: Browser) -> None:
    assert admin.post("/admin/groups", {"name": "组\x00"}).status_code == 400
    assert admin.get("/admin/applications?q=a%00b").status_code == 400
    answer = admin.post("/admin/forms/new", {"key": "nul_form",
                                             "schema": '{"type": "object", "title": "\\u0000"}'})
    assert answer.status_code == 422
    with parks.read() as session:
        assert session.scalars(select(Group).where(Group.name.like("组%"))).first() is None
