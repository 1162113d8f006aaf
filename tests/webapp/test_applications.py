"""The application services on the demo park: start, complete, timers, messages, cancel.

Every test runs on SQLite and, when configured, on PostgreSQL (the ``db`` fixture), with the
clock frozen on Monday 2 March 2026, 09:00 in Shanghai.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import func, select

from forms import load_forms
from tests.engine.test_processes import INVOICE_QUOTA, TAX_REGISTRATION, TAX_TYPES
from tests.webapp.fixtures import (
    APPLICATION,
    BANK_RECEIPT,
    CORRECTION,
    DISBURSEMENT,
    ENTERPRISE,
    HANDOVER,
    PROCESSES,
    REASONS,
    audit_events,
    complete,
    day_end,
    history,
    load_instance,
    local,
    open_tasks,
    pending_timers,
    start,
    waits,
)
from webapp.db import Database
from webapp.models import AuditEvent, HumanTask, Instance, Job, ProcessDefinition, User
from webapp.services import Conflict, Forbidden, Invalid, NotFound
from webapp.services.accounts import create_user, get_park
from webapp.services.applications import (
    cancel_application,
    complete_task,
    deliver_message,
    fire_timers,
    retry_application,
)
from webapp.services.processes import Deployed, deploy

pytestmark = pytest.mark.usefixtures("clock")

RETURN = {"outcome": "return", "return_reasons": REASONS}
APPROVE = {"outcome": "approve", "comment": "材料齐全"}


def approved_by_the_director(db: Database) -> str:
    """A subsidy application approved at both reviews, now in its public notice period."""
    instance_id = start(db)
    complete(db, instance_id, "preliminary_review", APPROVE, "zhang.wei")
    complete(db, instance_id, "director_review", {"outcome": "approve"}, "li.na")
    return instance_id


def count(db: Database, model: type) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# --- starting ---------------------------------------------------------------------------


def test_start_stores_the_application_its_first_task_history_and_audit(demo_db: Database) -> None:
    instance_id = start(demo_db)

    instance = load_instance(demo_db, instance_id)
    assert (instance.reference, instance.status, instance.ended_at) == (
        "DEMO-2026-000001", "active", None)
    assert instance.enterprise is not None and instance.enterprise.name == ENTERPRISE
    assert (instance.definition.key, instance.definition.version) == ("policy_subsidy", 1)
    # 20 working days, weekends excluded
    assert instance.promised_at == day_end(30)
    # the enterprise's name comes from its record, whatever the application typed
    assert APPLICATION["company_name"] != ENTERPRISE
    assert instance.data_summary["company_name"] == ENTERPRISE
    with demo_db.read() as session:
        starter = session.get_one(User, instance.started_by)
        assert starter.username == "xinghe"

    review = open_tasks(demo_db, instance_id)["preliminary_review"]
    assert (review.name, review.lane, review.candidate_groups, review.assignee) == (
        "初审", "政策审核组", ["政策审核组"], None)
    assert (review.form_key, review.due_at, review.follow_up_at) == (
        "policy_subsidy_review", day_end(5), day_end(4))
    assert list(open_tasks(demo_db, instance_id)) == ["preliminary_review"]

    steps = history(demo_db, instance_id)
    assert steps[0].element_id == "Event_submitted" and steps[0].kind == "StartEvent"
    assert not any(step.kind == "UserTask" for step in steps)
    [event] = audit_events(demo_db, instance_id)
    assert (event.action, event.actor) == ("application.started", "xinghe")
    assert event.details == {"process_key": "policy_subsidy", "version": 1,
                             "reference": "DEMO-2026-000001", "enterprise": ENTERPRISE}

    assert load_instance(demo_db, start(demo_db)).reference == "DEMO-2026-000002"


def test_an_admin_starts_for_a_named_enterprise(demo_db: Database) -> None:
    with pytest.raises(Invalid) as caught:
        start(demo_db, actor="admin")
    assert caught.value.details == {"enterprise": ["is required when an administrator applies"]}
    with pytest.raises(NotFound, match="enterprise 'nobody' does not exist"):
        start(demo_db, actor="admin", enterprise_name="nobody")
    assert count(demo_db, Instance) == 0

    instance_id = start(demo_db, actor="admin", enterprise_name=ENTERPRISE)
    instance = load_instance(demo_db, instance_id)
    assert instance.enterprise is not None and instance.enterprise.name == ENTERPRISE


def test_reviewers_cannot_start_applications(demo_db: Database) -> None:
    with pytest.raises(Forbidden):
        start(demo_db, actor="zhang.wei")
    assert count(demo_db, Instance) == 0


def test_starting_an_unknown_procedure_is_not_found(demo_db: Database) -> None:
    with pytest.raises(NotFound, match="procedure 'no_such_process' in park 'demo'"):
        start(demo_db, key="no_such_process")
    assert count(demo_db, Instance) == 0


def test_an_application_failing_its_form_is_refused_field_by_field(demo_db: Database) -> None:
    bad = {**APPLICATION, "credit_code": "12345", "commitment": False, "attachments": []}
    with pytest.raises(Invalid) as caught:
        start(demo_db, data=bad)
    assert {"credit_code", "commitment", "attachments"} <= set(caught.value.details)
    assert count(demo_db, Instance) == 0
    with demo_db.read() as session:
        assert session.scalars(select(AuditEvent.action).where(
            AuditEvent.action == "application.started")).all() == []


# --- reviewing and correcting -----------------------------------------------------------


def test_return_for_correction_waits_for_the_applying_enterprise(demo_db: Database) -> None:
    instance_id = start(demo_db)
    review_id = complete(demo_db, instance_id, "preliminary_review", RETURN, "zhang.wei")

    returned = [step for step in history(demo_db, instance_id) if step.task_id == review_id]
    assert len(returned) == 1
    assert (returned[0].element_id, returned[0].completed_by, returned[0].outcome) == (
        "preliminary_review", "zhang.wei", "return")
    assert returned[0].data == RETURN
    correction = open_tasks(demo_db, instance_id)["correction"]
    assert (correction.name, correction.lane, correction.candidate_groups) == (
        "补正材料", "企业", ["企业"])
    assert correction.due_at == day_end(9)
    assert pending_timers(demo_db, instance_id)["Event_correction_expired"].due_at == local(16)

    for outsider in ("lanhai", "zhang.wei", "admin"):
        with pytest.raises(Forbidden):
            complete_task(demo_db, task_id=correction.id, data=CORRECTION, actor=outsider)
    assert open_tasks(demo_db, instance_id)["correction"].id == correction.id

    # any user of the applying enterprise may answer, not only the one who applied
    with demo_db.write() as session:
        create_user(session, actor="admin", username="xinghe.2", password="colleague-pw",
                    park_slug="demo", role="enterprise", enterprise=ENTERPRISE)
    complete_task(demo_db, task_id=correction.id, data=CORRECTION, actor="xinghe.2")

    tasks = open_tasks(demo_db, instance_id)
    assert list(tasks) == ["preliminary_review"] and tasks["preliminary_review"].id != review_id
    assert pending_timers(demo_db, instance_id) == {}
    actions = [(e.action, e.actor) for e in audit_events(demo_db, instance_id)]
    assert actions == [("application.started", "xinghe"), ("task.completed", "zhang.wei"),
                       ("task.completed", "xinghe.2")]


def test_a_step_without_an_outcome_field_records_no_outcome(demo_db: Database) -> None:
    instance_id = start(demo_db)
    complete(demo_db, instance_id, "preliminary_review", RETURN, "zhang.wei")
    correction_id = complete(demo_db, instance_id, "correction", CORRECTION, "xinghe")

    [step] = [s for s in history(demo_db, instance_id) if s.task_id == correction_id]
    assert step.outcome is None


def test_completing_a_completed_task_is_a_conflict_that_says_why(demo_db: Database) -> None:
    instance_id = start(demo_db)
    review_id = complete(demo_db, instance_id, "preliminary_review", APPROVE, "zhang.wei")
    steps = len(history(demo_db, instance_id))

    with pytest.raises(Conflict) as caught:
        complete_task(demo_db, task_id=review_id, data=APPROVE, actor="zhang.wei")
    assert caught.value.message == (
        "“初审” was already completed by zhang.wei; reload to see where the application is")
    assert len(history(demo_db, instance_id)) == steps
    assert list(open_tasks(demo_db, instance_id)) == ["director_review"]


def test_completing_an_unknown_task_is_not_found(demo_db: Database) -> None:
    start(demo_db)
    with pytest.raises(NotFound, match="task 'no-such-task' does not exist"):
        complete_task(demo_db, task_id="no-such-task", data=APPROVE, actor="zhang.wei")


@pytest.mark.parametrize(("data", "fields"), [
    ({"outcome": "return"}, {"return_reasons"}),
    ({"outcome": "reject", "comment": ""}, {"comment"}),
    ({"outcome": "accept"}, {"outcome"}),
])
def test_form_errors_are_invalid_with_details_per_field(
    demo_db: Database, data: dict[str, object], fields: set[str]
) -> None:
    instance_id = start(demo_db)
    review = open_tasks(demo_db, instance_id)["preliminary_review"]
    steps = len(history(demo_db, instance_id))

    with pytest.raises(Invalid) as caught:
        complete_task(demo_db, task_id=review.id, data=data, actor="zhang.wei")
    assert set(caught.value.details) == fields
    assert all(isinstance(message, str) for field in fields
               for message in caught.value.details[field])
    assert open_tasks(demo_db, instance_id)["preliminary_review"].id == review.id
    assert len(history(demo_db, instance_id)) == steps


def test_reserved_keys_are_refused(demo_db: Database) -> None:
    instance_id = start(demo_db)
    review = open_tasks(demo_db, instance_id)["preliminary_review"]

    with pytest.raises(Invalid) as caught:
        complete_task(demo_db, task_id=review.id, actor="zhang.wei",
                      data={**APPROVE, "_state": 1, "pf_version": 2, "class": 3})
    assert caught.value.details == {"_state": ["is a reserved name"],
                                    "pf_version": ["is a reserved name"],
                                    "class": ["is a reserved name"]}
    with pytest.raises(Invalid) as caught:
        start(demo_db, data={**APPLICATION, "__builtins__": {}})
    assert caught.value.details == {"__builtins__": ["is a reserved name"]}
    assert open_tasks(demo_db, instance_id)["preliminary_review"].id == review.id


# --- timers -----------------------------------------------------------------------------


def test_the_public_notice_timer_fires_when_its_time_has_come(
    demo_db: Database, clock: time_machine.Traveller
) -> None:
    instance_id = approved_by_the_director(demo_db)
    assert open_tasks(demo_db, instance_id) == {}
    notice = pending_timers(demo_db, instance_id)
    assert list(notice) == ["public_notice"]
    assert notice["public_notice"].due_at == local(9)

    # a timer not yet due fires nothing, and its job stays
    clock.move_to(local(9) - timedelta(seconds=1))
    fire_timers(demo_db, instance_id=instance_id)
    assert open_tasks(demo_db, instance_id) == {}
    assert pending_timers(demo_db, instance_id)["public_notice"].id == notice["public_notice"].id

    clock.move_to(local(9, second=1))
    fire_timers(demo_db, instance_id=instance_id)

    handover = open_tasks(demo_db, instance_id)["disbursement_handover"]
    assert (handover.lane, handover.candidate_groups) == ("财务部", ["财务部"])
    assert pending_timers(demo_db, instance_id) == {}
    assert history(demo_db, instance_id)[-1].element_id == "public_notice"
    fired = [e for e in audit_events(demo_db, instance_id) if e.action == "timers.fired"]
    assert [(e.actor, e.details["steps"]) for e in fired] == [(None, ["public_notice"])]

    complete(demo_db, instance_id, "disbursement_handover", HANDOVER, "zhao.min")
    instance = load_instance(demo_db, instance_id)
    assert (instance.status, instance.ended_at) == ("completed", local(9, second=1))
    assert open_tasks(demo_db, instance_id) == {}
    assert history(demo_db, instance_id)[-1].element_id == "Event_completed"


def test_a_timer_no_longer_waited_for_loses_its_job(demo_db: Database) -> None:
    instance_id = start(demo_db)
    complete(demo_db, instance_id, "preliminary_review", APPROVE, "zhang.wei")
    overdue = pending_timers(demo_db, instance_id)
    assert list(overdue) == ["Event_director_overdue"]
    assert overdue["Event_director_overdue"].due_at == local(4)

    complete(demo_db, instance_id, "director_review", {"outcome": "approve"}, "li.na")

    assert "Event_director_overdue" not in pending_timers(demo_db, instance_id)
    assert list(pending_timers(demo_db, instance_id)) == ["public_notice"]


def test_an_overdue_director_review_goes_to_the_park_leaders(
    demo_db: Database, clock: time_machine.Traveller
) -> None:
    instance_id = start(demo_db)
    complete(demo_db, instance_id, "preliminary_review", APPROVE, "zhang.wei")
    director = open_tasks(demo_db, instance_id)["director_review"]

    clock.move_to(local(4, second=1))
    fire_timers(demo_db, instance_id=instance_id)

    assert list(open_tasks(demo_db, instance_id)) == ["leader_review"]
    assert pending_timers(demo_db, instance_id) == {}
    with demo_db.read() as session:
        withdrawn = session.get_one(HumanTask, director.id)
        assert (withdrawn.status, withdrawn.completed_by) == ("cancelled", None)
    with pytest.raises(Conflict, match="no longer open"):
        complete_task(demo_db, task_id=director.id, data={"outcome": "approve"}, actor="li.na")


# --- messages ---------------------------------------------------------------------------


def waiting_for_the_bank(db: Database) -> str:
    instance_id = start(db, key="fund_disbursement", data=DISBURSEMENT, actor="admin",
                        enterprise_name=ENTERPRISE)
    complete(db, instance_id, "finance_review",
             {"outcome": "approve", "budget_subject": "科技创新专项资金"}, "zhao.min")
    complete(db, instance_id, "leader_approval", {"outcome": "approve"}, "wang.qiang")
    complete(db, instance_id, "payment_order",
             {"payment_voucher_no": "FK-2026-0310", "payment_date": "2026-03-02"}, "zhao.min")
    assert open_tasks(db, instance_id) == {}
    return instance_id


def test_the_bank_confirmation_completes_the_disbursement(demo_db: Database) -> None:
    instance_id = waiting_for_the_bank(demo_db)
    assert waits(demo_db, instance_id) == [
        ("bank_confirmation", '{"application_no":"DEMO-2026-000001"}')]
    assert list(pending_timers(demo_db, instance_id)) == ["Gateway_wait_bank"]

    deliver_message(demo_db, instance_id=instance_id, name="bank_confirmation",
                    payload=BANK_RECEIPT, actor="bank")

    instance = load_instance(demo_db, instance_id)
    assert instance.status == "completed"
    assert waits(demo_db, instance_id) == []
    assert pending_timers(demo_db, instance_id) == {}
    passed = [step.element_id for step in history(demo_db, instance_id)]
    assert "Event_bank_confirmation" in passed and passed[-1] == "Event_paid"
    event = audit_events(demo_db, instance_id)[-1]
    assert (event.action, event.actor, event.details["message"]) == (
        "message.delivered", "bank", "bank_confirmation")


@pytest.mark.parametrize(("name", "payload"), [
    ("bank_confirmation", {**BANK_RECEIPT, "application_no": "DEMO-2026-000002"}),
    ("no_such_message", BANK_RECEIPT),
])
def test_a_message_nothing_waits_for_is_not_found(
    demo_db: Database, name: str, payload: dict[str, object]
) -> None:
    instance_id = waiting_for_the_bank(demo_db)
    version = load_instance(demo_db, instance_id).version

    with pytest.raises(NotFound):
        deliver_message(demo_db, instance_id=instance_id, name=name, payload=payload,
                        actor="bank")

    instance = load_instance(demo_db, instance_id)
    assert (instance.status, instance.version) == ("active", version)
    assert [wait[0] for wait in waits(demo_db, instance_id)] == ["bank_confirmation"]
    assert audit_events(demo_db, instance_id)[-1].action == "task.completed"


def test_changing_an_unknown_application_is_not_found(demo_db: Database) -> None:
    with pytest.raises(NotFound, match="application 'nope' does not exist"):
        deliver_message(demo_db, instance_id="nope", name="bank_confirmation",
                        payload=BANK_RECEIPT, actor="bank")


# --- cancel and retry -------------------------------------------------------------------


def test_cancelling_withdraws_open_tasks_and_timers(demo_db: Database) -> None:
    instance_id = start(demo_db)
    complete(demo_db, instance_id, "preliminary_review", RETURN, "zhang.wei")
    correction = open_tasks(demo_db, instance_id)["correction"]
    assert list(pending_timers(demo_db, instance_id)) == ["Event_correction_expired"]

    cancel_application(demo_db, instance_id=instance_id, actor="admin", reason="企业撤回申请")

    instance = load_instance(demo_db, instance_id)
    assert (instance.status, instance.ended_at) == ("cancelled", local(2))
    assert open_tasks(demo_db, instance_id) == {}
    with demo_db.read() as session:
        assert session.get_one(HumanTask, correction.id).status == "cancelled"
    assert pending_timers(demo_db, instance_id) == {}
    event = audit_events(demo_db, instance_id)[-1]
    assert (event.action, event.actor, event.details["reason"]) == (
        "application.cancelled", "admin", "企业撤回申请")

    with pytest.raises(Conflict, match="no longer open"):
        complete_task(demo_db, task_id=correction.id, data=CORRECTION, actor="xinghe")
    with pytest.raises(Conflict, match="DEMO-2026-000001 is already cancelled"):
        cancel_application(demo_db, instance_id=instance_id, actor="admin")


def test_retrying_an_application_without_an_error_changes_nothing(demo_db: Database) -> None:
    instance_id = start(demo_db)
    complete(demo_db, instance_id, "preliminary_review", APPROVE, "zhang.wei")
    tasks = {element: task.id for element, task in open_tasks(demo_db, instance_id).items()}
    timers = {element: job.due_at for element, job in pending_timers(demo_db, instance_id).items()}
    steps = len(history(demo_db, instance_id))

    retry_application(demo_db, instance_id=instance_id, actor="admin")

    instance = load_instance(demo_db, instance_id)
    assert (instance.status, instance.error) == ("active", None)
    assert {e: t.id for e, t in open_tasks(demo_db, instance_id).items()} == tasks
    assert {e: j.due_at for e, j in pending_timers(demo_db, instance_id).items()} == timers
    assert len(history(demo_db, instance_id)) == steps
    complete(demo_db, instance_id, "director_review", {"outcome": "approve"}, "li.na")
    assert list(pending_timers(demo_db, instance_id)) == ["public_notice"]


# --- deploying new versions -------------------------------------------------------------


def deploy_demo(db: Database, *, changes: dict[str, tuple[str, str]] | None = None,
                ) -> dict[str, Deployed]:
    """Deploy the shipped procedures, text-replaced per file name; results by key."""
    bpmn = {path.name: path.read_bytes() for path in sorted(PROCESSES.glob("*.bpmn"))}
    for name, (old, new) in (changes or {}).items():
        assert old.encode() in bpmn[name]
        bpmn[name] = bpmn[name].replace(old.encode(), new.encode())
    dmn = {path.name: path.read_bytes() for path in sorted(PROCESSES.glob("*.dmn"))}
    with db.write() as session:
        results = deploy(session, park=get_park(session, "demo"), actor="admin",
                         bpmn=bpmn, dmn=dmn, forms=load_forms())
    return {result.key: result for result in results}


def test_redeploying_unchanged_content_keeps_the_version(demo_db: Database) -> None:
    audits = count(demo_db, AuditEvent)

    results = deploy_demo(demo_db)

    assert {(r.key, r.version, r.created) for r in results.values()} == {
        ("policy_subsidy", 1, False), ("enterprise_registration", 1, False),
        ("tax_docking", 1, False), ("fund_disbursement", 1, False)}
    assert count(demo_db, ProcessDefinition) == 4
    assert count(demo_db, AuditEvent) == audits


def test_a_running_application_keeps_its_version_while_new_ones_take_the_next(
    demo_db: Database,
) -> None:
    running = start(demo_db)
    complete(demo_db, running, "preliminary_review", RETURN, "zhang.wei")

    changed = deploy_demo(demo_db, changes={"policy_subsidy.bpmn": (
        'camunda:dueDate="3WD" camunda:followUpDate="2WD"',
        'camunda:dueDate="4WD" camunda:followUpDate="2WD"')})
    assert (changed["policy_subsidy"].version, changed["policy_subsidy"].created) == (2, True)
    assert (changed["tax_docking"].version, changed["tax_docking"].created) == (1, False)
    again = deploy_demo(demo_db, changes={"policy_subsidy.bpmn": (
        'camunda:dueDate="3WD" camunda:followUpDate="2WD"',
        'camunda:dueDate="4WD" camunda:followUpDate="2WD"')})
    assert (again["policy_subsidy"].version, again["policy_subsidy"].created) == (2, False)

    newer = start(demo_db)
    assert load_instance(demo_db, newer).definition.version == 2
    assert open_tasks(demo_db, newer)["preliminary_review"].due_at == day_end(6)

    complete(demo_db, running, "correction", CORRECTION, "xinghe")
    assert load_instance(demo_db, running).definition.version == 1
    # version 1's review is still due in three working days
    assert open_tasks(demo_db, running)["preliminary_review"].due_at == day_end(5)
    complete(demo_db, running, "preliminary_review", APPROVE, "zhang.wei")
    assert list(open_tasks(demo_db, running)) == ["director_review"]


def _deadline_tasks(db: Database, instance_id: str) -> set[str]:
    """Element ids of the tasks that have pending reminder or overdue jobs."""
    with db.read() as session:
        return set(session.scalars(
            select(HumanTask.element_id).join(Job, Job.task_id == HumanTask.id)
            .where(Job.instance_id == instance_id, Job.status == "pending",
                   Job.kind.in_(("reminder", "overdue")))))


@pytest.mark.parametrize("stored_before_open_tasks_were_remembered", [False, True])
def test_parallel_tasks_keep_their_deadlines_while_the_other_one_completes(
    demo_db: Database, stored_before_open_tasks_were_remembered: bool
) -> None:
    instance_id = start(demo_db, "tax_docking", TAX_REGISTRATION)
    complete(demo_db, instance_id, "tax_review", {"outcome": "approve"}, "liu.yang")
    assert set(open_tasks(demo_db, instance_id)) == {"invoice_quota", "tax_type_assessment"}
    assert _deadline_tasks(demo_db, instance_id) == {"invoice_quota", "tax_type_assessment"}
    if stored_before_open_tasks_were_remembered:
        # an instance written by an earlier release: its waits do not list its open tasks
        with demo_db.write() as session:
            instance = session.get_one(Instance, instance_id)
            instance.waits = {k: v for k, v in (instance.waits or {}).items() if k != "tasks"}

    quota = complete(demo_db, instance_id, "invoice_quota", INVOICE_QUOTA, "liu.yang")

    assert set(open_tasks(demo_db, instance_id)) == {"tax_type_assessment"}
    assert _deadline_tasks(demo_db, instance_id) == {"tax_type_assessment"}
    with demo_db.read() as session:
        done = session.get_one(HumanTask, quota)
        assert (done.status, done.completed_by) == ("completed", "liu.yang")
        assert load_instance(demo_db, instance_id).waits["tasks"] == sorted(
            task.id for task in open_tasks(demo_db, instance_id).values())

    complete(demo_db, instance_id, "tax_type_assessment", TAX_TYPES, "liu.yang")
    assert set(open_tasks(demo_db, instance_id)) == {"enterprise_confirmation"}
    assert _deadline_tasks(demo_db, instance_id) == {"enterprise_confirmation"}
