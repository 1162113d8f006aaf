"""Forms drawn in the diagram (camunda:formData) change nothing of how a process runs.

SpiffWorkflow's own test diagrams draw their forms with camunda:formData and also name a
formKey, which Parkflow refuses as naming the form twice (GAPS in ``test_external``). Without
the formKey they deploy, each form made a JSON Schema form; driven with data those forms
accept, every one runs exactly as raw SpiffWorkflow runs the same diagram with the same data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from lxml import etree

from engine import ProcessVersion

from .harness import DataFor, deploy, run_parkflow, run_raw, seeded_chooser, visit_data
from .test_external import CAMUNDA, DEPLOYMENTS, GAPS, NAMESPACES, SEEDS, Deployment

FORM_KEY = f"{{{CAMUNDA}}}formKey"
NAMED_TWICE = {"the form is named twice"}
# MessageBoundary.bpmn loops on purpose ("Will never happen!"): alone, SpiffWorkflow stalls
# once its task tree is 1,000 deep, where Parkflow's pruned tree goes on; both stop before
MAX_STEPS = 150
DRAWN = [d for d in DEPLOYMENTS if GAPS.get(d.path) == NAMED_TWICE]


def _without_form_keys(content: bytes) -> bytes:
    """The diagram with the formKey of every element that draws its form removed."""
    root = etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))
    for element in root.xpath(
        "//*[bpmn:extensionElements/camunda:formData]", namespaces=NAMESPACES
    ):
        element.attrib.pop(FORM_KEY, None)
    return bytes(etree.tostring(root, xml_declaration=True, encoding="UTF-8"))


def sample(schema: Mapping[str, Any], visit: int = 1) -> dict[str, Any]:
    """Data a generated form accepts, changing with the visit so that loops end: the field's
    default on a first visit, else a value of its type (an enum's values in turn, booleans
    alternating, "Yes" for a text on every second visit, as these diagrams' conditions ask)."""
    data: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        if prop.get("readOnly"):
            continue
        if "default" in prop and visit == 1:
            data[name] = prop["default"]
        elif "enum" in prop:
            data[name] = prop["enum"][(visit - 1) % len(prop["enum"])]
        elif prop.get("type") == "integer":
            data[name] = prop.get("minimum", 0) + visit
        elif prop.get("type") == "boolean":
            data[name] = visit % 2 == 1
        elif prop.get("format") == "date":
            data[name] = "2026-03-02"
        else:
            text = "Yes" if visit % 2 == 0 else "no"
            data[name] = text.ljust(prop.get("minLength", 1), ".")
    return data


def _driver(versions: Mapping[str, ProcessVersion]) -> tuple[DataFor, dict[str, Any]]:
    drawn = {
        element_id: version.forms[task.form_key]
        for version in versions.values()
        for element_id, task in version.human_tasks.items()
        if task.form_key and task.form_key.startswith("formData:")
    }

    def data_for(element_id: str, visit: int) -> dict[str, Any]:
        form = drawn.get(element_id)
        return sample(form, visit) if form is not None else visit_data(element_id, visit)

    starts = {
        key: sample(v.forms[v.start_form_key])
        if v.start_form_key and v.start_form_key.startswith("formData:")
        else {}
        for key, v in versions.items()
    }
    return data_for, starts


def test_some_diagrams_are_refused_only_for_naming_their_form_twice() -> None:
    assert len(DRAWN) >= 10


@pytest.mark.parametrize("deployment", DRAWN, ids=[d.path for d in DRAWN])
def test_a_diagram_with_drawn_forms_runs_as_in_spiffworkflow(deployment: Deployment) -> None:
    bpmn = {name: _without_form_keys(content) for name, content in deployment.bpmn.items()}
    versions = deploy(bpmn, deployment.dmn, deployment.forms)
    assert any(key.startswith("formData:") for v in versions.values() for key in v.forms)
    data_for, starts = _driver(versions)
    for process_id in deployment.processes:
        for seed in SEEDS:
            raw = run_raw(
                bpmn,
                deployment.dmn,
                process_id,
                start_data=starts[process_id],
                choose=seeded_chooser(seed),
                data_for=data_for,
                max_steps=MAX_STEPS,
            )
            ours = run_parkflow(
                versions[process_id],
                start_data=starts[process_id],
                choose=seeded_chooser(seed),
                data_for=data_for,
                max_steps=MAX_STEPS,
            )
            assert ours.steps == raw.steps, (process_id, seed)
            assert (ours.status, ours.data) == (raw.status, raw.data), (process_id, seed)
            assert ours.status != "error" or raw.status == "error"
