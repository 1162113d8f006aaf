"""What the engine runs beyond the four shipped procedures, one small diagram per feature.

The diagrams are in ``data/features/``; each is deployed through ``prepare_deployment``, so
every one of them also passes the strict deploy-time validation. The clock is frozen on
Monday 2 March 2026, 09:00 in Shanghai, and moved to fire timers.

What SpiffWorkflow 3.2 under the Camunda parser does differently from Camunda 7, as found here:

* Multi-instance is written ``camunda:collection`` + ``camunda:elementVariable`` (or
  ``loopCardinality``); the standard ``loopDataInputRef``/``inputDataItem`` is not read by the
  Camunda parser and is refused at deploy.
* A multi-instance task writes back only its element variable (into the collection, in place);
  anything else an instance's form submits is not merged into the process data. The
  submissions are kept, per instance, in the step records (``StepRecord.data``).
* The timer of an event-based gateway is reported under the gateway's id, not the timer
  event's.
* ``camunda:collection`` without ``camunda:elementVariable`` would crash SpiffWorkflow when
  reached, so deploy validation refuses it.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from engine import (
    Engine,
    FormDataInvalid,
    InvalidProcess,
    NotWaiting,
    OpenTask,
    ProcessVersion,
    ScriptLimits,
    Snapshot,
    SpecCache,
    StateCorrupt,
    StepRecord,
    TaskNotOpen,
    content_hash,
    prepare_deployment,
)

FEATURES = Path(__file__).resolve().parent / "data" / "features"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)


def local(day: int, hour: int = 9, minute: int = 0) -> datetime:
    """A time in March 2026, Shanghai."""
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def deploy(name: str, *, dmn: tuple[str, ...] = (),
           forms: tuple[str, ...] = ()) -> dict[str, ProcessVersion]:
    """The executable processes of ``data/features/<name>.bpmn``, by process id."""
    bpmn = {f"{name}.bpmn": (FEATURES / f"{name}.bpmn").read_bytes()}
    decisions = {each: (FEATURES / each).read_bytes() for each in dmn}
    schemas = {key: json.loads((FEATURES / f"{key}.json").read_text()) for key in forms}
    return {v.key: v for v in prepare_deployment(bpmn, decisions, schemas)}


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


@pytest.fixture
def engine() -> Engine:
    return Engine()


class Instance:
    """One instance driven through the engine as the web layer would, call by call."""

    def __init__(self, engine: Engine, version: ProcessVersion,
                 data: Mapping[str, Any] | None = None, *, actor: str = "applicant") -> None:
        self.engine = engine
        self.version = version
        self.steps: list[StepRecord] = []
        self.take(engine.start(version, data or {}, actor=actor))

    def take(self, snapshot: Snapshot) -> Snapshot:
        self.snapshot = snapshot
        self.steps.extend(snapshot.steps)
        return snapshot

    @property
    def open(self) -> list[str]:
        return sorted(t.element_id for t in self.snapshot.open_tasks)

    @property
    def timers(self) -> dict[str, datetime]:
        return {t.element_id: t.due_at for t in self.snapshot.timers}

    def task(self, element_id: str) -> OpenTask:
        found = [t for t in self.snapshot.open_tasks if t.element_id == element_id]
        assert len(found) == 1, f"{element_id} is not open once; open: {self.open}"
        return found[0]

    def complete(self, element_id: str, data: Mapping[str, Any] | None = None,
                 actor: str = "reviewer") -> Snapshot:
        return self.complete_task(self.task(element_id), data, actor)

    def complete_task(self, task: OpenTask, data: Mapping[str, Any] | None = None,
                      actor: str = "reviewer") -> Snapshot:
        return self.take(self.engine.complete_task(self.version, self.snapshot.state,
                                                   task.task_id, data or {}, actor=actor))

    def fire(self, clock: Any, element_id: str) -> datetime:
        """Move the clock one second past the timer's due time, fire it; its due time."""
        due = self.timers[element_id]
        clock.move_to(due + timedelta(seconds=1))
        self.take(self.engine.fire_due_timers(self.version, self.snapshot.state))
        return due

    def deliver(self, name: str, payload: Mapping[str, Any]) -> Snapshot:
        return self.take(self.engine.deliver_message(self.version, self.snapshot.state, name,
                                                     payload, actor="bank"))

    def passed(self, element_id: str) -> bool:
        return any(step.element_id == element_id for step in self.steps)


