"""How an application ended, beside its status: approved, rejected, withdrawn or cancelled.

The result comes from the model (an end event's ``result`` property) or from a cancellation;
it is null while the application is open, and lists filter on it.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import time_machine
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import SUBSIDY_DATA, complete_step, error_code, start
from webapp.db import Database, utcnow
from webapp.models import Park
from webapp.services import processes
from webapp.services.applications import fire_timers

PARK = "/api/v1/parks/demo/instances"
RETURN = {"outcome": "return", "return_reasons": ["营业执照复印件未加盖公章"]}
APPROVED_ON_REVIEW = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs_filing"
    targetNamespace="urn:parkflow:tests:api">
  <bpmn:process id="filing" name="备案" isExecutable="true">
    <bpmn:startEvent id="filing_start"/>
    <bpmn:userTask id="filing_review" name="备案审核" camunda:candidateGroups="政策审核组"/>
    <bpmn:endEvent id="filing_done" name="准予备案">
      <bpmn:extensionElements>
        <camunda:properties><camunda:property name="result" value="approved"/></camunda:properties>
      </bpmn:extensionElements>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="f1" sourceRef="filing_start" targetRef="filing_review"/>
    <bpmn:sequenceFlow id="f2" sourceRef="filing_review" targetRef="filing_done"/>
  </bpmn:process>
</bpmn:definitions>
"""


def _subsidy(client: FlaskClient, login: Login) -> dict[str, Any]:
    return start(client, login("xinghe"), "policy_subsidy", data=SUBSIDY_DATA)



def _view(client: FlaskClient, login: Login, instance_id: str) -> dict[str, Any]:
    return dict(client.get(f"/api/v1/instances/{instance_id}", headers=login("admin")).json)


def test_an_open_application_has_no_result(client: FlaskClient, login: Login) -> None:
    view = _subsidy(client, login)

    assert (view["status"], view["result"], view["status_detail"]) == ("active", None, None)
    assert view["paused_seconds"] == 0


def test_a_rejection_at_review_is_rejected(client: FlaskClient, login: Login) -> None:
    view = complete_step(
        client,
        login,
        _subsidy(client, login),
        "preliminary_review",
        {"outcome": "reject", "comment": "不属于本政策支持范围"},
    )

    assert (view["status"], view["result"]) == ("completed", "rejected")
    assert view["ended_at"] is not None


def test_an_approval_is_approved(client: FlaskClient, login: Login, parks: Database) -> None:
    with parks.write() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        processes.deploy(
            session,
            park=park,
            actor="test",
            bpmn={"filing.bpmn": APPROVED_ON_REVIEW.encode()},
            forms={},
        )
    filed = start(client, login("xinghe"), "filing")
    view = complete_step(client, login, filed, "filing_review", {})

    assert (view["status"], view["result"]) == ("completed", "approved")


def test_an_end_event_declaring_nothing_leaves_the_result_empty(
    client: FlaskClient, login: Login
) -> None:
    view = start(client, login("xinghe"))
    view = complete_step(client, login, view, "probe_review", {"outcome": "approve"})
    response = client.post(
        f"/api/v1/instances/{view['id']}/messages/payment_received",
        json={"payload": {}},
        headers=login("admin"),
    )

    assert response.status_code == 200, response.json
    assert (response.json["status"], response.json["result"]) == ("completed", None)


def test_a_cancellation_is_cancelled(client: FlaskClient, login: Login) -> None:
    view = _subsidy(client, login)
    response = client.post(
        f"/api/v1/instances/{view['id']}/cancel", json={"reason": "重复"}, headers=login("admin")
    )

    assert (response.json["status"], response.json["result"]) == ("cancelled", "cancelled")


def test_a_correction_never_made_is_withdrawn(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    view = complete_step(client, login, _subsidy(client, login), "preliminary_review", RETURN)
    with time_machine.travel(utcnow() + timedelta(days=30)):
        fire_timers(parks, instance_id=view["id"])

    view = _view(client, login, view["id"])
    assert (view["status"], view["result"]) == ("completed", "withdrawn")
    assert view["status_detail"] is None


def test_lists_filter_on_the_result(client: FlaskClient, login: Login) -> None:
    rejected = complete_step(
        client,
        login,
        _subsidy(client, login),
        "preliminary_review",
        {"outcome": "reject", "comment": "不符合"},
    )
    cancelled = _subsidy(client, login)
    client.post(f"/api/v1/instances/{cancelled['id']}/cancel", json={}, headers=login("admin"))
    _subsidy(client, login)

    def listed(query: str) -> list[tuple[str, str | None]]:
        answer = client.get(PARK + query, headers=login("admin")).json
        return [(item["id"], item["result"]) for item in answer]

    assert listed("?result=rejected") == [(rejected["id"], "rejected")]
    assert listed("?result=cancelled") == [(cancelled["id"], "cancelled")]
    assert listed("?result=approved") == []
    bogus = client.get(PARK + "?result=lost", headers=login("admin"))
    assert bogus.status_code == 422
    assert error_code(bogus) == "invalid"


def test_a_returned_application_is_with_the_applicant(client: FlaskClient, login: Login) -> None:
    view = complete_step(client, login, _subsidy(client, login), "preliminary_review", RETURN)
    held = _view(client, login, view["id"])
    listed = client.get(PARK, headers=login("xinghe")).json

    assert (held["status"], held["status_detail"], held["result"]) == (
        "active",
        "with_applicant",
        None,
    )
    assert [item["status_detail"] for item in listed] == ["with_applicant"]
    corrected = complete_step(
        client,
        login,
        held,
        "correction",
        {
            **{k: v for k, v in SUBSIDY_DATA.items() if k not in ("company_name", "credit_code")},
            "correction_note": "已加盖公章",
        },
        who="xinghe",
    )
    assert corrected["status_detail"] is None
    assert corrected["paused_seconds"] >= 0
