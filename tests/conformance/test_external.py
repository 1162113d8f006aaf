"""The differential suite on diagrams written elsewhere: SpiffWorkflow's own test diagrams and
Camunda's examples (data/<source>/, with SOURCES.md naming repository, commit and licence).

Each file is deployed with the files beside it that it needs (the processes its call
activities name, the decisions its business rule tasks name). Parkflow either refuses it — on
purpose, for Java, non-Python scripts or another engine's extensions, and
the refusal must say so; or for a construct it does not support yet, which must be listed in
GAPS — or runs every executable process exactly as raw SpiffWorkflow does, for a few orders of
completing the open tasks, a drawn form (camunda:formData) given data of its fields. A diagram
that needs data the driver does not give ends in error in both runs; one waiting for a timer
or a message stays active in both.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser

from engine import InvalidProcess, Problem, ProcessVersion

from .harness import (
    deploy,
    drawn_forms_driver,
    run_parkflow,
    run_raw,
    seeded_chooser,
    visit_data,
)

DATA = Path(__file__).resolve().parent / "data"
BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
SEEDS = range(3)
# MessageBoundary.bpmn loops on purpose ("Will never happen!"): alone, SpiffWorkflow stalls
# once its task tree is 1,000 deep, where Parkflow's pruned tree goes on; both stop before
MAX_STEPS = 150

# what Parkflow refuses by design: how to spot it in a diagram, and what the refusal must say
ON_PURPOSE = {
    "Java code": (
        "//@camunda:class | //@camunda:delegateExpression | //bpmn:serviceTask/@camunda:expression"
        " | //bpmn:sendTask/@camunda:expression",
        r"runs no Java code",
    ),
    "Java listeners": (
        "//camunda:executionListener[@class or @delegateExpression or @expression]"
        " | //camunda:taskListener[@class or @delegateExpression or @expression]",
        # a listener Parkflow cannot run is refused as such: Java, a moment it has not, ...
        r"runs no listeners|Listener (with a Java|expression|event)|Listener is supported on",
    ),
    "connectors": ("//camunda:connector", r"camunda:connector is not supported"),
    "non-Python scripts": (
        "//bpmn:scriptTask[@scriptFormat and not(translate(@scriptFormat, 'PYTHON3',"
        " 'python3') = 'python' or translate(@scriptFormat, 'PYTHON3', 'python3') = 'python3')]"
        " | //camunda:script[@scriptFormat]",
        # a script in a listener, mapping or connector is refused with the construct holding it
        r"scriptFormat '[^']+' is not supported|runs no listeners|camunda:(inputOutput|connector)"
        r"|camunda:(input|output)Parameter '[^']*': only a text",
    ),
    "SpiffWorkflow's own extensions": (
        "//*[namespace-uri() = 'http://spiffworkflow.org/bpmn/schema/1.0/core']",
        r"spiffworkflow:",
    ),
    # a park is Parkflow's tenant; Camunda's tenant ids name nothing here
    "tenants": ("//@camunda:calledElementTenantId", r"calledElementTenantId is not supported"),
    # what would fail only later, refused at deploy (the bug 5): a message thrown
    # without its payload, a signal naming no bpmn:signal
    "message throws without a payload": (
        "(//bpmn:intermediateThrowEvent | //bpmn:endEvent)"
        "/bpmn:messageEventDefinition[not(@camunda:expression)]",
        r"a message throw needs its payload",
    ),
    "signals without a signalRef": (
        "//bpmn:signalEventDefinition[not(@signalRef)]",
        r"a signal event needs a signalRef",
    ),
    # as in Camunda, which refuses it too: a service task must say what it calls
    "service tasks calling nothing": (
        "//bpmn:serviceTask[not(@camunda:type or @camunda:class or @camunda:expression"
        " or @camunda:delegateExpression or .//camunda:connector"
        " or .//camunda:property[@name = 'service'])]",
        r"a service task needs a camunda:properties property 'service'",
    ),
}
# the same for the decision tables a diagram is deployed with
ON_PURPOSE_DMN = {
    # DMN requires an input expression; SpiffWorkflow falls back to reading a variable named
    # by the input's label, which its own code calls "the likely very bad idea"
    "decision inputs without an expression": (
        "//*[local-name() = 'input'][not(*[local-name() = 'inputExpression']"
        "/*[local-name() = 'text'][normalize-space()])]",
        r"a decision input needs an input expression",
    ),
}
NAMESPACES = {"bpmn": BPMN, "camunda": CAMUNDA}

# what Parkflow runs otherwise than raw SpiffWorkflow: file -> how (each fails, strictly)
DIFFERENT: dict[str, str] = {
    "camunda-bpm-examples/clients-java-order-handling-order-handling.bpmn":
        "its start timer is a cron cycle (Camunda's 6 fields), which Parkflow runs and "
        "SpiffWorkflow refuses",
}
# what Parkflow does on purpose that raw SpiffWorkflow leaves out, as Camunda does it: the raw
# run is given what Parkflow adds, and must then run identically.
# camunda:initiator: Parkflow sets the named variable to the user who starts the application
# (the driver's "applicant"); SpiffWorkflow ignores the attribute
INITIATOR = "//bpmn:process[@id = $process]/bpmn:startEvent/@camunda:initiator"
# what Parkflow refuses though raw SpiffWorkflow runs it: file -> the refusals, shortened
GAPS: dict[str, set[str]] = {}


@dataclass(frozen=True)
class Deployment:
    """One file to check, with the sources it is deployed with."""

    path: str
    processes: tuple[str, ...]
    bpmn: dict[str, bytes]
    dmn: dict[str, bytes]
    forms: dict[str, Any]


def _tree(content: bytes) -> etree._Element:
    return etree.fromstring(content, etree.XMLParser(resolve_entities=False, no_network=True))


def _ids(root: etree._Element, xpath: str) -> set[str]:
    return {str(value) for value in root.xpath(xpath, namespaces=NAMESPACES)}


def _deployment(path: Path) -> Deployment:
    # the siblings a file needs: what its call activities and business rule tasks name
    siblings = {p: _tree(p.read_bytes()) for p in path.parent.glob("*.bpmn")}
    defines = {p: _ids(root, "//bpmn:process/@id") for p, root in siblings.items()}
    chosen = [path]
    while True:
        wanted = set().union(
            *(_ids(siblings[p], "//bpmn:callActivity/@calledElement") for p in chosen)
        ) - set().union(*(defines[p] for p in chosen))
        more = [p for p in siblings if p not in chosen and defines[p] & wanted]
        if not more:
            break
        chosen.extend(more)
    refs = set().union(*(_ids(siblings[p], "//@camunda:decisionRef") for p in chosen))
    dmn = {
        p.name: p.read_bytes()
        for p in sorted(path.parent.glob("*.dmn"))
        if _ids(_tree(p.read_bytes()), "//*[local-name() = 'decision']/@id") & refs
    }
    executable = "//bpmn:process[@isExecutable = 'true']/@id"
    # the forms live in the other engine's application: these take what the driver gives
    # (harness.visit_data), a form defining the visit count of each task that names it
    forms: dict[str, Any] = {}
    for p in chosen:
        drawn_or_named = "//*[@camunda:formKey and not(bpmn:extensionElements/camunda:formData)]"
        for element in siblings[p].xpath(drawn_or_named, namespaces=NAMESPACES):
            form = forms.setdefault(element.get(FORM_KEY).strip(),
                                    {"type": "object", "properties": {}})
            fields = visit_data(element.get("id"), 1)
            form["properties"].update(dict.fromkeys(fields, {"type": "integer"}))
    return Deployment(
        path=str(path.relative_to(DATA)),
        processes=tuple(sorted(_ids(siblings[path], executable))),
        bpmn={p.name: p.read_bytes() for p in chosen},
        dmn=dmn,
        forms=forms,
    )


FORM_KEY = f"{{{NAMESPACES['camunda']}}}formKey"
DEPLOYMENTS = [_deployment(path) for path in sorted(DATA.rglob("*.bpmn"))]
COUNTS: Counter[str] = Counter()


def _on_purpose(deployment: Deployment) -> dict[str, str]:
    """The refusals by design the file calls for: reason -> what the refusal must match."""
    root = _tree(deployment.bpmn[Path(deployment.path).name])
    found = {
        reason: expected
        for reason, (xpath, expected) in ON_PURPOSE.items()
        if root.xpath(xpath, namespaces=NAMESPACES)
    }
    for content in deployment.dmn.values():
        table = _tree(content)
        found.update(
            (reason, expected)
            for reason, (xpath, expected) in ON_PURPOSE_DMN.items()
            if table.xpath(xpath)
        )
    return found


def _short(problem: Problem) -> str:
    # the refusal without its hint or the names in it, to keep GAPS readable and stable
    message = re.sub(r"^script line \d+: ", "", problem.message)
    return re.sub(r"'[^']*'", "…", message.split(": ")[0])


def _raw_refusal(deployment: Deployment, process_id: str) -> str | None:
    """Why SpiffWorkflow's own parser cannot build the process, if it cannot."""
    parser = CamundaParser()
    try:
        for name, content in deployment.bpmn.items():
            parser.add_bpmn_str(content, filename=name)
        for name, content in deployment.dmn.items():
            parser.add_dmn_str(content, filename=name)
        parser.get_spec(process_id)
        parser.get_subprocess_specs(process_id)
    except Exception as error:  # noqa: BLE001 - its parser fails with more than its own errors
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return None


