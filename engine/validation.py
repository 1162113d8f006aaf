"""Deploy-time validation: every reason a deployment cannot run, all at once.

A deploy brings BPMN files, DMN files and JSON Schema forms. ``validate_sources`` parses them
safely, checks them against the XSDs, then runs Parkflow's own checks (references, unsupported
constructs, expressions, forms, decisions, lanes). Only when all of those pass is the
deployment handed to SpiffWorkflow's parser, whose errors carry no line; the line is found
again through the element id.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from .approval import MODE, draw_modes
from .bpmn_doc import Deployment, Document, bpmn, camunda, problem, promote_only_process
from .decisions import DecisionSet
from .errors import InvalidProcess, Problem
from .formdata import check_form_data, form_key_of
from .library import Binding, Library, bind_calls, bound_files
from .services import ParkParser
from .task_rules import check_task_rules
from .validation_approval import PROPERTY, check_approval_modes
from .validation_dmn import check_decision_refs, check_dmn, check_form_keys, check_forms
from .validation_exprs import check_expressions
from .validation_mappings import check_mappings
from .validation_schema import check_bpmn_schema, check_dmn_schema
from .validation_structure import check_deployment, check_lanes, check_structure
from .validation_support import check_support
from .values import HumanTaskSpec
from .xmlsafe import parse_xml

NOT_MARKED_EXECUTABLE = ("the process is not marked executable (isExecutable is not \"true\"); "
                         "it is the only process here, so Parkflow deploys it to run")


@dataclass(frozen=True)
class SourceSet:
    """What one deploy brings."""

    bpmn: Mapping[str, bytes]  # filename -> content
    dmn: Mapping[str, bytes]  # filename -> content
    forms: Mapping[str, Any]  # formKey -> JSON Schema, already loaded from JSON
    # the park's deployed procedures that calls out of the deployment may bind to
    library: Library | None = None


@dataclass(frozen=True)
class Verdict:
    """What checking a deployment found: what stops it, and what it runs despite."""

    problems: list[Problem]
    warnings: list[Problem]


def validate_sources(sources: SourceSet) -> list[Problem]:
    """Every problem at once, [] when deployable."""
    return check_sources(sources).problems


def check_sources(sources: SourceSet) -> Verdict:
    """Every problem and every warning of a deployment at once."""
    problems: list[Problem] = []
    bpmn_docs = _load(sources.bpmn, "BPMN", problems)
    dmn_docs = _load(sources.dmn, "DMN", problems)
    promoted = promote_only_process(doc.root for doc in bpmn_docs)
    warnings = ([problem(promoted, NOT_MARKED_EXECUTABLE, code="not_executable")]
                if promoted is not None else [])
    for doc in bpmn_docs:
        problems += _in(doc, check_bpmn_schema(doc))
    for doc in dmn_docs:
        problems += _in(doc, check_dmn_schema(doc))
    deploy = Deployment(bpmn_docs, dmn_docs, sources.forms)
    problems += check_deployment(deploy)
    binding = bind_calls((doc.root for doc in bpmn_docs), sources.library)
    for doc in bpmn_docs:
        problems += _in(doc, _check_bpmn(doc, deploy))
        warnings += _in(doc, check_lanes(doc))
        drawn = check_form_data(doc)
        problems += _in(doc, drawn.problems)
        warnings += _in(doc, drawn.warnings)
    problems += binding.problems  # calls out of the deployment, after each file's own checks
    warnings += binding.warnings
    for doc in dmn_docs:
        problems += _in(doc, check_dmn(doc, deploy))
    problems += check_forms(sources.forms)
    if not problems:
        problems += _parse_with_engine(deploy, binding)
    several = len(sources.bpmn) + len(sources.dmn) > 1
    return Verdict(_located(problems, deploy, several), _located(warnings, deploy, several))


def _in(doc: Document, found: Iterable[Problem]) -> list[Problem]:
    return [replace(p, file=doc.filename) for p in found]


def _located(found: list[Problem], deploy: Deployment, several: bool) -> list[Problem]:
    """Problems naming their file when the deployment has several, and only then."""
    located = [replace(p, file=(p.file or deploy.file_of(p.element_id)) if several else None)
               for p in found]
    return list(dict.fromkeys(located))


def _load(files: Mapping[str, bytes], what: str, problems: list[Problem]) -> list[Document]:
    docs = []
    for filename, content in files.items():
        try:
            docs.append(Document(filename, parse_xml(content, what=what)))
        except InvalidProcess as exc:
            problems += [Problem(p.element_id or filename, p.line, p.message, filename)
                         for p in exc.problems]
    return docs


def _check_bpmn(doc: Document, deploy: Deployment) -> Iterator[Problem]:
    yield from check_structure(doc, deploy)
    yield from check_support(doc)
    yield from check_expressions(doc)
    yield from check_mappings(doc)
    yield from check_form_keys(doc, deploy.forms)
    yield from check_decision_refs(doc, deploy)
    yield from check_approval_modes(doc)
    yield from check_task_rules(doc)


def _parse_with_engine(deploy: Deployment, binding: Binding) -> list[Problem]:
    # One parser per deploy: SpiffWorkflow refuses a process id it has seen before, and
    # bpmn-js ids like Process_1 recur across parks. Decisions go first so decisionRefs resolve.
    try:
        parser = ParkParser(DecisionSet(doc.root for doc in deploy.dmn))
        for doc in deploy.bpmn:
            parser.add_bpmn_xml(_as_run(doc.root), filename=doc.filename)
        library = {f"park.{n}.bpmn": content
                   for n, content in enumerate(bound_files((d.root for d in deploy.bpmn), binding))}
        for filename, content in library.items():
            root = parse_xml(content).getroot()
            promote_only_process([root])  # as when it was deployed
            parser.add_bpmn_xml(root, filename=filename)
        for key in deploy.executable():
            parser.get_spec(key)
            parser.get_subprocess_specs(key)
    except ValidationException as exc:
        element_id = str(exc.id or "")
        return [Problem(element_id, deploy.line_of(element_id) if element_id else None,
                        _first_line(exc), exc.file_name or None, code="engine_refused",
                        params=(("reason", _first_line(exc)),))]
    except Exception as exc:  # the parser also fails with assorted built-in errors
        return [Problem("", None, f"the engine cannot parse this deployment: {exc!r}")]
    return []


def _as_run(root: etree._Element) -> etree._Element:
    """The diagram as the engine parses it: approval modes drawn as multi-instance tasks."""
    if root.find(f".//{PROPERTY}[@name='{MODE}']") is None:
        return root
    drawn = copy.deepcopy(root)
    draw_modes(drawn)
    return drawn


def _first_line(exc: Exception) -> str:
    text = str(exc.args[0]) if exc.args else str(exc)
    return text.splitlines()[0] if text.strip() else type(exc).__name__


def human_task_specs(tree: etree._ElementTree | etree._Element) -> dict[str, HumanTaskSpec]:
    """element_id -> spec for the user tasks of a document, or of one process element."""
    root = tree.getroot() if isinstance(tree, etree._ElementTree) else tree
    doc = Document("", root.getroottree())
    return {spec.element_id: spec for spec in _task_specs(root.iter(bpmn("userTask")), doc)}


def _task_specs(tasks: Iterable[etree._Element], doc: Document) -> Iterator[HumanTaskSpec]:
    for task in tasks:
        groups = _split(task.get(camunda("candidateGroups")))
        users = _split(task.get(camunda("candidateUsers")))
        assignee = (task.get(camunda("assignee")) or "").strip() or None
        lane = doc.lane_name(task)
        if not (groups or users or assignee) and lane:
            groups = (lane,)  # a lane's name is the default candidate group (design decision 1)
        yield HumanTaskSpec(
            element_id=task.get("id", ""),
            name=task.get("name") or task.get("id", ""),
            lane=lane,
            candidate_groups=groups,
            candidate_users=users,
            assignee=assignee,
            due_date=_attribute(task, "dueDate"),
            follow_up_date=_attribute(task, "followUpDate"),
            priority=_priority(task.get(camunda("priority"))),
            form_key=form_key_of(task),
            properties=_properties(task),
            line=task.sourceline,
        )


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(part.strip() for part in (value or "").split(",") if part.strip())


def _attribute(task: etree._Element, name: str) -> str | None:
    value = (task.get(camunda(name)) or "").strip()
    return value or None


def _priority(value: str | None) -> int | None:
    # An expression cannot be resolved before the task exists; only literals are kept here.
    try:
        return int(value.strip()) if value is not None else None
    except ValueError:
        return None


def _properties(task: etree._Element) -> dict[str, str]:
    path = f"{bpmn('extensionElements')}/{camunda('properties')}/{camunda('property')}"
    return {prop.get("name", ""): prop.get("value", "") for prop in task.iterfind(path)}
