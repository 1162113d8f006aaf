"""Moving a waiting application to another version of its procedure, in the engine.

Version 1 of ``permit`` is intake (with a non-interrupting reminder timer), review, a
cooling-off timer and sign-off; version 2 renames review to examine, waits a shorter time and
replaces sign-off with archiving and an approval. The clock is frozen on Monday 2 March 2026,
09:00 in Shanghai; every call goes through the stored state, as the web layer drives it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from engine import CannotMigrate, Engine, ProcessVersion, prepare_deployment
from tests.engine.test_approval_modes import Run
from tests.engine.test_approval_modes import deploy as approval_node
from tests.engine.test_external_tasks import EXTERNAL
from tests.engine.test_external_tasks import version as external
from tests.engine.test_runtime import Instance

DATA = Path(__file__).resolve().parent / "data" / "migration"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def version(name: str) -> ProcessVersion:
    path = DATA / f"{name}.bpmn"
    return prepare_deployment({path.name: path.read_bytes()}, {}, {})[0]


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(datetime(2026, 3, 2, 9, tzinfo=SHANGHAI), tick=False) as traveller:
        yield traveller


V1, V2 = version("permit_v1"), version("permit_v2")


def move(run: Instance, target: ProcessVersion, mapping: dict[str, str] | None = None) -> None:
    run.take(run.engine.migrate(run.version, run.snapshot.state, target, mapping))
    run.version = target


def test_a_waiting_application_moves_and_runs_to_the_end_of_the_new_flow(clock: Any) -> None:
    run = Instance(Engine(), V1, {"company": "ACME"})
    intake = run.task("intake")
    clock.shift(timedelta(hours=5))
    assert run.engine.migration_problems(V1, run.snapshot.state, V2) == []
    move(run, V2)
    moved = run.task("intake")
    # the open task keeps its dates (version 2 would give 5 working days), the reminder its
    # moment (version 2 would wait 96 hours from now)
    assert (moved.due_at, moved.follow_up_at) == (intake.due_at, intake.follow_up_at)
    assert run.timers == {"intake_late": datetime(2026, 3, 4, 9, tzinfo=SHANGHAI)}
    run.complete("intake")
    assert run.open == ["examine"]
    run.complete("examine")
    run.fire(clock, "cooling")
    assert run.open == ["approve"] and run.snapshot.data["archived"] is True
    run.complete("approve")
    assert run.snapshot.status == "completed"
    assert run.snapshot.data["company"] == "ACME"


def test_a_renamed_step_moves_with_an_explicit_mapping(clock: Any) -> None:
    run = Instance(Engine(), V1)
    run.complete("intake")
    review = run.task("review")
    problems = run.engine.migration_problems(V1, run.snapshot.state, V2)
    assert [(p.element_id, p.code) for p in problems] == [("review", "missing_target")]
    with pytest.raises(CannotMigrate) as refused:
        move(run, V2)
    assert "“Review” has no counterpart" in refused.value.problems[0].message
    move(run, V2, {"review": "examine"})
    assert run.open == ["examine"] and run.task("examine").due_at == review.due_at
    run.complete("examine")
    assert "cooling" in run.timers


def test_a_waiting_timer_fires_at_the_same_moment_after_the_move(clock: Any) -> None:
    run = Instance(Engine(), V1)
    run.complete("intake")
    run.complete("review")
    due = run.timers["cooling"]
    assert due == datetime(2026, 3, 5, 9, tzinfo=SHANGHAI)  # 72 hours
    clock.shift(timedelta(hours=30))  # version 2's 24 hours from now would be earlier
    move(run, V2)
    assert run.timers == {"cooling": due}
    run.fire(clock, "cooling")
    assert run.open == ["approve"]


def test_a_step_missing_in_the_target_is_refused_with_the_reason(clock: Any) -> None:
    run = Instance(Engine(), V1)
    run.complete("intake")
    run.complete("review")
    run.fire(clock, "cooling")
    assert run.open == ["sign"]
    state = run.snapshot.state
    problems = run.engine.migration_problems(V1, state, V2)
    assert [(p.element_id, p.code) for p in problems] == [("sign", "missing_target")]
    assert "map it to an element of the target" in problems[0].message
    # mapped to an element of another kind, it is refused as such
    problems = run.engine.migration_problems(V1, state, V2, {"sign": "archive"})
    assert [p.code for p in problems] == ["other_kind"]
    # a mapping naming what neither version has is refused, whatever else holds
    problems = run.engine.migration_problems(V1, state, V2, {"sign": "nowhere"})
    assert "unknown_element" in [p.code for p in problems]
    move(run, V2, {"sign": "approve"})
    run.complete("approve")
    assert run.snapshot.status == "completed"


def test_a_reminder_that_fired_already_does_not_fire_again(clock: Any) -> None:
    run = Instance(Engine(), V1)
    run.fire(clock, "intake_late")
    assert run.passed("remind") and run.timers == {}
    move(run, V2)
    assert run.open == ["intake"] and run.timers == {}


def test_a_waiting_timer_without_counterpart_is_refused(clock: Any) -> None:
    plain = V2.bpmn.replace(
        b'<bpmn:boundaryEvent id="intake_late"', b'<bpmn:boundaryEvent id="intake_nudge"'
    )
    plain = plain.replace(b'sourceRef="intake_late"', b'sourceRef="intake_nudge"')
    target = prepare_deployment({"permit_v2.bpmn": plain}, {}, {})[0]
    run = Instance(Engine(), V1)
    problems = run.engine.migration_problems(V1, run.snapshot.state, target)
    assert [(p.element_id, p.code) for p in problems] == [("intake_late", "no_counterpart")]
    assert (
        run.engine.migration_problems(
            V1, run.snapshot.state, target, {"intake_late": "intake_nudge"}
        )
        == []
    )


def test_parallel_branches_are_refused(clock: Any) -> None:
    path = DATA.parent / "returns" / "returns.bpmn"
    parallel = prepare_deployment({path.name: path.read_bytes()}, {}, {})[0]
    run = Instance(Engine(), parallel, {"passes": 0})
    for step in ("step1", "step2", "step3"):
        run.complete(step)
    assert run.open == ["check_a", "check_b"]
    problems = run.engine.migration_problems(parallel, run.snapshot.state, parallel)
    assert [p.code for p in problems] == ["parallel"]


def edited(path: Path, key: str) -> tuple[ProcessVersion, ProcessVersion]:
    """A version of ``key`` and a second one that differs in its documentation only."""
    xml = path.read_bytes()
    first = {v.key: v for v in prepare_deployment({path.name: xml}, {}, {})}[key]
    second_xml = xml.replace(b"<bpmn:documentation>", b"<bpmn:documentation>Edited. ", 1)
    second = {v.key: v for v in prepare_deployment({path.name: second_xml}, {}, {})}[key]
    assert first.content_hash != second.content_hash
    return first, second


FEATURES = DATA.parent / "features"


def test_a_waiting_message_moves_with_its_correlation(clock: Any) -> None:
    first, second = edited(FEATURES / "messages.bpmn", "await_payment")
    run = Instance(Engine(), first, {"permit_no": "P-7"})
    awaited = run.snapshot.awaited_messages
    assert [(m.name, m.correlation) for m in awaited] == [
        ("payment_received", {"permit_no": "P-7"})
    ]
    move(run, second)
    assert run.snapshot.awaited_messages == awaited
    run.deliver("payment_received", {"permit_no": "P-7", "amount": 10})
    assert run.open == ["m_check"]


def test_an_event_based_gateway_and_a_subprocess_are_refused(clock: Any) -> None:
    first, second = edited(FEATURES / "messages.bpmn", "documents_or_timeout")
    waiting = Instance(Engine(), first, {"permit_no": "P-8"})
    problems = waiting.engine.migration_problems(first, waiting.snapshot.state, second)
    assert [(p.element_id, p.code) for p in problems] == [("g_wait", "event_gateway")]
    first, second = edited(FEATURES / "escalation.bpmn", "escalation")
    inside = Instance(Engine(), first)
    assert inside.open == ["inspect", "notify_manager"]
    problems = inside.engine.migration_problems(first, inside.snapshot.state, second)
    assert {(p.element_id, p.code) for p in problems} == {("stage", "in_subprocess")}
    with pytest.raises(CannotMigrate):
        inside.engine.migrate(first, inside.snapshot.state, second)


def test_a_countersign_under_way_is_refused() -> None:
    first, second = approval_node("all"), approval_node("any")
    run = Run(first)
    assert len(run.waiting) > 1
    problems = run.engine.migration_problems(first, run.snapshot.state, second)
    assert {(p.element_id, p.code) for p in problems} == {("sign", "multi_instance")}


def test_an_external_task_waiting_for_its_worker_is_refused() -> None:
    first, second = external(), external(EXTERNAL.replace("tax_check", "tax_check_v2"))
    snapshot = Engine().start(first, {"amount": 3})
    problems = Engine().migration_problems(first, snapshot.state, second)
    assert [(p.element_id, p.code) for p in problems] == [("tax", "external_task")]


def test_a_returned_step_keeps_going_straight_back_after_the_move(clock: Any) -> None:
    first, second = edited(DATA.parent / "returns" / "returns.bpmn", "returns")
    run = Instance(Engine(), first, {"passes": 0})
    for step in ("step1", "step2"):
        run.complete(step)
    step3 = run.task("step3").task_id
    run.take(
        run.engine.return_task(
            first,
            run.snapshot.state,
            step3,
            "step1",
            resume_to_me=True,
            record={},
            actor="director1",
        )
    )
    assert run.open == ["step1"]
    move(run, second)
    run.complete("step1")
    assert run.open == ["step3"]  # 直达: not through step2 again