# -------------------------------------------------------------------- subprocesses and calls

def test_user_task_in_an_embedded_subprocess_takes_the_subprocess_lane(engine, clock) -> None:
    run = Instance(engine, deploy("subprocess")["subprocess"])
    check = run.task("check")
    assert (check.name, check.lane, check.candidate_groups) == ("Check", "reviewers",
                                                                ("reviewers",))
    run.complete("check")
    assert run.snapshot.status == "completed"
    assert [s.element_id for s in run.snapshot.steps] == ["check", "stage_end", "stage", "end"]


def test_call_activity_runs_a_process_of_the_same_file(engine, clock) -> None:
    run = Instance(engine, deploy("call_activity", forms=("inspection",))["caller"])
    assert run.open == ["inspect_site"]
    run.complete("inspect_site", {"site_ok": True}, actor="inspector1")
    assert run.passed("visit") and run.snapshot.data["site_ok"] is True
    run.complete("close")
    assert run.snapshot.status == "completed"


def test_called_process_tasks_keep_their_people_form_and_due_date(engine, clock) -> None:
    run = Instance(engine, deploy("call_activity", forms=("inspection",))["caller"])
    task = run.task("inspect_site")
    assert (task.candidate_groups, task.form_key, task.due_at) == (
        ("inspectors",), "inspection", local(4))


@pytest.mark.parametrize(("complete", "end", "handler"), [
    (False, "end_incomplete", ["handle_incomplete"]),
    (True, "end", []),
])
def test_error_end_event_in_a_subprocess_is_caught_by_its_boundary(
        engine, clock, complete, end, handler) -> None:
    run = Instance(engine, deploy("error_boundary")["error_boundary"])
    run.complete("check", {"complete": complete})
    assert run.open == handler
    assert run.passed("incomplete_caught") is not complete
    for element_id in handler:
        run.complete(element_id, actor="office1")
    assert run.snapshot.status == "completed"
    assert [s.element_id for s in run.steps if s.kind == "EndEvent"][-1] == end


def test_escalation_from_a_subprocess_notifies_without_interrupting_it(engine, clock) -> None:
    run = Instance(engine, deploy("escalation")["escalation"])
    assert run.open == ["inspect", "notify_manager"]
    assert run.passed("raise_sla") and run.passed("sla_caught")
    run.complete("notify_manager", actor="manager1")
    assert run.open == ["inspect"] and run.snapshot.status == "active"
    run.complete("inspect", actor="inspector1")
    assert run.snapshot.status == "completed"


# ---------------------------------------------------------------------------- multi-instance

EXPERTS = ["wang", "li", "zhao"]


def test_parallel_multi_instance_opens_a_task_per_element(engine, clock) -> None:
    version = deploy("multi_instance")["parallel_sign_off"]
    run = Instance(engine, version, {"experts": EXPERTS})
    tasks = run.snapshot.open_tasks
    assert sorted(t.assignee or "" for t in tasks) == sorted(EXPERTS)
    assert {(t.element_id, t.name, t.candidate_groups) for t in tasks} == {
        ("p_sign_off", "Sign off", ("experts",))}
    for task in tasks:
        assert engine.task_data(version, run.snapshot.state, task.task_id)["expert"] == \
            task.assignee
    first = tasks[1]
    run.complete_task(first, {"verdict": "agree"}, actor="li")
    assert [(s.element_id, s.completed_by, s.data) for s in run.snapshot.steps] == [
        ("p_sign_off", "li", {"verdict": "agree"})]
    assert sorted(t.assignee or "" for t in run.snapshot.open_tasks) == ["wang", "zhao"]
    for task in run.snapshot.open_tasks:
        run.complete_task(task, {"verdict": "agree"}, actor=task.assignee or "")
    assert run.snapshot.status == "completed"
    assert run.snapshot.data["experts"] == EXPERTS
    assert "verdict" not in run.snapshot.data  # kept in the steps below, not merged
    signed = [s for s in run.steps if s.element_id == "p_sign_off" and s.completed_by]
    assert sorted(s.completed_by or "" for s in signed) == sorted(EXPERTS)


