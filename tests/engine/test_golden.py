"""Golden states: instance states stored by an earlier release must keep loading and running.

Each ``golden/<case>.state.json`` is a ``Snapshot.state`` exactly as the engine stored it, made
once by ``golden/make_golden.py``; ``<case>.expect.json`` says what must hold when it is loaded
and how to drive it to an end. The state is loaded with the current ``processes/`` when they
still hold the same version (same content hash), and otherwise with the copy of the version's
sources kept beside it, as a park's stored definition would be. A failure here means instances
already in a database would stop working: fix the engine (or add a migration), never the
golden files.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

from engine import Engine, InvalidProcess, ProcessVersion, prepare_deployment
from forms import load_forms
from tests.engine.golden.make_golden import expectations, move

GOLDEN = Path(__file__).resolve().parent / "golden"
PROCESSES = Path(__file__).resolve().parents[2] / "processes"
CASES = sorted(p.name.removesuffix(".state.json") for p in GOLDEN.glob("*.state.json"))
PATHS = [(case, path) for case in CASES
         for path in json.loads((GOLDEN / f"{case}.expect.json").read_text("utf-8"))["paths"]]


def expected(case: str) -> dict[str, Any]:
    return dict(json.loads((GOLDEN / f"{case}.expect.json").read_text("utf-8")))


@functools.cache
def current_versions() -> dict[str, ProcessVersion]:
    """The versions ``processes/`` deploys today (none if it no longer deploys)."""
    bpmn = {p.name: p.read_bytes() for p in sorted(PROCESSES.glob("*.bpmn"))}
    dmn = {p.name: p.read_bytes() for p in sorted(PROCESSES.glob("*.dmn"))}
    try:
        return {v.key: v for v in prepare_deployment(bpmn, dmn, load_forms())}
    except InvalidProcess:
        return {}


def stored_version(sidecar: dict[str, Any]) -> ProcessVersion:
    """The version rebuilt from the sources kept beside the golden state, as the store does."""
    folder = GOLDEN / sidecar["sources"]
    key = sidecar["process"]
    forms = {p.stem: json.loads(p.read_text("utf-8"))
             for p in sorted((folder / "forms").glob("*.json"))}
    dmn = tuple(p.read_bytes() for p in sorted(folder.glob("*.dmn")))
    return ProcessVersion.from_sources(key, (folder / f"{key}.bpmn").read_bytes(), dmn, forms)


def golden_version(sidecar: dict[str, Any]) -> ProcessVersion:
    current = current_versions().get(sidecar["process"])
    if current is not None and current.content_hash == sidecar["content_hash"]:
        return current
    return stored_version(sidecar)


def test_there_are_golden_states_for_each_point() -> None:
    assert CASES == ["fund_disbursement_awaiting_bank", "policy_subsidy_correction",
                     "policy_subsidy_director_review", "policy_subsidy_public_notice",
                     "policy_subsidy_started"]


@pytest.mark.parametrize("case", CASES)
def test_the_kept_sources_are_the_version_the_state_was_made_with(case: str) -> None:
    sidecar = expected(case)
    assert stored_version(sidecar).content_hash == sidecar["content_hash"]


@pytest.mark.parametrize("case", CASES)
def test_a_golden_state_loads_as_it_was_stored(case: str) -> None:
    sidecar = expected(case)
    version = golden_version(sidecar)
    state = (GOLDEN / f"{case}.state.json").read_bytes()
    with time_machine.travel(datetime.fromisoformat(sidecar["made_at"]), tick=False):
        snapshot = Engine().inspect(version, state)
        assert snapshot.error is None
        assert expectations(snapshot) == {key: sidecar[key] for key in (
            "status", "open_tasks", "timers", "awaited_messages")}
        # nothing is due yet: firing timers changes nothing but may store the state anew
        again = Engine().fire_due_timers(version, state)
        assert again.steps == () and expectations(again) == expectations(snapshot)


@pytest.mark.parametrize("source", ["today", "kept copy"])
@pytest.mark.parametrize(("case", "path"), PATHS, ids=[f"{c}-{p}" for c, p in PATHS])
def test_a_golden_state_runs_to_its_end(case: str, path: str, source: str) -> None:
    sidecar = expected(case)
    version = golden_version(sidecar) if source == "today" else stored_version(sidecar)
    plan = sidecar["paths"][path]
    engine = Engine()
    with time_machine.travel(datetime.fromisoformat(sidecar["made_at"]), tick=False) as clock:
        snapshot = engine.inspect(version, (GOLDEN / f"{case}.state.json").read_bytes())
        ends = []
        for step in plan["moves"]:
            snapshot = move(engine, version, snapshot, step, clock)
            assert snapshot.error is None, (step, snapshot.error)
            ends += [s.element_id for s in snapshot.steps if s.kind == "EndEvent"]
    assert snapshot.status == "completed"
    assert (snapshot.open_tasks, snapshot.timers, snapshot.awaited_messages) == ((), (), ())
    assert ends == [plan["ends_at"]]
