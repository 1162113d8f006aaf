"""Returning to an earlier step (退回) and resubmitting straight back (直达), in the engine.

The clock is frozen on Monday 2 March 2026, 09:00 in Shanghai. Every call goes through the
stored (pruned) state, as the web layer drives it, so the earlier tasks are long gone from
the tree when a return reaches back to them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from engine import CannotReturn, Engine, ProcessVersion, TaskNotOpen, prepare_deployment
from tests.engine.test_runtime import Instance

DATA = Path(__file__).resolve().parent / "data"
SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=SHANGHAI)


def version(path: str, key: str) -> ProcessVersion:
    bpmn = {Path(path).name: (DATA / path).read_bytes()}
    return {v.key: v for v in prepare_deployment(bpmn, {}, {})}[key]


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(local(2), tick=False) as traveller:
        yield traveller


@pytest.fixture
def engine() -> Engine:
    return Engine()


@pytest.fixture
def run(engine: Engine, clock: Any) -> Instance:
    return Instance(engine, version("returns/returns.bpmn", "returns"), {"passes": 0})


def back(
    run: Instance,
    source: str,
    target: str,
    *,
    to_me: bool = False,
    reasons: tuple[str, ...] = ("missing seal",),
) -> Any:
    return run.take(
        run.engine.return_task(
            run.version,
            run.snapshot.state,
            run.task(source).task_id,
            target,
            resume_to_me=to_me,
            record={"return_reasons": list(reasons)},
            actor="director1",
        )
    )


def to_step3(run: Instance) -> None:
    run.complete("step1", {"amount": 1})
    run.complete("step2")
    assert run.open == ["step3"]


def test_return_follows_the_diagram_again(run: Instance) -> None:
    to_step3(run)
    step3 = run.task("step3").task_id
    snapshot = back(run, "step3", "step1")
    assert run.open == ["step1"]
    [step] = snapshot.steps
    assert (step.task_id, step.element_id, step.outcome, step.completed_by) == (
        step3,
        "step3",
        "return",
        "director1",
    )
    assert step.data == {"return_reasons": ["missing seal"]}
    run.complete("step1", {"amount": 2})
    assert run.open == ["step2"]
    run.complete("step2")
    assert run.open == ["step3"] and run.snapshot.data["passes"] == 2


def test_return_with_resume_goes_straight_back_with_the_new_data(run: Instance) -> None:
    to_step3(run)
    back(run, "step3", "step1", to_me=True)
    before = len(run.steps)
    run.complete("step1", {"amount": 2})
    assert run.open == ["step3"]
    assert [s.element_id for s in run.steps[before:]] == ["step1"]  # step 2 is not passed
    assert run.snapshot.data["amount"] == 2 and run.snapshot.data["passes"] == 1
    # the resumed step runs on along the diagram as before
    run.complete("step3")
    assert run.open == ["check_a", "check_b"]


def test_re_entered_task_gets_fresh_dates_and_timers(run: Instance, clock: Any) -> None:
    first_due = run.task("step1").due_at
    first_timer = run.timers["step1_late"]
    to_step3(run)
    clock.move_to(local(4))
    back(run, "step3", "step1")
    assert run.task("step1").due_at > first_due
    assert run.timers == {"step1_late": first_timer + timedelta(days=2)}
    # the re-created timer fires and the step stays open (non-interrupting)
    run.fire(clock, "step1_late")
    assert run.open == ["step1", "step1_chase"]


def test_returning_task_closes_its_own_timers(run: Instance, clock: Any) -> None:
    # step 1 returns to nowhere earlier; step 2 returns to step 1 while step 1's timer waits
    run.complete("step1")
    assert run.timers == {}
    back(run, "step2", "step1")
    assert list(run.timers) == ["step1_late"]
    back_again = run.engine.return_task  # a second return from the re-entered step is refused
    with pytest.raises(CannotReturn, match="does not lead"):
        back_again(run.version, run.snapshot.state, run.task("step1").task_id, "step2")
    run.complete("step1")
    assert run.timers == {} and run.open == ["step2"]


def test_a_return_twice_in_a_row_and_many_rounds_stay_small(run: Instance) -> None:
    to_step3(run)
    sizes = []
    for _ in range(30):
        back(run, "step3", "step1", to_me=True)
        run.complete("step1")
        sizes.append(len(run.snapshot.state))
    assert run.open == ["step3"]
    assert sizes[-1] <= sizes[0] + 200  # pruning keeps the tree flat


@pytest.mark.parametrize(
    ("source", "target", "reason"),
    [
        ("step3", "step3", "the returning step itself"),
        ("step3", "count", "not a user task"),
        ("step3", "nowhere", "not a step of this procedure"),
        ("step3", "check_a", "does not lead"),
        ("sign_off", "check_a", "inside a parallel branch"),
    ],
)
def test_refused_targets_say_why(engine: Engine, source: str, target: str, reason: str) -> None:
    v = version("returns/returns.bpmn", "returns")
    assert reason in (engine.return_problem(v, source, target) or "")


def test_allowed_targets_across_a_whole_parallel_section(engine: Engine) -> None:
    v = version("returns/returns.bpmn", "returns")
    assert engine.return_problem(v, "sign_off", "step3") is None
    assert engine.return_problem(v, "sign_off", "step1") is None


def test_return_from_a_parallel_branch_is_refused(run: Instance) -> None:
    to_step3(run)
    run.complete("step3")
    with pytest.raises(CannotReturn, match="open at the same time .*Check B"):
        back(run, "check_a", "step1")
    assert run.open == ["check_a", "check_b"]


def test_return_over_a_finished_parallel_section(run: Instance) -> None:
    to_step3(run)
    run.complete("step3")
    run.complete("check_a")
    run.complete("check_b")
    back(run, "sign_off", "step3", to_me=False)
    run.complete("step3")
    assert run.open == ["check_a", "check_b"]
    run.complete("check_a")
    run.complete("check_b")
    assert run.open == ["sign_off"]
    run.complete("sign_off")
    assert run.snapshot.status == "completed"


def test_return_of_a_task_no_longer_open(run: Instance) -> None:
    task = run.task("step1").task_id
    state = run.snapshot.state
    run.complete("step1")
    with pytest.raises(TaskNotOpen):
        run.engine.return_task(run.version, run.snapshot.state, task, "step1")
    with pytest.raises(TaskNotOpen):
        run.engine.return_task(run.version, state, "not-a-task", "step1")


def test_target_inside_a_subprocess_is_refused(engine: Engine) -> None:
    v = version("../data/features/subprocess.bpmn", "subprocess")
    assert "subprocess" in (engine.return_problem(v, "check", "nothing") or "")