def test_sequential_multi_instance_opens_one_task_after_the_other(engine, clock) -> None:
    run = Instance(engine, deploy("multi_instance")["sequential_sign_off"],
                   {"experts": EXPERTS})
    order = []
    while run.snapshot.open_tasks:
        (task,) = run.snapshot.open_tasks
        order.append(task.assignee)
        run.complete_task(task, actor=task.assignee or "")
    assert order == EXPERTS
    assert run.snapshot.status == "completed"


@pytest.mark.parametrize("key", ["parallel_sign_off", "sequential_sign_off"])
def test_multi_instance_finishes_when_every_call_parses_the_spec_afresh(clock, key) -> None:
    # each call as if served by another worker process, with its own spec cache
    version = deploy("multi_instance")[key]
    run = Instance(Engine(cache=SpecCache()), version, {"experts": EXPERTS})
    for _ in EXPERTS:
        run.engine = Engine(cache=SpecCache())
        task = run.snapshot.open_tasks[0]
        run.complete_task(task, actor=task.assignee or "")
    assert run.snapshot.status == "completed"
    assert run.snapshot.data["experts"] == EXPERTS


@pytest.mark.parametrize("fresh", [False, True], ids=["one cache", "a cache per call"])
def test_a_standard_loop_repeats_while_its_condition_holds(clock, fresh) -> None:
    run = Instance(Engine(), deploy("standard_loop")["standard_loop"])
    rounds = 0
    while run.snapshot.open_tasks:
        if fresh:
            run.engine = Engine(cache=SpecCache())
        rounds += 1
        run.complete("collect", {"missing": rounds < 2}, actor="office1")
    assert (rounds, run.snapshot.status) == (2, "completed")


def test_standard_loop_data_input_is_refused_at_deploy() -> None:
    # the Camunda parser reads only camunda:collection / loopCardinality
    source = (FEATURES / "multi_instance.bpmn").read_bytes().replace(
        b'<bpmn:multiInstanceLoopCharacteristics camunda:collection="experts" '
        b'camunda:elementVariable="expert"/>',
        b"<bpmn:multiInstanceLoopCharacteristics><bpmn:loopDataInputRef>experts"
        b'</bpmn:loopDataInputRef><bpmn:inputDataItem id="expert" name="expert"/>'
        b"</bpmn:multiInstanceLoopCharacteristics>", 1)
    with pytest.raises(InvalidProcess) as caught:
        prepare_deployment({"mi.bpmn": source}, {}, {})
    assert [(p.element_id, p.message) for p in caught.value.problems] == [
        ("p_sign_off", "multi-instance needs a loopCardinality or a camunda:collection")]


def test_a_collection_without_element_variable_is_refused_at_deploy() -> None:
    source = (FEATURES / "multi_instance.bpmn").read_bytes()
    source = source.replace(b' camunda:elementVariable="expert"', b"").replace(
        b' camunda:assignee="${expert}"', b"")
    with pytest.raises(InvalidProcess) as refused:
        prepare_deployment({"mi.bpmn": source}, {}, {})
    assert any("needs a camunda:elementVariable" in p.message for p in refused.value.problems)


# ------------------------------------------------------------------------------------ timers

def test_boundary_timers_remind_without_and_take_over_with_interrupting(engine, clock) -> None:
    run = Instance(engine, deploy("boundary_timers")["boundary_timers"])
    assert run.timers == {"remind": local(3), "take_over": local(4)}
    clock.move_to(local(3) - timedelta(seconds=1))
    run.take(engine.fire_due_timers(run.version, run.snapshot.state))
    assert run.open == ["review"] and run.snapshot.steps == ()

    assert run.fire(clock, "remind") == local(3)
    assert run.open == ["chase", "review"]
    assert run.timers == {"take_over": local(4)}

    assert run.fire(clock, "take_over") == local(4)
    assert run.open == ["chase", "director_review"]
    assert run.timers == {}
    run.complete("director_review", actor="director1")
    run.complete("chase", actor="office1")
    assert run.snapshot.status == "completed"
    assert not run.passed("review")


