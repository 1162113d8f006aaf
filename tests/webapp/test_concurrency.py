"""Completions racing through the service layer, on SQLite and PostgreSQL.

Each thread runs the real ``complete_task`` in its own transaction of the shared ``db``; the
instance lock serializes them, so exactly one of several completions of one task wins and the
others are told, as a Conflict, that the task is gone.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from tests.webapp.fixtures import (
    APPLICATION,
    INVOICE_QUOTA,
    TAX_REGISTRATION,
    TAX_TYPES,
    audit_events,
    complete,
    history,
    load_instance,
    open_tasks,
    pending_timers,
    run_together,
    start,
)
from webapp.db import Database
from webapp.models import HumanTask
from webapp.services import Conflict, Forbidden, applications
from webapp.services.accounts import create_user
from webapp.services.applications import cancel_application, complete_task
from webapp.services.tasks import claim_task

RACERS = 10


@pytest.fixture
def reviewers(demo_db: Database) -> list[str]:
    """Ten members of the policy review team (政策审核组)."""
    names = [f"reviewer{index}" for index in range(RACERS)]
    with demo_db.write() as session:
        for name in names:
            create_user(session, actor="admin", username=name, password="reviewer-pw",
                        park_slug="demo", role="reviewer", groups=["政策审核组"])
    return names


def test_ten_completions_of_one_task_one_wins_nine_conflict(
    demo_db: Database, reviewers: list[str]
) -> None:
    instance_id = start(demo_db)
    review = open_tasks(demo_db, instance_id)["preliminary_review"]
    version = load_instance(demo_db, instance_id).version

    def finish(index: int) -> str:
        complete_task(demo_db, task_id=review.id, actor=reviewers[index],
                      data={"outcome": "approve", "comment": f"checked by {reviewers[index]}"})
        return reviewers[index]

    outcomes = run_together(RACERS, finish)

    winners = [outcome for outcome in outcomes if isinstance(outcome, str)]
    losers = [outcome for outcome in outcomes if not isinstance(outcome, str)]
    assert len(winners) == 1, outcomes
    # a Conflict and nothing else: no deadlock, no "database is locked", no stale write
    assert [type(loser) for loser in losers] == [Conflict] * (RACERS - 1), losers
    assert all(f"already completed by {winners[0]}" in str(loser) for loser in losers), losers

    [step] = [s for s in history(demo_db, instance_id) if s.task_id == review.id]
    assert (step.completed_by, step.data) == (
        winners[0], {"outcome": "approve", "comment": f"checked by {winners[0]}"})
    assert list(open_tasks(demo_db, instance_id)) == ["director_review"]
    with demo_db.read() as session:
        directors = session.scalars(select(HumanTask).where(
            HumanTask.instance_id == instance_id, HumanTask.element_id == "director_review"))
        assert len(directors.all()) == 1
        row = session.get_one(HumanTask, review.id)
        assert (row.status, row.completed_by) == ("completed", winners[0])
    completions = [e for e in audit_events(demo_db, instance_id) if e.action == "task.completed"]
    assert [e.actor for e in completions] == winners
    assert load_instance(demo_db, instance_id).version == version + 1


@pytest.mark.parametrize("round_", range(3))
def test_two_branches_of_a_parallel_split_complete_at_once_and_join(
    demo_db: Database, round_: int
) -> None:
    instance_id = start(demo_db, key="tax_docking", data=TAX_REGISTRATION)
    complete(demo_db, instance_id, "tax_review", {"outcome": "approve"}, "liu.yang")
    branches = open_tasks(demo_db, instance_id)
    assert sorted(branches) == ["invoice_quota", "tax_type_assessment"]
    answers = [("invoice_quota", INVOICE_QUOTA), ("tax_type_assessment", TAX_TYPES)]

    def finish(index: int) -> str:
        element_id, data = answers[index]
        complete_task(demo_db, task_id=branches[element_id].id, data=data, actor="liu.yang")
        return element_id

    outcomes = run_together(2, finish)

    assert outcomes == ["invoice_quota", "tax_type_assessment"]
    assert list(open_tasks(demo_db, instance_id)) == ["enterprise_confirmation"]
    finished = [step.element_id for step in history(demo_db, instance_id)
                if step.kind == "UserTask"]
    assert sorted(finished) == ["invoice_quota", "tax_review", "tax_type_assessment"]
    instance = load_instance(demo_db, instance_id)
    assert instance.status == "active"
    # both branches' answers reached the enterprise's confirmation
    assert instance.data_summary["invoice_limit"] == INVOICE_QUOTA["invoice_limit"]
    assert instance.data_summary["filing_period"] == TAX_TYPES["filing_period"]


def test_racing_starts_get_distinct_references(demo_db: Database) -> None:
    outcomes = run_together(RACERS, lambda _index: start(demo_db, data=APPLICATION))

    assert all(isinstance(outcome, str) for outcome in outcomes), outcomes
    references = {load_instance(demo_db, str(outcome)).reference for outcome in outcomes}
    assert len(references) == RACERS


def test_a_completion_racing_a_cancellation_never_revives_the_application(
    demo_db: Database,
) -> None:
    instance_id = start(demo_db)
    review = open_tasks(demo_db, instance_id)["preliminary_review"]

    def act(index: int) -> str:
        if index == 0:
            cancel_application(demo_db, instance_id=instance_id, actor="admin")
            return "cancelled"
        complete_task(demo_db, task_id=review.id, data={"outcome": "approve"},
                      actor="zhang.wei")
        return "completed"

    cancelled, completed = run_together(2, act)

    assert cancelled == "cancelled"
    assert completed == "completed" or type(completed) is Conflict, completed
    instance = load_instance(demo_db, instance_id)
    assert instance.status == "cancelled"
    assert open_tasks(demo_db, instance_id) == {}
    assert pending_timers(demo_db, instance_id) == {}


# --- SQLite: the engine runs before the write lock ---------------------------------------------

def _meanwhile(monkeypatch: pytest.MonkeyPatch, change: Callable[[], object], *,
               at: str = "engine") -> list[str]:
    """Make ``change`` happen, in another thread, while the next completion runs its engine
    (``at="engine"``) or works out the rows it will write (``at="rows"``: at its audit event,
    after the snapshot's rows), after its unlocked read and before its write lock; returns
    the times a completion passed that point, in order."""
    calls: list[str] = []

    def then_change() -> None:
        calls.append(at)
        if len(calls) == 1:
            failure: list[BaseException] = []
            other = threading.Thread(target=lambda: _capture(change, failure))
            other.start()
            other.join(timeout=30)
            assert not other.is_alive(), "the other change waited for a lock it should not"
            assert not failure, failure

    if at == "engine":
        engine_call = applications._engine_call

        def engine_then_change(call: Callable[[], Any]) -> Any:
            result = engine_call(call)
            then_change()
            return result

        monkeypatch.setattr(applications, "_engine_call", engine_then_change)
    else:
        append = applications.audit.append

        def audit_then_change(*args: Any, **kwargs: Any) -> None:
            append(*args, **kwargs)
            then_change()

        monkeypatch.setattr(applications.audit, "append", audit_then_change)
    return calls


def _capture(change: Callable[[], object], failure: list[BaseException]) -> None:
    try:
        change()
    except BaseException as exc:  # noqa: BLE001 -- handed to the test thread
        failure.append(exc)


@pytest.fixture
def sqlite_db(demo_db: Database, reviewers: list[str]) -> Database:
    """The demo database with the reviewers, on SQLite only: PostgreSQL locks the rows it
    reads and runs the engine under that lock, so nothing can happen meanwhile."""
    if demo_db.backend != "sqlite":
        pytest.skip("PostgreSQL locks the rows read, and runs the engine under that lock")
    return demo_db


def test_the_engine_runs_outside_the_write_lock_on_sqlite(
    sqlite_db: Database, reviewers: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = start(sqlite_db), start(sqlite_db)
    other_review = open_tasks(sqlite_db, second)["preliminary_review"]
    # another application's completion goes through while this one's engine runs
    calls = _meanwhile(monkeypatch, lambda: complete(
        sqlite_db, second, "preliminary_review", {"outcome": "approve"}, reviewers[0]))

    complete(sqlite_db, first, "preliminary_review", {"outcome": "approve"}, "zhang.wei")

    assert calls == ["engine", "engine"]  # this one's, then the other's; no second run
    assert list(open_tasks(sqlite_db, first)) == ["director_review"]
    assert other_review.id not in {t.id for t in open_tasks(sqlite_db, second).values()}


@pytest.mark.parametrize("at", ["engine", "rows"])
def test_a_task_completed_meanwhile_is_a_conflict_and_nothing_of_this_one_is_written(
    sqlite_db: Database, reviewers: list[str], monkeypatch: pytest.MonkeyPatch, at: str
) -> None:
    instance_id = start(sqlite_db)
    review = open_tasks(sqlite_db, instance_id)["preliminary_review"]
    version = load_instance(sqlite_db, instance_id).version
    _meanwhile(monkeypatch, lambda: complete_task(
        sqlite_db, task_id=review.id, data={"outcome": "return", "return_reasons": ["缺少材料"]},
        actor=reviewers[0]), at=at)

    with pytest.raises(Conflict, match=f"already completed by {reviewers[0]}"):
        complete_task(sqlite_db, task_id=review.id, data={"outcome": "approve"},
                      actor="zhang.wei")

    assert load_instance(sqlite_db, instance_id).version == version + 1
    assert list(open_tasks(sqlite_db, instance_id)) == ["correction"]
    [step] = [s for s in history(sqlite_db, instance_id) if s.task_id == review.id]
    assert (step.completed_by, step.outcome) == (reviewers[0], "return")
    completed = [e for e in audit_events(sqlite_db, instance_id) if e.action == "task.completed"]
    assert [e.actor for e in completed] == [reviewers[0]]


def test_a_task_claimed_by_someone_else_meanwhile_is_refused(
    sqlite_db: Database, reviewers: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    instance_id = start(sqlite_db)
    review = open_tasks(sqlite_db, instance_id)["preliminary_review"]
    # a claim changes the task row only, not the instance's version
    _meanwhile(monkeypatch, lambda: claim_task(sqlite_db, task_id=review.id, actor=reviewers[0]))

    with pytest.raises(Forbidden):
        complete_task(sqlite_db, task_id=review.id, data={"outcome": "approve"},
                      actor="zhang.wei")

    assert list(open_tasks(sqlite_db, instance_id)) == ["preliminary_review"]
    assert open_tasks(sqlite_db, instance_id)["preliminary_review"].assignee == reviewers[0]


def test_a_parallel_branch_completed_meanwhile_runs_the_engine_again(
    sqlite_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    instance_id = start(sqlite_db, key="tax_docking", data=TAX_REGISTRATION)
    complete(sqlite_db, instance_id, "tax_review", {"outcome": "approve"}, "liu.yang")
    calls = _meanwhile(monkeypatch, lambda: complete(
        sqlite_db, instance_id, "invoice_quota", INVOICE_QUOTA, "liu.yang"))

    complete(sqlite_db, instance_id, "tax_type_assessment", TAX_TYPES, "liu.yang")

    # the first run saw the other branch still open; its result was thrown away
    assert calls == ["engine", "engine", "engine"]
    assert list(open_tasks(sqlite_db, instance_id)) == ["enterprise_confirmation"]
    instance = load_instance(sqlite_db, instance_id)
    assert instance.data_summary["invoice_limit"] == INVOICE_QUOTA["invoice_limit"]
    assert instance.data_summary["filing_period"] == TAX_TYPES["filing_period"]


def test_the_rows_are_worked_out_outside_the_write_lock_on_sqlite(
    sqlite_db: Database, reviewers: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = start(sqlite_db), start(sqlite_db)
    # another application's completion goes through while this one works out its rows
    calls = _meanwhile(monkeypatch, lambda: complete(
        sqlite_db, second, "preliminary_review", {"outcome": "approve"}, reviewers[0]),
        at="rows")

    complete(sqlite_db, first, "preliminary_review", {"outcome": "approve"}, "zhang.wei")

    assert calls == ["rows", "rows"]  # this one's, then the other's; no second run
    for instance_id, who in ((first, "zhang.wei"), (second, reviewers[0])):
        assert list(open_tasks(sqlite_db, instance_id)) == ["director_review"]
        [step] = [s for s in history(sqlite_db, instance_id)
                  if s.element_id == "preliminary_review"]
        assert step.completed_by == who
        assert [e.actor for e in audit_events(sqlite_db, instance_id)
                if e.action == "task.completed"] == [who]
