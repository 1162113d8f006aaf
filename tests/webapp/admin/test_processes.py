"""Procedures in the administration: versions, checking and deploying from the modeler,
comparing versions, and a diagram made in the desktop Camunda Modeler."""

from __future__ import annotations

import json
import re

from tests.webapp.admin.helpers import (
    EXPORT,
    PERMIT_FORM,
    POLICY_SUBSIDY,
    audits,
    create_permit_form,
    definition,
    post_json,
    versions,
)
from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import complete, load_instance, open_tasks, start
from webapp.db import Database

FOUR_DAYS = POLICY_SUBSIDY.replace('camunda:dueDate="3WD"', 'camunda:dueDate="4WD"')
DANGLING = POLICY_SUBSIDY.replace('targetRef="disbursement_handover"', 'targetRef="gone"')


def test_the_list_shows_versions_deployers_and_running_applications(
        parks: Database, admin: Browser) -> None:
    start(parks)
    start(parks)
    assert post_json(admin, "/admin/processes/deploy", {"bpmn_xml": FOUR_DAYS}).status_code == 201
    html = text_of(admin.get("/admin/processes"))
    row = re.search(r'<tr data-key="policy_subsidy">(.*?)</tr>', html, re.S).group(1)
    assert "v2" in row and "园区管理员" in row  # the deployer's name
    assert re.search(r'class="running">2<', row)  # both run on version 1
    assert "/admin/processes/policy_subsidy/versions/1.bpmn" in html
    assert "/admin/processes/policy_subsidy/compare?from=1&amp;to=2" in html
    for key in ("enterprise_registration", "tax_docking", "fund_disbursement"):
        assert f'data-key="{key}"' in html


def test_validation_returns_every_problem_with_its_element(admin: Browser) -> None:
    answer = post_json(admin, "/admin/processes/validate", {"bpmn_xml": DANGLING})
    assert answer.status_code == 200
    problems = answer.get_json()["problems"]
    found = {(p["element_id"], p["message"]) for p in problems}
    assert ("Flow_notice_over", "targetRef 'gone' does not exist") in found
    assert all(isinstance(p["line"], int) for p in problems)
    valid = post_json(admin, "/admin/processes/validate", {"bpmn_xml": FOUR_DAYS})
    assert valid.get_json() == {"problems": [], "warnings": []}


def test_malformed_requests_are_answered_in_json(admin: Browser) -> None:
    for body in ({}, {"bpmn_xml": ""}, {"bpmn_xml": 7}, ["<x/>"]):
        answer = post_json(admin, "/admin/processes/validate", body)
        assert answer.status_code == 400 and answer.get_json()["error"]["code"] == "malformed"
    nul = post_json(admin, "/admin/processes/deploy", {"bpmn_xml": "<a>\x00</a>"})
    assert nul.status_code == 422
    not_xml = post_json(admin, "/admin/processes/validate", {"bpmn_xml": "not xml at all"})
    assert not_xml.status_code == 200 and not_xml.get_json()["problems"]


def test_deploying_makes_a_new_version_and_running_applications_keep_theirs(
        parks: Database, admin: Browser) -> None:
    earlier = start(parks)
    answer = post_json(admin, "/admin/processes/deploy", {"bpmn_xml": FOUR_DAYS})
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["processes"][0] == {"key": "policy_subsidy", "version": 2,
                                    "name": "政策扶持资金申请", "created": True,
                                    "edit_url": "/admin/processes/policy_subsidy/edit"}
    again = post_json(admin, "/admin/processes/deploy", {"bpmn_xml": FOUR_DAYS})
    assert again.status_code == 200 and again.get_json()["processes"][0]["created"] is False
    assert versions(parks, "policy_subsidy") == [1, 2]
    # the DMN and forms of version 1 came along: the new version runs end to end
    later = start(parks)
    assert load_instance(parks, earlier).definition.version == 1
    assert load_instance(parks, later).definition.version == 2
    complete(parks, later, "preliminary_review", {"outcome": "approve"}, "zhang.wei")
    assert "director_review" in open_tasks(parks, later)
    complete(parks, earlier, "preliminary_review", {"outcome": "approve"}, "zhang.wei")
    assert "director_review" in open_tasks(parks, earlier)
    assert [e.actor for e in audits(parks, "process.deployed")][-1] == "admin"


def test_an_invalid_diagram_is_refused_with_its_problems(parks: Database, admin: Browser) -> None:
    answer = post_json(admin, "/admin/processes/deploy", {"bpmn_xml": DANGLING})
    assert answer.status_code == 422
    assert any(p["element_id"] == "Flow_notice_over" for p in answer.get_json()["problems"])
    assert versions(parks, "policy_subsidy") == [1]