def test_timers_of_a_completed_task_are_withdrawn(engine, clock) -> None:
    run = Instance(engine, deploy("boundary_timers")["boundary_timers"])
    clock.move_to(local(2, 15))
    run.complete("review")
    assert run.snapshot.status == "completed"
    assert run.snapshot.timers == ()
    clock.move_to(local(10))
    after = engine.fire_due_timers(run.version, run.snapshot.state)
    assert after.steps == () and after.open_tasks == ()


def test_intermediate_timer_waits_for_a_date_with_an_offset(engine, clock) -> None:
    run = Instance(engine, deploy("timer_events")["wait_until_date"])
    assert run.timers == {"hearing_day": local(10, 14, 30)}
    assert run.timers["hearing_day"].utcoffset() == timedelta(0)
    assert run.fire(clock, "hearing_day") == local(10, 14, 30)
    assert run.open == ["d_record"]


def test_working_day_timer_skips_the_weekend(engine, clock) -> None:
    clock.move_to(local(6))  # a Friday
    run = Instance(engine, deploy("timer_events")["wait_working_days"])
    assert run.timers == {"five_working_days": local(13)}
    run.fire(clock, "five_working_days")
    assert run.open == ["w_record"]


def test_timer_cycle_fires_twice_then_stops(engine, clock) -> None:
    run = Instance(engine, deploy("timer_events")["hourly_reminder"])
    assert run.timers == {"c_remind": local(2, 10)}
    run.fire(clock, "c_remind")
    assert run.open == ["c_reminder", "c_review"]
    assert run.timers == {"c_remind": local(2, 11)}
    run.fire(clock, "c_remind")
    assert run.open == ["c_reminder", "c_reminder", "c_review"]
    assert run.timers == {}
    clock.move_to(local(3))
    run.take(engine.fire_due_timers(run.version, run.snapshot.state))
    assert run.open == ["c_reminder", "c_reminder", "c_review"]


def test_event_subprocess_with_a_non_interrupting_timer_start(engine, clock) -> None:
    run = Instance(engine, deploy("timer_events")["process_deadline"])
    assert run.timers == {"e_deadline_start": local(5)}
    run.fire(clock, "e_deadline_start")
    assert run.open == ["e_escalate", "e_work"]
    run.complete("e_escalate", actor="manager1")
    run.complete("e_work", actor="office1")
    assert run.snapshot.status == "completed"


# ---------------------------------------------------------------------------------- messages

def test_message_is_delivered_only_with_the_right_correlation(engine, clock) -> None:
    run = Instance(engine, deploy("messages")["await_payment"], {"permit_no": "P-1001"})
    assert [(m.name, dict(m.correlation)) for m in run.snapshot.awaited_messages] == [
        ("payment_received", {"permit_no": "P-1001"})]
    for name, payload in [("payment_received", {"permit_no": "P-1002", "amount": 10}),
                          ("payment_received", {"amount": 10}),
                          ("documents_received", {"permit_no": "P-1001"}),
                          ("nobody_waits_for_this", {"permit_no": "P-1001"})]:
        with pytest.raises(NotWaiting):
            run.deliver(name, payload)
    run.deliver("payment_received", {"permit_no": "P-1001", "amount": 10})
    assert run.open == ["m_check"] and run.snapshot.awaited_messages == ()
    assert run.snapshot.data["payment_received"] == {"permit_no": "P-1001", "amount": 10}
    assert run.snapshot.correlations == {"permit": {"permit_no": "P-1001"}}


def test_event_gateway_takes_the_message_when_it_comes_first(engine, clock) -> None:
    run = Instance(engine, deploy("messages")["documents_or_timeout"], {"permit_no": "P-7"})
    assert run.timers == {"g_wait": local(5)}
    run.deliver("documents_received", {"permit_no": "P-7"})
    assert run.open == ["g_review"]
    assert run.timers == {} and run.snapshot.awaited_messages == ()
    assert not run.passed("timeout")


