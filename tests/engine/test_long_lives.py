"""Long-lived instances: a return-for-correction loop iterated 300 times keeps working.

SpiffWorkflow keeps every task it ever ran in one tree. Without pruning, each round of the loop
below (merge, review, gateway, correction) adds four levels; the serialized state grows by
about 1.5 KB a round and at round 250 the tree passes a depth of 1,000, where SpiffWorkflow's
task iterator stops looking: the correction task is ready but no query finds it, and the
instance stalls without an error (SpiffWorkflow even reports it completed).
``test_raw_spiffworkflow_grows_and_stalls`` shows that on SpiffWorkflow alone; the other tests
show the engine's pruning keeping size and depth flat.

``loop_step_times`` is also meant for benchmark scripts: it reports the engine's time per
step at chosen rounds of one long-lived instance.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.util.task import TaskState

from engine import Engine, ProcessVersion, Snapshot, SpecCache, prepare_deployment
from engine.serialization import load_state

LOOP_FILE = Path(__file__).resolve().parent / "data" / "features" / "correction_loop.bpmn"
ROUNDS = 300
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(scope="module")
def versions() -> dict[str, ProcessVersion]:
    deployed = prepare_deployment({LOOP_FILE.name: LOOP_FILE.read_bytes()}, {}, {})
    return {v.key: v for v in deployed}


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(MONDAY, tick=False) as traveller:
        yield traveller


def tree_depth(root: Any) -> int:
    """Levels of a SpiffWorkflow task tree (the root alone is 1)."""
    deepest, stack = 0, [(root, 1)]
    while stack:
        task, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in task.children)
    return deepest


def stored_depth(version: ProcessVersion, state: bytes) -> int:
    """Depth of the task tree of a stored state, as the engine loads it."""
    compiled = SpecCache().get(version)
    workflow = load_state(state, compiled.spec, compiled.subprocess_specs, None)
    return tree_depth(workflow.task_tree)


def complete(engine: Engine, version: ProcessVersion, snapshot: Snapshot, element_id: str,
             data: dict[str, Any], actor: str = "reviewer") -> Snapshot:
    """Complete the one open task ``element_id``; the new snapshot."""
    (task,) = [t for t in snapshot.open_tasks if t.element_id == element_id]
    after = engine.complete_task(version, snapshot.state, task.task_id, data, actor=actor)
    assert after.error is None, after.error
    return after


def correction_round(engine: Engine, version: ProcessVersion, snapshot: Snapshot,
                     prefix: str = "l") -> tuple[Snapshot, float]:
    """Return the application and correct it: the new snapshot, seconds per engine step."""
    began = time.perf_counter()
    snapshot = complete(engine, version, snapshot, f"{prefix}_review", {"outcome": "return"})
    snapshot = complete(engine, version, snapshot, f"{prefix}_correct", {"note": "fixed"},
                        actor="enterprise1")
    return snapshot, (time.perf_counter() - began) / 2


def loop_step_times(engine: Engine, version: ProcessVersion, marks: tuple[int, ...] = (1, 100,
                    300), window: int = 5) -> dict[int, float]:
    """Median seconds per step over ``window`` rounds starting at each round in ``marks``.

    One instance of ``version`` (a correction loop with tasks ``l_review``/``l_correct``) is
    driven through ``max(marks) + window - 1`` rounds; nothing is stored in between but the
    state bytes, as in production.
    """
    snapshot = engine.start(version, {})
    samples: dict[int, list[float]] = {mark: [] for mark in marks}
    for round_no in range(1, max(marks) + window):
        snapshot, seconds = correction_round(engine, version, snapshot)
        for mark in marks:
            if mark <= round_no < mark + window:
                samples[mark].append(seconds)
    return {mark: statistics.median(found) for mark, found in samples.items()}


def test_three_hundred_corrections_keep_size_depth_and_speed(versions, clock, capsys) -> None:
    version = versions["correction_loop"]
    engine = Engine()
    snapshot = engine.start(version, {})
    sizes, depths, seconds = {}, {}, {}
    for round_no in range(1, ROUNDS + 1):
        snapshot, seconds[round_no] = correction_round(engine, version, snapshot)
        if round_no in (5, 100, ROUNDS):
            sizes[round_no] = len(snapshot.state)
            depths[round_no] = stored_depth(version, snapshot.state)
    assert [t.element_id for t in snapshot.open_tasks] == ["l_review"]
    assert sizes[ROUNDS] <= 1.2 * sizes[5]
    assert depths[ROUNDS] == depths[100] == depths[5] < 12
    snapshot = complete(engine, version, snapshot, "l_review", {"outcome": "approve"})
    assert snapshot.status == "completed"
    assert [s.element_id for s in snapshot.steps] == ["l_review", "l_decided", "l_approved"]
    with capsys.disabled():
        print(f"\ncorrection loop: state {sizes[5]} B at round 5, {sizes[ROUNDS]} B at round "
              f"{ROUNDS}; tree depth {depths[ROUNDS]}; engine step at round 1 / 100 / 300: "
              + " / ".join(f"{seconds[r] * 1000:.2f} ms" for r in (1, 100, ROUNDS)))


def test_loop_step_times_reports_each_mark(versions, capsys) -> None:
    times = loop_step_times(Engine(), versions["correction_loop"], marks=(1, 100, 300))
    assert set(times) == {1, 100, 300} and all(t > 0 for t in times.values())
    with capsys.disabled():
        print("\nmedian engine step at round " + ", ".join(
            f"{mark}: {seconds * 1000:.2f} ms" for mark, seconds in times.items())
            + f" (300 / 1 = {times[300] / times[1]:.2f}x)")


@pytest.mark.parametrize("visit_first", [True, False], ids=["visit first", "approval first"])
def test_a_loop_in_one_branch_while_the_other_waits(versions, clock, visit_first) -> None:
    version = versions["parallel_loop"]
    engine = Engine()
    snapshot = engine.start(version, {})
    timers = snapshot.timers
    assert [t.element_id for t in timers] == ["p_remind"]
    sizes = {}
    for round_no in range(1, ROUNDS + 1):
        snapshot, _ = correction_round(engine, version, snapshot, prefix="p")
        if round_no in (5, ROUNDS):
            sizes[round_no] = len(snapshot.state)
    assert sorted(t.element_id for t in snapshot.open_tasks) == ["p_review", "p_site_visit"]
    assert snapshot.timers == timers
    assert sizes[ROUNDS] <= 1.2 * sizes[5]
    assert stored_depth(version, snapshot.state) < 15

    order = [("p_site_visit", {"visited": True}), ("p_review", {"outcome": "approve"})]
    first, second = order if visit_first else order[::-1]
    snapshot = complete(engine, version, snapshot, *first)
    assert [t.element_id for t in snapshot.open_tasks] == [second[0]]
    assert snapshot.status == "active"
    assert "p_join" not in [s.element_id for s in snapshot.steps]
    snapshot = complete(engine, version, snapshot, *second)
    assert snapshot.status == "completed"
    assert [s.element_id for s in snapshot.steps][-2:] == ["p_join", "p_end"]
    assert snapshot.timers == ()
    assert snapshot.data["visited"] is True and snapshot.data["outcome"] == "approve"


def test_raw_spiffworkflow_grows_and_stalls() -> None:
    """The same loop on SpiffWorkflow alone: why pruning exists."""
    parser = CamundaParser()
    parser.add_bpmn_file(str(LOOP_FILE))
    workflow = BpmnWorkflow(parser.get_spec("correction_loop"))
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(CAMUNDA_CONFIG))
    workflow.do_engine_steps()
    sizes: dict[int, int] = {}
    stalled_at = None
    for step in range(2 * ROUNDS):
        ready = workflow.get_tasks(state=TaskState.READY, manual=True)
        if not ready:
            stalled_at = step
            break
        ready[0].set_data(outcome="return")
        ready[0].run()
        workflow.do_engine_steps()
        if step % 2 == 1 and (step + 1) // 2 in (5, 50, 200):
            sizes[(step + 1) // 2] = len(serializer.serialize_json(workflow))
    # the state grows with every round: about linearly
    assert sizes[50] > 4 * sizes[5] and sizes[200] > 3.5 * sizes[50]
    # and the instance stalls before round 300, with a task ready that no query finds;
    # SpiffWorkflow, looking no deeper than 1,000 levels, even believes it has completed
    assert stalled_at is not None and stalled_at < 2 * ROUNDS
    assert [t.task_spec.name for t in workflow.tasks.values() if t.state == TaskState.READY] == [
        "l_correct"]
    assert workflow.is_completed()
    assert tree_depth(workflow.task_tree) > 1000
