"""The differential suite through the store: each step a transaction on the database.

Generated diagrams (tests/conformance/generate.py) are deployed into a park and driven through
the services the API and the pages call, on SQLite and on PostgreSQL: the open tasks after
every step and the end state must be those raw SpiffWorkflow shows for the same choices.
(Timers are left to tests/conformance, which moves one clock for both runs.)
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from tests.conformance.generate import Block, blocks, render
from tests.conformance.harness import run_raw, seeded_chooser
from webapp.db import Database
from webapp.models import HumanTask, Instance
from webapp.services import accounts, processes
from webapp.services.applications import complete_task, start_application

PARK = "conformance"


def prepare(db: Database) -> None:
    with db.write() as session:
        if accounts.find_user(session, "applicant") is not None:
            return
        accounts.create_park(session, actor="test", slug=PARK, name="Conformance Park")
        accounts.create_group(session, actor="test", park_slug=PARK, name="reviewers")
        accounts.create_user(session, actor="test", username="applicant", password="secret-pw-1",
                             park_slug=PARK, role="enterprise", enterprise="Conformance Co")
        accounts.create_user(session, actor="test", username="reviewer", password="secret-pw-1",
                             park_slug=PARK, role="reviewer", groups=["reviewers"])


def open_tasks(db: Database, instance_id: str) -> list[HumanTask]:
    with db.read() as session:
        rows = session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.status == "open")).all()
        session.expunge_all()
        return list(rows)


def status(db: Database, instance_id: str) -> str:
    with db.read() as session:
        return session.get_one(Instance, instance_id).status


def run_stored(db: Database, bpmn: bytes, start_data: dict, order: int) -> list[tuple]:
    """Open element ids after each step and the end status, driven through the services."""
    with db.write() as session:
        park = accounts.get_park(session, PARK)
        processes.deploy(session, park=park, actor="test", bpmn={"generated.bpmn": bpmn})
    instance_id = start_application(db, park_slug=PARK, process_key="generated",
                                    data=start_data, actor="applicant")
    choose, visits = seeded_chooser(order), {}
    shown = []
    for step in range(2000):
        tasks = open_tasks(db, instance_id)
        shown.append(tuple(sorted(t.element_id for t in tasks)))
        if not tasks:
            break
        element = choose([t.element_id for t in tasks], step)
        visits[element] = visits.get(element, 0) + 1
        task = min((t for t in tasks if t.element_id == element), key=lambda t: t.created_at)
        complete_task(db, task_id=task.id, data={f"n_{element}": visits[element]},
                      actor="reviewer")
    return [*shown, status(db, instance_id)]


@settings(max_examples=25, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(blocks(max_leaves=10, timers=False), st.integers(0, 60), st.integers(0, 10**6))
def test_generated_diagrams_run_through_the_store_as_in_spiffworkflow(
        db: Database, block: Block, seed: int, order: int) -> None:
    prepare(db)
    bpmn, start_data = render(block, seed=seed)
    raw = run_raw({"generated.bpmn": bpmn}, {}, "generated", start_data=start_data,
                  choose=seeded_chooser(order))
    assert run_stored(db, bpmn, start_data, order) == [*(s[2] for s in raw.steps), raw.status]


def test_a_three_department_joint_review_completes(db: Database) -> None:
    # 联审: three reviews after a parallel split; the instance used to stay active with no
    # open step once all three were done
    prepare(db)
    bpmn, start_data = render(("par", [("user",)] * 3), seed=0)
    shown = run_stored(db, bpmn, start_data, order=1)
    assert shown[-2:] == [(), "completed"]
    assert [len(each) for each in shown[:-1]] == [3, 2, 1, 0]


def test_an_engine_failure_leaves_the_application_in_error_not_a_crash(db: Database) -> None:
    # SpiffWorkflow 3.2 fails a later round of a loop around a three-way join for this order
    # (tests/engine/test_not_kept.py): the completion is kept as a failed step, not a 500
    prepare(db)
    bpmn, start_data = render(("loop", ("par", [("user",), ("user",), ("user",)]), 4), seed=12)
    raw = run_raw({"generated.bpmn": bpmn}, {}, "generated", start_data=start_data,
                  choose=seeded_chooser(0))
    assert raw.status == "error"
    assert run_stored(db, bpmn, start_data, order=0)[-1] == "error"