def test_event_gateway_takes_the_timer_when_it_comes_first(engine, clock) -> None:
    run = Instance(engine, deploy("messages")["documents_or_timeout"], {"permit_no": "P-7"})
    run.fire(clock, "g_wait")
    assert run.open == ["g_chase"] and run.passed("timeout")
    assert run.snapshot.awaited_messages == ()
    with pytest.raises(NotWaiting):
        run.deliver("documents_received", {"permit_no": "P-7"})


# ------------------------------------------------------------------- conditions and decisions

@pytest.mark.parametrize(("data", "big"), [
    ({"approved": True, "amount": 1001}, True),
    ({"approved": True, "amount": 1000}, False),
    ({"approved": False, "amount": 5000}, False),
    ({"approved": True, "amount": 1000.5}, True),
])
def test_juel_and_python_conditions_route_alike(engine, data, big) -> None:
    versions = deploy("conditions")
    ends = {}
    for key, prefix in (("juel_route", "j"), ("python_route", "p")):
        snapshot = engine.start(versions[key], data)
        assert snapshot.status == "completed"
        ends[key] = [s.element_id for s in snapshot.steps if s.kind == "EndEvent"]
        assert ends[key] == [f"{prefix}_{'big' if big else 'small'}_end"]


@pytest.mark.parametrize(("data", "grade", "open_tasks"), [
    ({"amount": 100_000, "enterprise_type": "高新技术企业"}, "A", ["fast_track"]),
    ({"amount": 100_001, "enterprise_type": "高新技术企业"}, "B", []),
    ({"amount": 5_000, "enterprise_type": "一般企业"}, "B", []),
])
def test_decision_table_called_by_decision_ref(engine, data, grade, open_tasks) -> None:
    run = Instance(engine, deploy("decision", dmn=("grade.dmn",))["decision"], data)
    assert run.snapshot.data["grade"] == grade
    assert run.open == open_tasks


# ------------------------------------------------------------------------ people and due dates

PEOPLE_DATA = {"deadline": "2026-04-01T12:00:00+08:00", "reviewer": "sun"}


def test_due_and_follow_up_dates_in_every_notation(engine, clock) -> None:
    clock.move_to(local(6))  # a Friday
    run = Instance(engine, deploy("people_and_dates")["people_and_dates"], PEOPLE_DATA)
    dates = {t.element_id: (t.due_at, t.follow_up_at) for t in run.snapshot.open_tasks}
    assert dates == {
        # working days end with the working day; hours keep their minute
        "working_days": (local(10, 17, 30), local(9, 17, 30)),
        "hours": (local(8), local(7)),
        # without a followUpDate the reminder comes one working day before the due date
        "fixed_date": (local(31, 17), local(30, 17)),
        "from_data": (datetime(2026, 4, 1, 12, tzinfo=SHANGHAI), local(31, 12)),
    }
    assert all(due.utcoffset() == timedelta(0) for due, _ in dates.values())


def test_due_dates_are_fixed_when_the_task_opens(engine, clock) -> None:
    run = Instance(engine, deploy("people_and_dates")["people_and_dates"], PEOPLE_DATA)
    clock.move_to(local(4))
    run.complete("hours", actor="wang")
    # 2WD from Monday, not from Wednesday
    assert run.task("working_days").due_at == local(4, 17, 30)


def test_candidates_assignee_and_initiator(engine, clock) -> None:
    run = Instance(engine, deploy("people_and_dates")["people_and_dates"], PEOPLE_DATA,
                   actor="ent1")
    people = {t.element_id: (t.candidate_groups, t.candidate_users, t.assignee, t.priority)
              for t in run.snapshot.open_tasks}
    assert people == {
        "working_days": (("reviewers", "office"), (), None, 70),
        "hours": ((), ("wang", "li"), None, None),
        "fixed_date": ((), (), "zhao", None),
        "from_data": ((), ("sun",), "ent1", None),
    }
    assert run.snapshot.data["initiator"] == "ent1"


