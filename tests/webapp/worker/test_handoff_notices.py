"""Hand-offs tell whom they concern: the new holder, the delegate, the holder it comes back
to, the added signers."""

from __future__ import annotations

from collections.abc import Callable

import time_machine
from sqlalchemy import select

from tests.webapp.fixtures import load_instance, open_tasks, start
from webapp.db import Database
from webapp.models import HumanTask
from webapp.services import handoffs
from webapp.services.applications import complete_task
from webapp.worker import Worker

Inbox = Callable[..., list[tuple[str, str, str]]]
KINDS = ("transferred", "delegated", "delegation_resolved", "signers_added")


def test_each_hand_off_notifies_whom_it_concerns(
    demo_db: Database, worker: Worker, clock: time_machine.Traveller, inbox: Inbox
) -> None:
    instance_id = start(demo_db)
    reference = load_instance(demo_db, instance_id).reference
    review = open_tasks(demo_db, instance_id)["preliminary_review"].id

    handoffs.transfer_task(
        demo_db, task_id=review, username="chen.jie", actor="zhang.wei", comment="请陈杰办理"
    )
    handoffs.delegate_task(demo_db, task_id=review, username="li.na", actor="chen.jie")
    worker.run_until_idle()
    [delegation] = [t for t in _open(demo_db, instance_id) if t != review]
    complete_task(demo_db, task_id=delegation, data={"outcome": "approve"}, actor="li.na")
    handoffs.add_signers(
        demo_db, task_id=review, usernames=["zhao.min"], position="before", actor="chen.jie"
    )
    worker.run_until_idle()

    assert inbox(*KINDS) == [
        ("chen.jie", "transferred", f"转办：初审（{reference}）"),
        ("li.na", "delegated", f"委派：初审（{reference}）"),
        ("chen.jie", "delegation_resolved", f"委派已处理：初审（{reference}）"),
        ("zhao.min", "signers_added", f"加签：初审（{reference}）"),
    ]


def _open(db: Database, instance_id: str) -> list[str]:
    with db.read() as session:
        return list(
            session.scalars(
                select(HumanTask.id).where(
                    HumanTask.instance_id == instance_id, HumanTask.status == "open"
                )
            )
        )
