"""Shapes that once ran differently in Parkflow than in SpiffWorkflow, and long loops.

Each is also something a park draws: a 联审 of three or more departments, the same review
repeated inside a loop, a correction loop of hundreds of rounds.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine import Engine, SpecCache

from .generate import render
from .harness import deploy, run_parkflow, run_raw, same_runs, seeded_chooser

DIAGRAMS = Path(__file__).resolve().parent / "diagrams"


def same_run(block: tuple, seed: int = 0, order: int = 0) -> str:
    bpmn, start_data = render(block, seed=seed)
    return same_runs({"generated.bpmn": bpmn}, "generated", start_data=start_data,
                     order=order).status


@pytest.mark.parametrize("branches", [2, 3, 4, 6])
@pytest.mark.parametrize("order", range(4))
def test_a_parallel_join_of_any_width_fires_once_every_branch_is_done(branches, order) -> None:
    # with three branches the join used to wait for ever: the token of the first branch was
    # cancelled by the second's arrival, then pruned, so the join never saw it had arrived
    assert same_run(("par", [("user",)] * branches), order=order) == "completed"


@pytest.mark.parametrize("kind", ["par", "incl"])
@pytest.mark.parametrize("branches", [2, 3])
@pytest.mark.parametrize("order", range(4))
def test_a_loop_through_a_split_and_join_runs_as_in_spiffworkflow(kind, branches, order) -> None:
    # SpiffWorkflow 3.2 itself fails some orders of a loop around a parallel join (its join
    # reads a token it dropped): Parkflow must fail those the same way and finish the others
    same_run(("loop", (kind, [("user",)] * branches), 4), seed=12, order=order)


LOOP_BACK_INTO_JOIN = (DIAGRAMS / "loop_back_into_join.bpmn").read_bytes()


def test_a_loop_back_into_a_parallel_split_runs_as_in_spiffworkflow() -> None:
    # the split joins the start and the loop back: a later round finds the start's task by
    # walking up from its own, which pruning used to remove, so the second round never began
    version = deploy({"looped.bpmn": LOOP_BACK_INTO_JOIN}, {})["looped"]
    statuses = set()
    for order in range(6):
        raw = run_raw({"looped.bpmn": LOOP_BACK_INTO_JOIN}, {}, "looped", start_data={},
                      choose=seeded_chooser(order))
        ours = run_parkflow(version, start_data={}, choose=seeded_chooser(order))
        assert (ours.steps, ours.status, ours.data) == (raw.steps, raw.status, raw.data)
        statuses.add(ours.status)
    assert "completed" in statuses


REVIEW_LOOP = (DIAGRAMS / "review_loop.bpmn").read_bytes()


def test_a_review_loop_of_300_rounds_runs_as_in_spiffworkflow() -> None:
    # two levels of the task tree a round: SpiffWorkflow alone still finds its tasks at 300
    version = deploy({"rounds.bpmn": REVIEW_LOOP}, {})["rounds"]
    raw = run_raw({"rounds.bpmn": REVIEW_LOOP}, {}, "rounds", start_data={},
                  choose=seeded_chooser(0))
    ours = run_parkflow(version, start_data={}, choose=seeded_chooser(0))
    assert (ours.steps, ours.status, ours.data) == (raw.steps, raw.status, raw.data)
    assert len(ours.steps) == 301 and ours.status == "completed"


def test_rounds_of_a_parallel_review_in_a_loop_run_as_in_spiffworkflow() -> None:
    # three departments reviewing in parallel, sent back 60 times; the order of completions is
    # one SpiffWorkflow finishes
    for order in range(40):
        block = ("loop", ("par", [("user",), ("user",)]), 60)
        same_run(block, order=order)


EVENT_SUBPROCESS = (Path(__file__).resolve().parent / "data" / "spiffworkflow" / "bpmn"
                    / "event-subprocess.bpmn").read_bytes()


def test_an_event_subprocess_started_in_one_application_leaves_the_next_alone() -> None:
    # SpiffWorkflow wires a signal-started event subprocess into the spec when it starts; on
    # the spec shared by all applications the second application's end joined the subprocess
    # and took its data, which SpiffWorkflow on a fresh spec never does
    version = deploy({"events.bpmn": EVENT_SUBPROCESS}, {})["main"]
    raw = run_raw({"events.bpmn": EVENT_SUBPROCESS}, {}, "main", start_data={},
                  choose=seeded_chooser(0))
    engine = Engine(cache=SpecCache())
    for _ in range(3):
        ours = run_parkflow(version, start_data={}, choose=seeded_chooser(0), engine=engine)
        assert (ours.steps, ours.status, ours.data) == (raw.steps, raw.status, raw.data)