def test_the_initiator_cannot_be_named_by_the_applicant(engine, clock) -> None:
    run = Instance(engine, deploy("people_and_dates")["people_and_dates"],
                   {**PEOPLE_DATA, "initiator": "director1"}, actor="ent1")
    assert run.task("from_data").assignee == "ent1"


def test_a_due_date_over_a_missing_variable_stops_at_that_task(engine, clock) -> None:
    version = deploy("people_and_dates")["people_and_dates"]
    run = Instance(engine, version, {"reviewer": "sun"})
    assert run.snapshot.status == "error"
    error = run.snapshot.error
    assert error is not None and error.element_id == "from_data"
    assert "deadline" in error.message and "due date" in error.message
    assert run.open == ["fixed_date", "hours", "working_days"]
    assert engine.inspect(version, run.snapshot.state).error == error
    run.complete("hours", actor="wang")
    assert run.snapshot.status == "error" and run.snapshot.error == error
    assert run.take(engine.retry(version, run.snapshot.state)).error == error


# ---------------------------------------------------------------------------- submitted data

@pytest.mark.parametrize("key", ["_x", "pf_due", "len", "class", "not a name", "pf_timer_date"])
def test_reserved_keys_are_refused(engine, clock, key) -> None:
    run = Instance(engine, deploy("subprocess")["subprocess"])
    with pytest.raises(FormDataInvalid) as caught:
        run.complete("check", {key: 1, "comment": "fine"})
    assert set(caught.value.errors) == {key}
    assert run.open == ["check"]


@pytest.mark.parametrize(("data", "fields"), [
    ({}, {"outcome"}),
    ({"outcome": "maybe"}, {"outcome"}),
    ({"outcome": "approve", "score": 11, "comment": "x" * 201}, {"score", "comment"}),
])
def test_form_violations_name_their_fields(engine, clock, data, fields) -> None:
    run = Instance(engine, deploy("review_form", forms=("review",))["review_form"])
    with pytest.raises(FormDataInvalid) as caught:
        run.complete("review", data)
    assert set(caught.value.errors) == fields
    assert run.open == ["review"]
    run.complete("review", {"outcome": "approve", "score": 10})
    assert run.passed("approved")


def test_a_field_the_form_does_not_have_is_refused(engine, clock) -> None:
    run = Instance(engine, deploy("review_form", forms=("review",))["review_form"])
    with pytest.raises(FormDataInvalid) as caught:
        run.complete("review", {"outcome": "approve", "bonus": 1})
    # the stranger is named as the field at fault, so a page can show it
    assert caught.value.errors == {"bonus": ["is not a field of this form"]}
    assert run.open == ["review"]


def test_only_open_human_tasks_can_be_completed(engine, clock) -> None:
    run = Instance(engine, deploy("boundary_timers")["boundary_timers"])
    review = run.task("review")
    timer_id = run.snapshot.timers[0].task_id
    before = run.snapshot.state
    run.complete("review")
    for task_id in (review.task_id, str(uuid.uuid4()), "not-a-uuid", timer_id):
        with pytest.raises(TaskNotOpen) as caught:
            engine.complete_task(run.version, run.snapshot.state, task_id, {})
        assert caught.value.task_id == task_id
    with pytest.raises(TaskNotOpen):
        engine.complete_task(run.version, before, timer_id, {})


# ----------------------------------------------------------------------------------- scripts

def test_a_script_sets_the_variable_a_gateway_routes_on(engine) -> None:
    version = deploy("scripts")["scored"]
    high = Instance(engine, version, {"rd_points": 3, "job_points": 4})
    assert (high.snapshot.data["score"], high.open) == (10, ["s_fast_track"])
    low = Instance(engine, version, {"rd_points": 3, "job_points": 3})
    assert (low.snapshot.data["score"], low.snapshot.status) == (9, "completed")
    assert low.passed("s_low_end")


