"""The yardstick: SpiffWorkflow alone, in memory, on the same procedure and machine.

The workflow object stays in memory between steps: no loading, saving, pruning or database.
It uses the same parsed spec and expression evaluator as Parkflow, so the difference to a
stored step is what persistence costs.
"""

from __future__ import annotations

import time
from pathlib import Path

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.util.task import TaskState

from engine import Engine, prepare_deployment
from forms import load_forms
from tests.engine.test_processes import APPLICATION, CORRECTION, REASONS

ROOT = Path(__file__).resolve().parents[1]


def raw_spiff_step(rounds: int = 300) -> tuple[float, float]:
    """Median seconds per completion plus engine steps, in memory: (first 20, last 20 steps).

    Without pruning SpiffWorkflow's tree grows with every loop, so its late steps are slower.
    """
    processes = ROOT / "processes"
    versions = prepare_deployment(
        {p.name: p.read_bytes() for p in processes.glob("*.bpmn")},
        {p.name: p.read_bytes() for p in processes.glob("*.dmn")}, load_forms())
    version = next(v for v in versions if v.key == "policy_subsidy")
    engine = Engine()
    compiled = engine._cache.get(version)
    workflow = BpmnWorkflow(compiled.spec, compiled.subprocess_specs,
                            script_engine=engine._script_engine)
    workflow.task_tree.data.update(APPLICATION)
    workflow.do_engine_steps()
    samples = []
    for index in range(rounds):
        data = {"outcome": "return", "return_reasons": REASONS} if index % 2 == 0 else CORRECTION
        began = time.perf_counter()
        task = workflow.get_next_task(state=TaskState.READY, manual=True)
        task.set_data(**data)
        task.run()
        workflow.do_engine_steps()
        samples.append(time.perf_counter() - began)
    first, last = sorted(samples[:20]), sorted(samples[-20:])
    return first[10], last[10]