def _refused(deployment: Deployment, problems: tuple[Problem, ...]) -> None:
    purposes = _on_purpose(deployment)
    if purposes:
        said = " ".join(p.message for p in problems)
        for reason, expected in purposes.items():
            assert re.search(expected, said), f"the refusal does not say why ({reason}): {said}"
        COUNTS["refused on purpose"] += 1
        return
    raw = [why for pid in deployment.processes if (why := _raw_refusal(deployment, pid))]
    if raw:
        COUNTS["raw cannot parse"] += 1
        pytest.skip(f"SpiffWorkflow cannot parse it either: {raw[0]}")
    assert {_short(p) for p in problems} == GAPS.get(deployment.path, set()), problems
    COUNTS["gaps"] += 1


def _translated(deployment: Deployment, process_id: str) -> dict[str, Any]:
    """What Parkflow gives the process on purpose beyond its start data (see INITIATOR)."""
    root = _tree(deployment.bpmn[Path(deployment.path).name])
    names = root.xpath(INITIATOR, namespaces=NAMESPACES, process=process_id)
    return {str(name).strip(): "applicant" for name in names if str(name).strip()}


def _same_run(deployment: Deployment, versions: dict[str, ProcessVersion], process_id: str,
              seed: int) -> None:
    # a form drawn in the diagram takes data of its fields; the other tasks the driver's own
    data_for, starts = drawn_forms_driver(versions)
    given = {**_translated(deployment, process_id), **starts[process_id]}
    raw = run_raw(
        deployment.bpmn, deployment.dmn, process_id, start_data=given,
        choose=seeded_chooser(seed), data_for=data_for, max_steps=MAX_STEPS,
    )
    ours = run_parkflow(versions[process_id], start_data=starts[process_id],
                        choose=seeded_chooser(seed), data_for=data_for, max_steps=MAX_STEPS)
    assert ours.steps == raw.steps, (process_id, seed)
    assert (ours.status, ours.data) == (raw.status, raw.data), (process_id, seed)