def test_a_failing_script_is_reported_kept_and_fails_again_on_retry(engine) -> None:
    version = deploy("scripts")["failing"]
    run = Instance(engine, version, {"amount": 10})
    run.complete("f_review", {"note": "checked"}, actor="rev1")
    assert run.snapshot.status == "error"
    error = run.snapshot.error
    assert error is not None
    assert (error.element_id, error.line) == ("f_share", 2)
    assert "ZeroDivisionError" in error.message
    assert [(s.element_id, s.completed_by) for s in run.snapshot.steps] == [("f_review", "rev1")]
    assert run.snapshot.data == {"amount": 10, "note": "checked"}

    stored = engine.inspect(version, run.snapshot.state)
    assert (stored.status, stored.error, stored.state) == ("error", error, run.snapshot.state)
    assert stored.data == run.snapshot.data

    again = run.take(engine.retry(version, run.snapshot.state, actor="admin"))
    assert (again.status, again.error, again.steps) == ("error", error, ())
    assert again.data == {"amount": 10, "note": "checked"}
    assert engine.inspect(version, again.state).error == error


def test_a_failed_branch_is_kept_while_the_other_branch_goes_on(engine) -> None:
    version = deploy("parallel_failure")["parallel_failure"]
    run = Instance(engine, version)
    error = run.snapshot.error
    assert run.snapshot.status == "error" and error is not None
    assert error.element_id == "route" and "urgency" in error.message
    run.complete("review")
    assert (run.snapshot.status, run.snapshot.error) == ("error", error)
    assert engine.inspect(version, run.snapshot.state).error == error


def test_scripts_switched_off_stop_the_step_until_a_retry_with_scripts_on(engine) -> None:
    version = deploy("scripts")["scored"]
    run = Instance(Engine(scripts_enabled=False), version, {"rd_points": 3, "job_points": 4})
    error = run.snapshot.error
    assert run.snapshot.status == "error" and error is not None
    assert (error.element_id, error.message) == ("score", "scripts are switched off in this park")
    assert not run.passed("score")
    run.take(engine.retry(version, run.snapshot.state, actor="admin"))
    assert (run.snapshot.status, run.open) == ("active", ["s_fast_track"])
    assert [s.element_id for s in run.snapshot.steps] == ["score", "s_route"]


LIMITS = ScriptLimits(cpu_seconds=0.3, memory_bytes=64 * 2**20, wall_seconds=3)
ESCAPES = [
    # (id, script, refused at deploy, message fragment)
    ("endless loop", "x = 1\nwhile True:\n    x = -x", False, "CPU time limit"),
    ("memory bomb", "x = [0] * 10**10", False, "memory limit"),
    ("doubling string", "s = 'ab'\nwhile True:\n    s = s + s", False, "memory limit"),
    ("recursion", "def f(n):\n    return f(n + 1)\nf(0)", False, "recursion"),
    ("open under another name", "make = open\nmake('CANARY', 'w')", False, "'open'"),
    ("eval fetched from a list", "[eval][0](\"open('CANARY', 'w')\")", False, "'eval'"),
    ("os through sys.modules", "sys.modules['os'].system('touch CANARY')", False, "sys"),
    ("leaving the interpreter", "raise SystemExit(0)", False, "SystemExit"),
    ("subclass walk", "found = ().__class__.__base__.__subclasses__()", True, "__"),
    ("import", "import os\nos.system('touch CANARY')", True, "import"),
    ("__import__", "__import__('os').system('touch CANARY')", True, "__import__"),
    ("open", "open('CANARY', 'w').write('x')", True, "'open'"),
]


def with_script(version: ProcessVersion, script: str) -> ProcessVersion:
    """``version`` with another script, as if stored before today's deploy checks existed."""
    escaped = script.replace("&", "&amp;").replace("<", "&lt;").replace("'", "&apos;")
    bpmn = version.bpmn.replace(b"result = 1", escaped.replace('"', "&quot;").encode())
    return dataclasses.replace(version, bpmn=bpmn,
                               content_hash=content_hash(bpmn, version.dmn, version.forms))


@pytest.mark.parametrize(("script", "refused", "fragment"), [case[1:] for case in ESCAPES],
                         ids=[case[0] for case in ESCAPES])
