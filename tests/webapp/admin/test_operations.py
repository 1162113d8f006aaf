"""Keeping applications moving: incidents retried, tasks reassigned, applications withdrawn,
failed steps run again, and the data an application and its open task hold."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from tests.webapp.admin.helpers import audits, post_json
from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import APPLICATION, complete, load_instance, open_tasks, start
from webapp.db import Database
from webapp.models import Job, Park

SCRIPTED = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_fee"
    targetNamespace="urn:parkflow:tests:admin">
  <bpmn:process id="scripted_fee" name="收费核算" isExecutable="true">
    <bpmn:startEvent id="fee_start"/>
    <bpmn:userTask id="fee_review" name="核对" camunda:candidateGroups="招商服务部"/>
    <bpmn:scriptTask id="fee" name="计算费用" scriptFormat="python">
      <bpmn:script>fee = 100 * 2</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:endEvent id="fee_end"/>
    <bpmn:sequenceFlow id="fee1" sourceRef="fee_start" targetRef="fee_review"/>
    <bpmn:sequenceFlow id="fee2" sourceRef="fee_review" targetRef="fee"/>
    <bpmn:sequenceFlow id="fee3" sourceRef="fee" targetRef="fee_end"/>
  </bpmn:process>
</bpmn:definitions>
"""


def failed_job(db: Database, park_slug: str = "demo") -> int:
    """A notification job that failed its last retry, in the park given."""
    with db.write() as session:
        park = session.scalars(select(Park).where(Park.slug == park_slug)).one()
        job = Job(park_id=park.id, kind="notify", due_at=datetime(2026, 3, 2, tzinfo=UTC),
                  status="failed", attempts=5,
                  last_error="DeliveryFailed: webhook: connection refused\nTraceback ...")
        session.add(job)
        session.flush()
        return job.id


def test_incidents_are_listed_and_retried(parks: Database, admin: Browser) -> None:
    mine, theirs = failed_job(parks), failed_job(parks, "other")
    html = text_of(admin.get("/admin/incidents"))
    assert f'data-job="{mine}"' in html and f'data-job="{theirs}"' not in html
    assert "DeliveryFailed: webhook: connection refused" in html
    assert admin.post(f"/admin/incidents/{mine}/retry").status_code == 302
    with parks.read() as session:
        job = session.get_one(Job, mine)
        assert (job.status, job.attempts) == ("pending", 0)
    [event] = audits(parks, "incident.retried")
    assert event.details == {"job_id": mine, "kind": "notify"}
    assert event.before == {"status": "failed", "attempts": 5}
    assert admin.post(f"/admin/incidents/{mine}/retry").status_code == 404  # not failed now
    assert admin.post(f"/admin/incidents/{theirs}/retry").status_code == 404
    assert admin.post("/admin/incidents/99999999999999999999/retry").status_code == 404


def test_applications_are_listed_and_filtered(parks: Database, admin: Browser) -> None:
    first, second = start(parks), start(parks, actor="lanhai")
    admin.post(f"/admin/applications/{second}/cancel", {"reason": "企业主动撤回"})
    first_ref, second_ref = (load_instance(parks, i).reference for i in (first, second))
    html = text_of(admin.get("/admin/applications"))
    assert f'data-reference="{first_ref}"' in html and f'data-reference="{second_ref}"' in html
    active = text_of(admin.get("/admin/applications?status=active"))
    assert f'data-reference="{first_ref}"' in active
    assert f'data-reference="{second_ref}"' not in active
    by_name = text_of(admin.get("/admin/applications?q=蓝海"))
    assert f'data-reference="{second_ref}"' in by_name
    assert f'data-reference="{first_ref}"' not in by_name
    by_ref = text_of(admin.get(f"/admin/applications?q={first_ref[-6:]}"))
    assert f'data-reference="{first_ref}"' in by_ref
    assert f'data-reference="{second_ref}"' not in by_ref
    assert "data-reference=" not in text_of(admin.get("/admin/applications?q=%25"))
    for query in ("status=lost", "page=0", "page=x"):
        assert admin.get(f"/admin/applications?{query}").status_code == 400


def test_an_application_shows_its_data_and_the_engine_data_of_its_task(
        parks: Database, admin: Browser) -> None:
    instance_id = start(parks)
    html = text_of(admin.get(f"/admin/applications/{instance_id}"))
    assert 'data-task="preliminary_review"' in html
    summary = re.search(r'<pre class="json" id="data-summary">(.*?)</pre>', html, re.S).group(1)
    assert APPLICATION["credit_code"] in summary
    engine_data = re.search(r'<article class="admin-task" data-task="preliminary_review">'
                            r'.*?<pre class="json">(.*?)</pre>', html, re.S).group(1)
    assert "&#34;requested_amount&#34;: 800000" in engine_data
    # who may take the task: the park's staff, not the enterprises
    options = re.findall(r'<option value="([\w.]+)"', html)
    assert "zhang.wei" in options and "li.na" in options and "xinghe" not in options


def test_a_task_is_reassigned(parks: Database, admin: Browser) -> None:
    instance_id = start(parks)
    task = open_tasks(parks, instance_id)["preliminary_review"]
    url = f"/admin/applications/{instance_id}/tasks/{task.id}/assign"
    assert admin.post(url, {"username": "li.na"}).status_code == 302
    assert open_tasks(parks, instance_id)["preliminary_review"].assignee == "li.na"
    assert audits(parks, "task.assigned")[-1].after == {"assignee": "li.na"}
    for username in ("xinghe", "other.reviewer", "nobody"):
        answer = admin.post(url, {"username": username})
        assert answer.status_code == 422, username
        assert 'class="field-error"' in text_of(answer)
    assert open_tasks(parks, instance_id)["preliminary_review"].assignee == "li.na"
    other = start(parks)
    foreign = open_tasks(parks, other)["preliminary_review"]
    assert admin.post(f"/admin/applications/{instance_id}/tasks/{foreign.id}/assign",
                      {"username": "li.na"}).status_code == 404


def test_an_application_is_withdrawn(parks: Database, admin: Browser) -> None:
    instance_id = start(parks)
    answer = admin.post(f"/admin/applications/{instance_id}/cancel", {"reason": "重复提交"})
    assert answer.status_code == 302
    assert load_instance(parks, instance_id).status == "cancelled"
    assert open_tasks(parks, instance_id) == {}
    event = audits(parks, "application.cancelled")[-1]
    assert event.actor == "admin" and event.details["reason"] == "重复提交"
    assert admin.post(f"/admin/applications/{instance_id}/cancel").status_code == 409
    assert "f-reason" not in text_of(admin.get(f"/admin/applications/{instance_id}"))


def test_a_failed_step_is_run_again_once_its_cause_is_fixed(parks: Database,
                                                            admin: Browser) -> None:
    assert post_json(admin, "/admin/processes/deploy", {"bpmn_xml": SCRIPTED}).status_code == 201
    admin.post("/admin/settings", {})  # scripts off
    instance_id = start(parks, "scripted_fee", {})
    complete(parks, instance_id, "fee_review", {}, "chen.jie")
    assert load_instance(parks, instance_id).status == "error"
    html = text_of(admin.get(f"/admin/applications/{instance_id}"))
    assert "<code>fee</code>" in html and f"/admin/applications/{instance_id}/retry" in html
    admin.post("/admin/settings", {"scripts_enabled": "on"})
    assert admin.post(f"/admin/applications/{instance_id}/retry").status_code == 302
    assert load_instance(parks, instance_id).status == "completed"
    assert audits(parks, "application.retried")[-1].actor == "admin"
