"""The differential suite on generated diagrams: Parkflow runs each exactly as SpiffWorkflow.

Each example is a diagram built from parts (generate.py), a seed its conditions read and a seed
for the order in which the open tasks are completed. Raw SpiffWorkflow and Parkflow's engine,
which stores and reloads the state (pruned) between every call, must show the same steps, the
same open tasks after each, the same end state and the same final data.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from .generate import Block, blocks, render
from .harness import same_runs

EXAMPLES = 300


def run_both(block: Block, seed: int, order: int) -> None:
    note(f"block={block!r} seed={seed} order={order}")
    bpmn, start_data = render(block, seed=seed)
    ours = same_runs({"generated.bpmn": bpmn}, "generated", start_data=start_data, order=order)
    assert ours.status == "completed", "a generated diagram always runs to its end"


@settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(blocks(max_leaves=16), st.integers(0, 60), st.integers(0, 10**6))
def test_generated_diagrams_run_as_in_spiffworkflow(block: Block, seed: int, order: int) -> None:
    run_both(block, seed, order)
