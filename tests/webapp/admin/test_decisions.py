"""Decision tables in the administration: listed with their users and versions, checked with
the engine's deploy checks, deployed with the procedures calling them."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select

from tests.webapp.admin.conftest import OTHER_ADMIN
from tests.webapp.admin.helpers import audits, definition, post_json, versions
from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import PROCESSES, complete, load_instance, open_tasks, start
from webapp.db import Database
from webapp.models import Park, ProcessDefinition

TABLE = (PROCESSES / "subsidy_eligibility.dmn").read_text(encoding="utf-8")
RAISED = TABLE.replace(
    '<outputEntry id="LiteralExpression_rd_a_amount"><text>1000000</text></outputEntry>',
    '<outputEntry id="LiteralExpression_rd_a_amount"><text>1200000</text></outputEntry>',
)
BROKEN = TABLE.replace("<text>? &gt;= 10000000 and", "<text>? &gt;=== 10000000 and")


def test_the_list_shows_the_table_its_procedure_and_versions(admin: Browser) -> None:
    html = text_of(admin.get("/admin/decisions"))
    row = re.search(r'<tr data-decision-id="subsidy_eligibility">(.*?)</tr>', html, re.S)
    assert row is not None

    assert "policy_subsidy" in row.group(1) and "1 个版本" in row.group(1)
    assert "/admin/decisions/subsidy_eligibility.dmn?version=1" in row.group(1)
    served = admin.get("/admin/decisions/subsidy_eligibility.dmn")
    assert served.status_code == 200 and served.get_data(as_text=True) == TABLE
    assert admin.get("/admin/decisions/subsidy_eligibility.dmn?version=9").status_code == 404
    assert admin.get("/admin/decisions/subsidy_eligibility.dmn?version=x").status_code == 400
    assert admin.get("/admin/decisions/nothing/edit").status_code == 404
    assert admin.get("/admin/decisions/new").status_code == 200


def test_validation_names_the_rule_of_a_broken_cell(admin: Browser) -> None:
    answer = post_json(admin, "/admin/decisions/validate", {"dmn_xml": BROKEN})
    problems = answer.get_json()["problems"]
    assert answer.status_code == 200 and problems
    assert [(p["element_id"], p["line"]) for p in problems] == [("Rule_rd_tier_a", 40)]
    assert "syntax error" in problems[0]["message"]
    assert post_json(admin, "/admin/decisions/validate", {"dmn_xml": RAISED}).get_json() == {
        "problems": []
    }
    assert post_json(admin, "/admin/decisions/validate", {"dmn_xml": "not xml"}).get_json()[
        "problems"
    ]
    for body in ({}, {"dmn_xml": ""}, {"dmn_xml": 3}, ["<x/>"]):
        assert post_json(admin, "/admin/decisions/validate", body).status_code == 400
    nul = post_json(admin, "/admin/decisions/deploy", {"dmn_xml": "<a>\x00</a>"})
    assert nul.status_code == 422


def test_a_deployed_table_makes_a_new_version_that_decides_with_it(
    db: Database, admin: Browser
) -> None:
    refused = post_json(admin, "/admin/decisions/deploy", {"dmn_xml": BROKEN})
    assert refused.status_code == 422 and versions(db, "policy_subsidy") == [1]

    earlier = start(db)
    answer = post_json(admin, "/admin/decisions/deploy", {"dmn_xml": RAISED})
    assert answer.status_code == 201
    body = answer.get_json()
    assert body["processes"] == [
        {
            "key": "policy_subsidy",
            "version": 2,
            "name": body["processes"][0]["name"],
            "created": True,
        }
    ]
    assert versions(db, "policy_subsidy") == [1, 2]
    assert dmn_of(db, 2) == [RAISED] and dmn_of(db, 1) == [TABLE]
    assert [e.details["decision_id"] for e in audits(db, "decision.saved")] == [
        "subsidy_eligibility"
    ]
    assert audits(db, "decision.deployed")[0].details["processes"] == [
        {"key": "policy_subsidy", "version": 2}
    ]
    # deploying the same table again changes nothing
    again = post_json(admin, "/admin/decisions/deploy", {"dmn_xml": RAISED})
    assert again.status_code == 200 and versions(db, "policy_subsidy") == [1, 2]

    later = start(db)
    for instance_id in (earlier, later):
        complete(
            db,
            instance_id,
            "preliminary_review",
            {"outcome": "approve", "comment": "同意"},
            "zhang.wei",
        )
    assert load_instance(db, earlier).data_summary.get("amount") == 1000000
    assert load_instance(db, later).data_summary.get("amount") == 1200000
    assert open_tasks(db, later)

    html = text_of(admin.get("/admin/decisions"))
    assert "共 2 个版本" in html and "policy_subsidy v2" in html
    # the modeler deploys the procedure with the edited table from now on: nothing changes
    bpmn = definition(db, "policy_subsidy", 2).bpmn_xml
    same = post_json(admin, "/admin/processes/deploy", {"bpmn_xml": bpmn})
    assert same.status_code == 200 and versions(db, "policy_subsidy") == [1, 2]


def dmn_of(db: Database, version: int) -> list[str]:
    """The DMN files a version of policy_subsidy runs."""
    with db.read() as session:
        return list(
            session.scalar(
                select(ProcessDefinition.dmn_xml)
                .join(Park, Park.id == ProcessDefinition.park_id)
                .where(
                    Park.slug == "demo",
                    ProcessDefinition.key == "policy_subsidy",
                    ProcessDefinition.version == version,
                )
            )
            or []
        )


NEW_RULE = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="d_fee" name="Fee"
  namespace="urn:parkflow:decisions">
  <decision id="fee_rule" name="场地费">
    <decisionTable id="t_fee" hitPolicy="FIRST">
      <input id="i_area" label="面积"><inputExpression id="ie_area" typeRef="number">
        <text>area</text></inputExpression></input>
      <output id="o_fee" label="费用" name="fee" typeRef="number" />
      <rule id="r_big"><inputEntry id="c_big"><text>? &gt; 100</text></inputEntry>
        <outputEntry id="v_big"><text>500</text></outputEntry></rule>
      <rule id="r_small"><inputEntry id="c_small"><text>-</text></inputEntry>
        <outputEntry id="v_small"><text>100</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>
"""
CALLS_FEE = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="urn:t">
  <bpmn:process id="venue_fee" name="场地费核定" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="decide" />
    <bpmn:businessRuleTask id="decide" name="核定" camunda:decisionRef="fee_rule">
      <bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:sequenceFlow id="f2" sourceRef="decide" targetRef="end" />
    <bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>
  </bpmn:process>
