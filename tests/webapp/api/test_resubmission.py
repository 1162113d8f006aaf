"""The reviewer of a resubmitted application sees the correction note and what changed."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import SUBSIDY_DATA, complete_step, start, step
from webapp.db import Database
from webapp.models import Attachment, Park

REVIEWER = "zhang.wei"
RETURN = {"outcome": "return", "return_reasons": ["营业执照复印件未加盖公章", "金额有误"]}
OWN = {k: v for k, v in SUBSIDY_DATA.items() if k not in ("company_name", "credit_code")}



def _task(
    client: FlaskClient, login: Login, view: dict[str, Any], element_id: str, who: str = REVIEWER
) -> dict[str, Any]:
    response = client.get(f"/api/v1/tasks/{step(view, element_id)}", headers=login(who))
    assert response.status_code == 200, response.json
    return dict(response.json)


def _files(db: Database, *names: str) -> list[str]:
    """Uploaded files of the demo park, by name (two uploads may share a name)."""
    with db.write() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        rows = [
            Attachment(
                park_id=park.id,
                filename=name,
                content_type="application/pdf",
                size=1,
                sha256="0" * 64,
                storage_path=f"x/{i}",
            )
            for i, name in enumerate(names)
        ]
        session.add_all(rows)
        session.flush()
        return [row.id for row in rows]


def _returned(client: FlaskClient, login: Login, attachments: list[str]) -> dict[str, Any]:
    view = start(
        client, login("xinghe"), "policy_subsidy", data={**SUBSIDY_DATA, "attachments": attachments}
    )
    return complete_step(client, login, view, "preliminary_review", RETURN)


def test_the_correction_form_opens_the_whole_application(client: FlaskClient, login: Login) -> None:
    task = _task(client, login, _returned(client, login, ["营业执照.pdf"]), "correction", "xinghe")

    editable = {
        name for name, prop in task["form"]["properties"].items() if not prop.get("readOnly")
    }
    assert editable == set(OWN) | {"project_summary", "correction_note"}
    assert {k: task["form_data"].get(k) for k in OWN} == OWN


def test_the_reviewer_sees_the_note_and_every_change(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    licence, audit, licence_again, plan = _files(
        parks, "营业执照.pdf", "审计报告.pdf", "营业执照.pdf", "研发计划.pdf"
    )
    view = _returned(client, login, [licence, audit])
    view = complete_step(
        client,
        login,
        view,
        "correction",
        {
            **OWN,
            "requested_amount": 150000,
            "contact_phone": "13900000000",
            "attachments": [licence_again, plan],
            "correction_note": "已盖章，金额已更正",
        },
        who="xinghe",
    )

    context = _task(client, login, view, "preliminary_review")["context"]
    sent = context["resubmission"]
    assert sent["note"] == "已盖章，金额已更正"
    assert sent["completed_by"] == "xinghe"
    # in the form's order, which PostgreSQL's jsonb does not keep: compared as a set
    assert sorted((c["field"], c["title"], c["old"], c["new"]) for c in sent["changes"]) == [
        ("contact_phone", "联系电话", "13800000000", "13900000000"),
        ("requested_amount", "申请金额（元）", 200000, 150000),
    ]
    assert sorted((f["filename"], f["change"]) for f in sent["files"]) == [
        ("审计报告.pdf", "removed"),
        ("研发计划.pdf", "added"),
        ("营业执照.pdf", "replaced"),
    ]


def test_each_round_is_compared_with_the_one_before(client: FlaskClient, login: Login) -> None:
    view = _returned(client, login, ["营业执照.pdf"])
    view = complete_step(
        client,
        login,
        view,
        "correction",
        {**OWN, "requested_amount": 150000, "correction_note": "一"},
        who="xinghe",
    )
    view = complete_step(client, login, view, "preliminary_review", RETURN)
    view = complete_step(
        client,
        login,
        view,
        "correction",
        {**OWN, "requested_amount": 150000, "employee_count": 130, "correction_note": "二"},
        who="xinghe",
    )

    sent = _task(client, login, view, "preliminary_review")["context"]["resubmission"]
    assert sent["note"] == "二"
    assert [(c["field"], c["old"], c["new"]) for c in sent["changes"]] == [
        ("employee_count", 120, 130)
    ]
    assert sent["files"] == []


def test_a_first_submission_has_no_resubmission(client: FlaskClient, login: Login) -> None:
    view = start(client, login("xinghe"), "policy_subsidy", data=SUBSIDY_DATA)

    assert _task(client, login, view, "preliminary_review")["context"]["resubmission"] is None
