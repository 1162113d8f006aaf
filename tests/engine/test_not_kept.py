"""A change the engine cannot keep: SpiffWorkflow failing in itself, a state grown too large.

Either way nothing of the change is stored. A person's completion leaves that task in error,
naming why, so the application shows as in error rather than answering with a crash; a start
is refused as a whole.
"""

from __future__ import annotations

import pytest

from engine import Engine, EngineFailed, RunLimits
from engine.definitions import SpecCache
from engine.serialization import load_state
from tests.conformance.generate import render
from tests.conformance.harness import deploy, seeded_chooser

# SpiffWorkflow 3.2 fails a later round of a loop around a three-way parallel join for this
# order of completions (its join merges the data of a token whose parent it dropped)
LOOP = ("loop", ("par", [("user",), ("user",), ("user",)]), 4)


def version_of(block: tuple, seed: int = 12):
    bpmn, start_data = render(block, seed=seed)
    return deploy({"generated.bpmn": bpmn}, {})["generated"], start_data


def drive(engine: Engine, version, snapshot):
    choose, visits = seeded_chooser(0), {}
    for step in range(100):
        element = choose([t.element_id for t in snapshot.open_tasks], step)
        task = next(t for t in snapshot.open_tasks if t.element_id == element)
        visits[element] = visits.get(element, 0) + 1
        snapshot = engine.complete_task(version, snapshot.state, task.task_id,
                                        {f"n_{element}": visits[element]}, actor="reviewer")
        if snapshot.status == "error":
            return snapshot, task
    raise AssertionError("the engine did not fail where SpiffWorkflow does")


def test_spiffworkflow_failing_in_itself_leaves_the_completed_task_in_error() -> None:
    engine = Engine()
    version, start_data = version_of(LOOP)
    snapshot, task = drive(engine, version, engine.start(version, start_data))

    assert snapshot.error is not None
    assert "the engine failed: AttributeError" in snapshot.error.message
    assert task.element_id not in [t.element_id for t in snapshot.open_tasks]
    # the stored state is the one before the completion, with that task failed: it reads back
    # as in error, and a retry runs the task's completion again
    assert engine.inspect(version, snapshot.state).status == "error"
    again = engine.retry(version, snapshot.state)
    assert task.element_id in [t.element_id for t in again.open_tasks]


def test_a_state_over_the_limit_is_not_kept() -> None:
    engine = Engine(run_limits=RunLimits(max_state_bytes=40_000))
    version, start_data = version_of(("seq", [("user",), ("user",)]), seed=0)
    started = engine.start(version, start_data)
    (task,) = started.open_tasks

    after = engine.complete_task(version, started.state, task.task_id,
                                 {"n_u2": 1, "comment": "很长的意见" * 20_000}, actor="reviewer")

    assert after.status == "error"
    assert after.error.element_id == task.element_id
    assert "over the limit" in after.error.message
    assert len(after.state) < 40_000
    workflow = load_state(after.state, SpecCache().get(version).spec, {}, None)
    assert "comment" not in str(workflow.task_tree.data)


def test_a_start_over_the_limit_is_refused() -> None:
    engine = Engine(run_limits=RunLimits(max_state_bytes=2_000))
    version, start_data = version_of(("user",), seed=0)
    with pytest.raises(EngineFailed, match="over the limit"):
        engine.start(version, {**start_data, "n_x": "字" * 5_000})
