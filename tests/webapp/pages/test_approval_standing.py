"""The task and application pages say where an approval node stands: “会签 2/3 已同意”."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select

from tests.webapp.api.test_approval_modes import approval_process
from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import start
from webapp.db import Database
from webapp.models import HumanTask, Park
from webapp.services import processes
from webapp.services.applications import complete_task

OpenBrowser = Callable[..., Browser]
SIGNERS = 'camunda:candidateUsers="zhao.min,chen.jie,liu.yang"'


def signer_tasks(db: Database, instance_id: str) -> dict[str, str]:
    with db.read() as session:
        rows = session.scalars(
            select(HumanTask).where(
                HumanTask.instance_id == instance_id, HumanTask.status == "open"
            )
        ).all()
        return {str(row.assignee): row.id for row in rows}


def test_a_share_node_with_a_rejection_in_chinese_and_english(
    parks: Database, browser: OpenBrowser
) -> None:
    with parks.write() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        processes.deploy(
            session,
            park=park,
            actor="test",
            forms={},
            bpmn={"share.bpmn": approval_process("share", "ratio:0.6", SIGNERS).encode()},
        )
    instance_id = start(parks, "share", data={})
    tasks = signer_tasks(parks, instance_id)
    complete_task(parks, task_id=tasks["zhao.min"], data={"approved": False}, actor="zhao.min")

    reviewer = browser("chen.jie")
    html = text_of(reviewer.get(f"/tasks/{tasks['chen.jie']}"))
    assert "按比例通过 60% 0/3 已同意，1 已拒绝" in html
    applicant = browser("xinghe")
    assert "按比例通过 60% 0/3 已同意，1 已拒绝" in text_of(
        applicant.get(f"/applications/{instance_id}")
    )
    assert reviewer.post("/language", {"locale": "en"}).status_code == 302
    html = text_of(reviewer.get(f"/tasks/{tasks['chen.jie']}"))
    assert "Pass by share 60% 0/3 approved, 1 rejected" in html


def test_other_steps_say_nothing_of_approval(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    html = text_of(browser("xinghe").get(f"/applications/{instance_id}"))
    assert "chip-approval" not in html and "已同意" not in html