def test_two_versions_are_compared_element_by_element(parks: Database, admin: Browser) -> None:
    stricter = FOUR_DAYS.replace('name="初审"', 'name="受理审查"').replace(
        "<bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\">eligible<",
        "<bpmn:conditionExpression xsi:type=\"bpmn:tFormalExpression\">eligible and amount > 0<")
    for xml in (FOUR_DAYS, stricter):
        assert post_json(admin, "/admin/processes/deploy", {"bpmn_xml": xml}).status_code == 201
    html = text_of(admin.get("/admin/processes/policy_subsidy/compare?from=1&to=2"))
    row = re.search(r'<tr class="diff-changed" data-element-id="preliminary_review">(.*?)</tr>',
                    html, re.S).group(1)
    assert "camunda:dueDate" in row and "<del>3WD</del>" in row and "<ins>4WD</ins>" in row
    assert html.count('<tr class="diff-') == 1  # nothing else changed
    latest = text_of(admin.get("/admin/processes/policy_subsidy/compare"))  # the newest two
    assert re.findall(r'<tr class="diff-(\w+)" data-element-id="(\w+)"', latest) == [
        ("changed", "Flow_eligible"), ("changed", "preliminary_review")]
    assert "<del>eligible</del> → <ins>eligible and amount &gt; 0</ins>" in latest
    assert "<del>初审</del> → <ins>受理审查</ins>" in latest
    same = text_of(admin.get("/admin/processes/policy_subsidy/compare?from=2&to=2"))
    assert 'id="element-changes"' not in same
    assert admin.get("/admin/processes/policy_subsidy/compare?from=x").status_code == 400
    assert admin.get("/admin/processes/policy_subsidy/compare?from=1&to=4").status_code == 404


def test_a_version_downloads_as_bpmn(admin: Browser) -> None:
    answer = admin.get("/admin/processes/policy_subsidy/versions/1.bpmn")
    assert answer.mimetype == "application/xml"
    assert 'filename="policy_subsidy-v1.bpmn"' in answer.headers["Content-Disposition"]
    assert answer.get_data(as_text=True) == POLICY_SUBSIDY
    assert admin.get("/admin/processes/policy_subsidy/versions/0.bpmn").status_code == 404
    assert admin.get(
        "/admin/processes/policy_subsidy/versions/99999999999.bpmn").status_code == 404


def test_the_modeler_pages_load_the_diagram_and_the_admin_bundle(admin: Browser) -> None:
    html = text_of(admin.get("/admin/processes/policy_subsidy/edit"))
    assert 'data-bpmn-url="/admin/processes/policy_subsidy/versions/1.bpmn"' in html
    assert 'data-validate-url="/admin/processes/validate"' in html
    assert "dist/admin.js" in html and "dist/modeler-style.css" in html
    for button in ("pf-validate", "pf-deploy", "pf-download-xml", "pf-download-svg",
                   "pf-upload"):
        assert f'id="{button}"' in html
    new = text_of(admin.get("/admin/processes/new"))
    assert 'data-bpmn-url="/admin/processes/blank.bpmn"' in new
    blank = admin.get("/admin/processes/blank.bpmn").get_data(as_text=True)
    assert 'isExecutable="true"' in blank
    assert 'modeler:executionPlatform="Camunda Platform"' in blank


def test_a_camunda_modeler_export_validates_deploys_and_runs(
        parks: Database, admin: Browser) -> None:
    missing = post_json(admin, "/admin/processes/validate", {"bpmn_xml": EXPORT}).get_json()
    assert missing["problems"] == [{"element_id": "Activity_security_review", "line": 8,
                                    "message": "formKey 'visitor_permit_review' has no form",
                                    "code": "missing_form",
                                    "text": "formKey 命名的表单“visitor_permit_review”"
                                            "在本园区不存在。"}]
    create_permit_form(admin)
    assert post_json(admin, "/admin/processes/validate", {"bpmn_xml": EXPORT}).get_json() == {
        "problems": [], "warnings": []}
    deployed = post_json(admin, "/admin/processes/deploy", {"bpmn_xml": EXPORT})
    assert deployed.status_code == 201
    assert deployed.get_json()["processes"][0]["key"] == "visitor_permit"
    stored = definition(parks, "visitor_permit", 1)
    assert stored.forms == {"visitor_permit_review": PERMIT_FORM}
    instance_id = start(parks, "visitor_permit", {"plate": "沪A12345"})
    task = open_tasks(parks, instance_id)["Activity_security_review"]
    assert task.candidate_groups == ["招商服务部"] and task.due_at is not None
    complete(parks, instance_id, "Activity_security_review", {"approved": True}, "chen.jie")
    assert load_instance(parks, instance_id).status == "completed"
    refused = start(parks, "visitor_permit", {"plate": "沪B00001"})
    complete(parks, refused, "Activity_security_review", {"approved": False}, "chen.jie")
    assert load_instance(parks, refused).status == "completed"


def test_redeploying_takes_the_edited_forms(parks: Database, admin: Browser) -> None:
    review = definition(parks, "policy_subsidy", 1).forms["policy_subsidy_review"]
    edited = {**review, "title": "初审（新版）"}
    assert admin.post("/admin/forms/policy_subsidy_review",
                      {"schema": json.dumps(edited)}).status_code == 302
    forms_page = text_of(admin.get("/admin/forms"))
    assert 'action="/admin/processes/policy_subsidy/redeploy"' in forms_page
    answer = admin.post("/admin/processes/policy_subsidy/redeploy", {"back": "forms"})
    assert answer.status_code == 302 and answer.location.endswith("/admin/forms")
    assert versions(parks, "policy_subsidy") == [1, 2]
    assert definition(parks, "policy_subsidy", 2).forms["policy_subsidy_review"] == edited
    assert definition(parks, "policy_subsidy", 1).forms["policy_subsidy_review"] == review
    admin.post("/admin/processes/policy_subsidy/redeploy")
    assert versions(parks, "policy_subsidy") == [1, 2]
    assert 'action="/admin/processes/policy_subsidy/redeploy"' not in text_of(
        admin.get("/admin/forms"))
