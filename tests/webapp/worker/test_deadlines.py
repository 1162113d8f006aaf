"""Task time limits: due soon, overdue, escalated each working day; the paused promise."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

import time_machine
from sqlalchemy import select

from tests.webapp.fixtures import (
    CORRECTION,
    HANDOVER,
    REASONS,
    complete,
    day_end,
    load_instance,
    local,
    open_tasks,
    start,
)
from tests.webapp.worker.test_timers import to_public_notice
from webapp.db import Database
from webapp.models import Job, Notification, Park
from webapp.services import accounts
from webapp.worker import Worker

Inbox = Callable[..., list[tuple[str, str, str]]]


def notified(db: Database, task_id: str) -> list[tuple[str, str]]:
    """(kind, username) of the notifications about one task, oldest first."""
    from webapp.models import User

    with db.read() as session:
        return [(kind, name) for kind, name in session.execute(
            select(Notification.kind, User.username).join(User, User.id == Notification.user_id)
            .where(Notification.task_id == task_id).order_by(Notification.id))]


def at(when: datetime, worker: Worker, clock: time_machine.Traveller) -> None:
    """Move the clock to just after ``when`` and let the worker catch up."""
    clock.move_to(when + timedelta(seconds=1))
    worker.run_until_idle()


def test_a_review_is_announced_reminded_then_overdue_and_escalated_each_working_day(
        demo_db: Database, worker: Worker, clock: time_machine.Traveller,
        inbox: Inbox) -> None:
    instance_id = start(demo_db)
    reference = load_instance(demo_db, instance_id).reference
    review = open_tasks(demo_db, instance_id)["preliminary_review"]
    assert (review.follow_up_at, review.due_at) == (day_end(4), day_end(5))

    worker.run_until_idle()
    assert inbox() == [("zhang.wei", "task_waiting", f"待办：初审（{reference}）")]

    at(day_end(4) - timedelta(seconds=2), worker, clock)
    assert notified(demo_db, review.id) == [("task_waiting", "zhang.wei")]
    at(day_end(4), worker, clock)
    assert notified(demo_db, review.id)[1:] == [("due_soon", "zhang.wei")]
    assert inbox("due_soon") == [("zhang.wei", "due_soon", f"即将到期：初审（{reference}）")]

    at(day_end(5), worker, clock)  # Thursday: overdue; the escalation group is 部门负责人
    assert notified(demo_db, review.id)[2:] == [("overdue", "zhang.wei"), ("escalated", "li.na")]
    assert inbox("escalated") == [("li.na", "escalated", f"逾期督办：初审（{reference}）")]
    at(day_end(6), worker, clock)  # Friday: again
    at(day_end(7), worker, clock)  # the weekend: nothing
    at(day_end(8), worker, clock)
    assert [kind for kind, _ in notified(demo_db, review.id)].count("overdue") == 2
    at(day_end(9), worker, clock)  # Monday: again
    assert notified(demo_db, review.id)[2:] == [
        ("overdue", "zhang.wei"), ("escalated", "li.na")] * 3

    complete(demo_db, instance_id, "preliminary_review", {"outcome": "approve"}, "zhang.wei")
    with demo_db.read() as session:
        left = session.scalars(select(Job.kind).where(
            Job.task_id == review.id, Job.status == "pending")).all()
    assert left == []
    at(day_end(10), worker, clock)
    at(day_end(11), worker, clock)
    assert len(notified(demo_db, review.id)) == 8


def test_an_assigned_task_reminds_its_holder_only(
        demo_db: Database, worker: Worker, clock: time_machine.Traveller) -> None:
    with demo_db.write() as session:
        accounts.create_user(session, actor="admin", username="sun.li", password="secret-pw-1",
                             park_slug="demo", role="reviewer", groups=["政策审核组"])
    instance_id = start(demo_db)
    review = open_tasks(demo_db, instance_id)["preliminary_review"]
    worker.run_until_idle()
    assert sorted(notified(demo_db, review.id)) == [("task_waiting", "sun.li"),
                                                   ("task_waiting", "zhang.wei")]
    with demo_db.write() as session:
        session.get_one(type(review), review.id).assignee = "sun.li"

    at(day_end(4), worker, clock)
    assert notified(demo_db, review.id)[2:] == [("due_soon", "sun.li")]
    at(day_end(5), worker, clock)  # overdue: everyone on the task hears of it
    assert sorted(notified(demo_db, review.id)[3:]) == [
        ("escalated", "li.na"), ("overdue", "sun.li"), ("overdue", "zhang.wei")]


def test_a_return_tells_the_enterprise_once_with_every_reason_and_pauses_the_promise(
        demo_db: Database, worker: Worker, clock: time_machine.Traveller,
        inbox: Inbox) -> None:
    instance_id = start(demo_db)
    promised = load_instance(demo_db, instance_id).promised_at
    assert promised == day_end(30)  # 20 working days from Monday 2 March, to the day's end

    clock.move_to(local(3, 10))
    complete(demo_db, instance_id, "preliminary_review",
             {"outcome": "return", "return_reasons": REASONS}, "zhang.wei")
    correction = open_tasks(demo_db, instance_id)["correction"]
    # only a due time was given (5WD): the early warning is one working day before it
    assert (correction.due_at, correction.follow_up_at) == (day_end(10), day_end(9))
    worker.run_until_idle()
    reference = load_instance(demo_db, instance_id).reference
    assert inbox("returned", "task_waiting")[-1:] == [
        ("xinghe", "returned", f"申请 {reference} 被退回补正")]
    assert notified(demo_db, correction.id) == [("returned", "xinghe")]
    with demo_db.read() as session:
        body = session.scalars(select(Notification.body).where(
            Notification.kind == "returned")).one()
    assert all(reason in body for reason in REASONS) and "补正材料" in body
    assert "办理期限 3月10日（周二）" in body  # a limit in working days is told by its day

    at(day_end(9), worker, clock)  # the enterprise is reminded; nobody is escalated to
    assert notified(demo_db, correction.id) == [("returned", "xinghe"), ("due_soon", "xinghe")]
    clock.move_to(local(9, 18))
    complete(demo_db, instance_id, "correction", CORRECTION, "xinghe")

    held = local(9, 18) - local(3, 10)  # six days and eight hours
    instance = load_instance(demo_db, instance_id)
    assert instance.promised_at == promised + held
    assert instance.paused_seconds == held.total_seconds()
    # the review that follows the correction is announced again, as a new task
    review = open_tasks(demo_db, instance_id)["preliminary_review"]
    worker.run_until_idle()
    assert notified(demo_db, review.id) == [("task_waiting", "zhang.wei")]


def test_an_overdue_task_without_its_own_group_escalates_to_the_parks(
        demo_db: Database, worker: Worker, clock: time_machine.Traveller) -> None:
    with demo_db.write() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        park.settings = {**park.settings, "default_escalation_group": "园区领导"}
    instance_id = to_public_notice(demo_db)
    at(local(9), worker, clock)  # the public notice ends; finance takes over, 5WD
    handover = open_tasks(demo_db, instance_id)["disbursement_handover"]
    assert handover.due_at == day_end(16)
    at(day_end(16), worker, clock)
    assert notified(demo_db, handover.id)[-2:] == [("overdue", "zhao.min"),
                                                  ("escalated", "wang.qiang")]


def test_a_finished_application_invites_the_enterprise_to_rate(
        demo_db: Database, worker: Worker, clock: time_machine.Traveller,
        inbox: Inbox) -> None:
    instance_id = to_public_notice(demo_db)
    at(local(9), worker, clock)
    complete(demo_db, instance_id, "disbursement_handover", HANDOVER, "zhao.min")
    worker.run_until_idle()
    worker.run_until_idle()
    reference = load_instance(demo_db, instance_id).reference
    assert inbox("completed") == [("xinghe", "completed", f"申请 {reference} 已办结")]
    with demo_db.read() as session:
        body = session.scalars(select(Notification.body).where(
            Notification.kind == "completed")).one()
    assert "评价" in body


def test_overdue_repeats_skip_the_parks_holidays(
        demo_db: Database, worker: Worker, clock: time_machine.Traveller) -> None:
    with demo_db.write() as session:
        accounts.set_calendar_day(session, actor="admin", park_slug="demo",
                                  day=date(2026, 3, 6), kind="holiday")
    instance_id = start(demo_db)
    review = open_tasks(demo_db, instance_id)["preliminary_review"]
    assert review.due_at is not None
    at(review.due_at, worker, clock)  # Thursday 5 March
    at(day_end(6), worker, clock)     # the park's holiday
    assert [k for k, _ in notified(demo_db, review.id)].count("overdue") == 1
    with demo_db.read() as session:
        overdue_job = session.scalars(select(Job).where(
            Job.task_id == review.id, Job.kind == "overdue")).one()
        assert overdue_job.due_at == day_end(9)
    at(day_end(9), worker, clock)
    assert [k for k, _ in notified(demo_db, review.id)].count("overdue") == 2
