"""Decision tables in the administration: listed with their users and versions, checked with
the engine's deploy checks, deployed with the procedures calling them."""

from __future__ import annotations

import re

from sqlalchemy import select

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