def test_escape_attempts_fail_their_step_and_the_engine_goes_on(
        tmp_path, script, refused, fragment) -> None:
    canary = tmp_path / "canary"
    script = script.replace("CANARY", str(canary))
    version = with_script(deploy("escape")["escape"], script)
    if refused:
        with pytest.raises(InvalidProcess) as caught:
            prepare_deployment({"escape.bpmn": version.bpmn}, {}, {})
        assert {p.element_id for p in caught.value.problems} == {"tenant_script"}
    engine = Engine(script_limits=LIMITS)
    failed = engine.start(version, {})
    assert failed.status == "error" and failed.error is not None
    assert failed.error.element_id == "tenant_script"
    assert fragment in failed.error.message
    assert "result" not in failed.data
    assert not canary.exists()
    assert engine.inspect(version, failed.state).error == failed.error
    fine = engine.start(deploy("scripts")["scored"], {"rd_points": 5, "job_points": 0})
    assert (fine.status, fine.data["score"]) == ("active", 10)


# ------------------------------------------------------------------ cancel, steps and states

def test_cancel_withdraws_tasks_timers_and_failed_steps(engine, clock) -> None:
    run = Instance(engine, deploy("boundary_timers")["boundary_timers"], {"case": "A-1"})
    cancelled = run.take(engine.cancel(run.version, run.snapshot.state, actor="admin"))
    assert (cancelled.status, cancelled.open_tasks, cancelled.timers) == ("cancelled", (), ())
    assert cancelled.data == {"case": "A-1"}
    stored = engine.inspect(run.version, cancelled.state)
    assert (stored.status, stored.open_tasks, stored.timers) == ("cancelled", (), ())
    clock.move_to(local(10))
    assert engine.fire_due_timers(run.version, cancelled.state).open_tasks == ()

    failing = deploy("scripts")["failing"]
    broken = Instance(engine, failing, {"amount": 1})
    broken.complete("f_review")
    assert broken.snapshot.status == "error"
    withdrawn = engine.cancel(failing, broken.snapshot.state)
    assert (withdrawn.status, withdrawn.error) == ("cancelled", None)
    assert engine.inspect(failing, withdrawn.state).status == "cancelled"
    assert engine.retry(failing, withdrawn.state).status == "cancelled"


def test_steps_record_who_completed_what_with_which_outcome(engine, clock) -> None:
    run = Instance(engine, deploy("review_form", forms=("review",))["review_form"],
                   actor="ent1")
    assert [(s.element_id, s.kind, s.completed_by) for s in run.snapshot.steps] == [
        ("start", "StartEvent", None)]
    clock.move_to(local(3, 10))
    review = run.task("review")
    run.complete("review", {"outcome": "reject", "comment": "预算不足"}, actor="rev1")
    first, *rest = run.snapshot.steps
    assert (first.task_id, first.element_id, first.name, first.kind) == (
        review.task_id, "review", "Review", "UserTask")
    assert (first.completed_by, first.outcome, first.completed_at) == ("rev1", "reject",
                                                                       local(3, 10))
    assert first.data == {"outcome": "reject", "comment": "预算不足"}
    assert [(s.element_id, s.completed_by, s.outcome, s.data) for s in rest] == [
        ("decided", None, None, None), ("refused", None, None, None)]


@pytest.mark.parametrize("garbage", [
    b"", b"garbage", b"{}", b"[]", b'{"format": "parkflow-1"}', b'{"format": "other"}',
    b"\xff\xfe\x00", b"null",
], ids=repr)
def test_a_state_that_cannot_be_read_is_state_corrupt(engine, garbage) -> None:
    version = deploy("subprocess")["subprocess"]
    for call in (lambda: engine.inspect(version, garbage),
                 lambda: engine.fire_due_timers(version, garbage),
                 lambda: engine.complete_task(version, garbage, str(uuid.uuid4()), {})):
        with pytest.raises(StateCorrupt):
            call()


def test_a_truncated_state_or_another_processes_state_is_state_corrupt(engine, clock) -> None:
    run = Instance(engine, deploy("boundary_timers")["boundary_timers"])
    with pytest.raises(StateCorrupt):
        engine.inspect(run.version, run.snapshot.state[: len(run.snapshot.state) // 2])
    with pytest.raises(StateCorrupt):
        engine.inspect(deploy("subprocess")["subprocess"], run.snapshot.state)