</bpmn:definitions>
"""


def test_a_new_table_is_saved_and_the_next_procedure_calling_it_runs_it(
    db: Database, admin: Browser
) -> None:
    # before the table exists, a procedure calling it is refused
    early = post_json(admin, "/admin/processes/deploy", {"bpmn_xml": CALLS_FEE})
    assert early.status_code == 422
    saved = post_json(admin, "/admin/decisions/deploy", {"dmn_xml": NEW_RULE})
    assert saved.status_code == 201
    assert saved.get_json()["saved"] is True and saved.get_json()["processes"] == []
    html = text_of(admin.get("/admin/decisions"))
    assert 'data-decision-id="fee_rule"' in html and "已保存，尚未随流程发布" in html

    deployed = post_json(admin, "/admin/processes/deploy", {"bpmn_xml": CALLS_FEE})
    assert deployed.status_code == 201 and versions(db, "venue_fee") == [1]
    instance_id = start(db, "venue_fee", {"area": 300})
    assert load_instance(db, instance_id).data_summary.get("fee") == 500
    assert "已保存，尚未随流程发布" not in text_of(admin.get("/admin/decisions"))


def test_another_parks_administrator_sees_no_table_of_this_park(
    parks: Database, admin: Browser, browser: Callable[[str | None], Browser]
) -> None:
    assert post_json(admin, "/admin/decisions/deploy", {"dmn_xml": NEW_RULE}).status_code == 201
    other = browser(OTHER_ADMIN)
    assert 'data-decision-id="fee_rule"' not in text_of(other.get("/admin/decisions"))
    assert other.get("/admin/decisions/fee_rule/edit").status_code == 404
    assert other.get("/admin/decisions/fee_rule.dmn").status_code == 404
    assert admin.get("/admin/decisions/fee_rule.dmn").status_code == 200
    assert browser("zhang.wei").get("/admin/decisions").status_code == 403
