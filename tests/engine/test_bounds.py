"""No diagram can hold the process running it: call cycles are refused, every call is bounded.

A process that calls itself, or loops through automatic steps only, used to keep
``do_engine_steps`` busy until gunicorn killed the worker. Each call now runs under a step
and a wall-time budget (``RunLimits``); past one, the instance stops in error at the step
that would have run next.
"""

from __future__ import annotations

import pytest

from engine import Engine, InvalidProcess, ProcessVersion, RunLimits, prepare_deployment
from tests.engine.bounds_diagrams import ENDLESS, calling, diagram, multi_instance, scripted

LOOPS = "the process seems to loop without end"


def only(bpmn: bytes) -> ProcessVersion:
    (version,) = prepare_deployment({"diagram.bpmn": bpmn}, {}, {})
    return version


def test_an_endless_automatic_loop_ends_in_error() -> None:
    snapshot = Engine().start(only(ENDLESS), {})

    assert snapshot.status == "error"
    assert snapshot.error is not None
    assert snapshot.error.element_id in {"again", "stamp"}
    assert LOOPS in snapshot.error.message


def test_a_retried_endless_loop_ends_in_error_again() -> None:
    engine = Engine()
    version = only(ENDLESS)
    failed = engine.start(version, {})

    again = engine.retry(version, failed.state)

    assert again.status == "error"
    assert again.error is not None and LOOPS in again.error.message


def test_the_step_budget_stops_the_run_at_the_next_step() -> None:
    snapshot = Engine(run_limits=RunLimits(max_steps=20)).start(only(ENDLESS), {})

    assert snapshot.status == "error"
    assert snapshot.error is not None
    assert "more than 20 automatic steps" in snapshot.error.message
    assert snapshot.error.element_id in {"again", "stamp"}
    assert 0 < len(snapshot.steps) <= 20  # what ran before the limit is kept


def test_the_wall_time_budget_stops_the_run() -> None:
    # a budget already spent when the first step is due: no clock needs to move
    limits = RunLimits(max_seconds=1e-9)

    snapshot = Engine(run_limits=limits).start(only(ENDLESS), {})

    assert snapshot.status == "error"
    assert snapshot.error is not None
    assert "more than 1e-09 s" in snapshot.error.message
    assert snapshot.error.element_id in {"endless", "start"}


@pytest.mark.parametrize(
    "limits",
    [{"max_steps": 0}, {"max_seconds": -1.0}, {"max_step_bytes": 0}, {"max_state_bytes": 0}],
)
def test_limits_must_be_positive(limits: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="positive"):
        RunLimits(**limits)  # type: ignore[arg-type]


def test_a_process_calling_itself_is_refused_at_deploy() -> None:
    with pytest.raises(InvalidProcess) as refused:
        prepare_deployment({"self.bpmn": diagram("self", calling("me", "me"))}, {}, {})

    (problem,) = refused.value.problems
    assert problem.element_id == "call_me"
    assert problem.line is not None
    assert "call cycle (me → me)" in problem.message


def test_a_call_cycle_across_files_is_refused_naming_every_call() -> None:
    files = {
        "a.bpmn": diagram("a", calling("a", "b")),
        "b.bpmn": diagram("b", calling("b", "c")),
        "c.bpmn": diagram("c", calling("c", "a")),
    }

    with pytest.raises(InvalidProcess) as refused:
        prepare_deployment(files, {}, {})

    found = {p.element_id: p.message for p in refused.value.problems}
    assert set(found) == {"call_a", "call_b", "call_c"}
    assert "call cycle (a → b → c → a)" in found["call_b"]


def test_a_chain_of_calls_without_a_cycle_deploys() -> None:
    files = {
        "a.bpmn": diagram("a", calling("a", "b")),
        "b.bpmn": diagram("b", calling("b", "c")),
        "c.bpmn": diagram(
            "c",
            calling("c", "d")
            + calling("d", "e").replace(
                '<bpmn:callActivity id="call_e" calledElement="e"/>', '<bpmn:task id="call_e"/>'
            ),
        ),
    }

    keys = {v.key for v in prepare_deployment(files, {}, {})}

    assert keys == {"a", "b", "c", "d"}


def test_a_stored_self_calling_process_ends_in_error() -> None:
    # deployed before cycles were refused: the stored version must not hang either
    version = ProcessVersion.from_sources("me", diagram("self", calling("me", "me")))

    snapshot = Engine(run_limits=RunLimits(max_steps=60)).start(version, {})

    assert snapshot.status == "error"
    assert snapshot.error is not None and "more than 60 automatic steps" in snapshot.error.message


@pytest.mark.parametrize("sequential", [False, True])
def test_multi_instance_over_an_absent_collection_is_an_instance_error(sequential: bool) -> None:
    snapshot = Engine().start(only(multi_instance(sequential)), {})

    assert snapshot.status == "error"
    assert snapshot.error is not None
    assert snapshot.error.element_id == "sign"
    assert "'input_data'" in snapshot.error.message
    assert snapshot.open_tasks == ()


def test_multi_instance_over_a_present_collection_still_runs() -> None:
    snapshot = Engine().start(only(multi_instance(False)), {"input_data": ["li", "wang"]})

    assert snapshot.status == "active"
    assert [t.element_id for t in snapshot.open_tasks] == ["sign", "sign"]


# 100 MB is past the sandbox's memory too; 40 MB fits there and was stored whole
@pytest.mark.parametrize("megabytes", [100, 40])
def test_a_script_leaving_megabytes_stops_the_instance_and_nothing_of_it_is_kept(
    megabytes: int,
) -> None:
    snapshot = Engine().start(only(scripted(f"blob = 'x' * ({megabytes} * 2**20)")), {})

    assert snapshot.status == "error"
    assert snapshot.error is not None and snapshot.error.element_id == "write"
    assert "MiB" in snapshot.error.message
    assert len(snapshot.state) < 2**20
    assert "blob" not in snapshot.data


def test_the_step_limit_on_script_output_is_configurable() -> None:
    limits = RunLimits(max_step_bytes=10_000)
    version = only(scripted("blob = 'x' * 20000"))

    snapshot = Engine(run_limits=limits).start(version, {})
    fits = Engine(run_limits=limits).start(only(scripted("blob = 'x' * 5000")), {})

    assert snapshot.status == "error"
    assert snapshot.error is not None
    assert "more than 0.00953674 MiB as JSON" in snapshot.error.message
    assert fits.status == "active"
    assert fits.data["blob"] == "x" * 5000