def _same_runs(deployment: Deployment, versions: dict[str, ProcessVersion]) -> None:
    for process_id in deployment.processes:
        why = _raw_refusal(deployment, process_id)
        if why:
            COUNTS["raw cannot parse"] += 1
            pytest.skip(f"SpiffWorkflow cannot parse {process_id}: {why}")
        COUNTS["processes run"] += 1
        try:
            for seed in SEEDS:
                _same_run(deployment, versions, process_id, seed)
        except BaseException:
            # a listed difference is one Parkflow runs and raw SpiffWorkflow refuses at run time
            listed = deployment.path in DIFFERENT
            COUNTS["raw refuses, Parkflow runs" if listed else "different"] += 1
            raise
    COUNTS["identical"] += 1
    if any(_translated(deployment, process_id) for process_id in deployment.processes):
        COUNTS["translated on purpose"] += 1  # of the identical ones


def _param(deployment: Deployment) -> object:
    reason = DIFFERENT.get(deployment.path)
    marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
    return pytest.param(deployment, id=deployment.path, marks=marks)


@pytest.mark.parametrize("deployment", [_param(d) for d in DEPLOYMENTS])
def test_an_external_diagram_runs_as_in_spiffworkflow_or_is_refused_saying_why(
    deployment: Deployment,
) -> None:
    COUNTS["files"] += 1
    try:
        versions = deploy(deployment.bpmn, deployment.dmn, deployment.forms)
    except InvalidProcess as refusal:
        _refused(deployment, refusal.problems)
        return
    assert deployment.path not in GAPS, "Parkflow now deploys a diagram listed as a gap"
    _same_runs(deployment, versions)


def test_every_gap_and_difference_listed_is_a_file_here() -> None:
    assert set(GAPS) | set(DIFFERENT) <= {d.path for d in DEPLOYMENTS}
