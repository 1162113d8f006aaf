"""Process definitions: deploy-time preparation and the per-version parsed-spec cache.

A deployment turns BPMN/DMN/form sources into one `ProcessVersion` per executable process.
A version is identified by the hash of exactly the content it runs on (its BPMN file, the
DMN files and forms it references), so deploying unchanged content maps to the same version.
Parsed SpiffWorkflow specs never leave this package: they are cached by content hash.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import orjson
from lxml import etree
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException

from .approval import draw_modes, wire_modes
from .bpmn_doc import is_executable, promote_only_process
from .copies import CopyTarget, cc_targets
from .decisions import DecisionSet
from .errors import ExpressionError, InvalidProcess, Problem
from .formdata import form_data_of, form_key_of, generated_forms
from .library import Binding, Library, bind_calls, bound_files
from .listeners import attach_hooks
from .multi_instance import require_collections
from .services import ParkParser
from .timers import normalize_timer_expressions
from .validation import SourceSet, check_sources, human_task_specs
from .values import HumanTaskSpec
from .xmlsafe import parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
DMN_DECISION = "{*}decision"


@dataclass(frozen=True)
class ProcessVersion:
    """Everything needed to run one process version; plain data, safe to store and pass around."""

    key: str
    name: str
    bpmn: bytes
    dmn: tuple[bytes, ...]
    forms: Mapping[str, Any]
    content_hash: str
    promised_duration: str | None = None
    start_form_key: str | None = None
    human_tasks: Mapping[str, HumanTaskSpec] = field(default_factory=dict)
    # the other BPMN files of its deployment that its call activities reach, at any depth
    called: tuple[bytes, ...] = ()
    # what the deploy accepted but should be looked at; known at deploy time only
    warnings: tuple[Problem, ...] = field(default=(), compare=False)
    # what ending at each of its end events means (approved, rejected, withdrawn), as the
    # end event's camunda:properties ``result`` says; end events without one say nothing
    end_results: Mapping[str, str] = field(default_factory=dict)
    # the messages its start events catch: an application of it may be started by one
    start_messages: tuple[str, ...] = ()
    # what pages show of it: the process's documentation (whitespace folded), the name of
    # every named element by id, and the lane its start event sits in (None without lanes)
    description: str = ""
    element_names: Mapping[str, str] = field(default_factory=dict)
    start_lane: str | None = None
    # whom submitting an application copies it to (the process's ``cc`` property)
    cc: tuple[CopyTarget, ...] = ()
    # the data that says what an approved application was granted (amount, invoice types…),
    # as the process's ``granted`` property names it: comma-separated data names, in order
    granted: tuple[str, ...] = ()

    @classmethod
    def from_sources(
        cls, key: str, bpmn: bytes, dmn: tuple[bytes, ...] = (),
        forms: Mapping[str, Any] | None = None, called: tuple[bytes, ...] = (),
    ) -> ProcessVersion:
        """Rebuild a version from stored sources (the store keeps only these)."""
        files = {"process.bpmn": bpmn, **{f"called{i}.bpmn": c for i, c in enumerate(called)}}
        versions = prepare_deployment(files, dict(enumerate_dmn(dmn)), forms or {},
                                      validate=False)
        for version in versions:
            if version.key == key:
                return version
        raise InvalidProcess([Problem(key, None, "the stored sources define no such process")])


def enumerate_dmn(dmn: tuple[bytes, ...]) -> list[tuple[str, bytes]]:
    return [(f"decision{i}.dmn", content) for i, content in enumerate(dmn)]


def prepare_deployment(
    bpmn_files: Mapping[str, bytes], dmn_files: Mapping[str, bytes], forms: Mapping[str, Any],
    *, validate: bool = True, library: Library | None = None,
) -> tuple[ProcessVersion, ...]:
    """Validate a deployment and describe each executable process; raises InvalidProcess.

    ``library`` holds the park's deployed procedures (see engine.library): a call activity
    whose calledElement is not in the deployment binds to one of their versions now, and
    the version keeps that version's BPMN among its ``called`` files.

    ``validate=False`` is for sources that were validated when they were deployed: a stored
    version must keep running even after the deploy checks grow stricter.
    """
    warnings: tuple[Problem, ...] = ()
    if validate:
        verdict = check_sources(SourceSet(bpmn=bpmn_files, dmn=dmn_files, forms=forms,
                                          library=library))
        if verdict.problems:
            raise InvalidProcess(verdict.problems, verdict.warnings)
        warnings = tuple(verdict.warnings)
    decisions = _decision_index(dmn_files.values())
    roots = runnable_roots(bpmn_files)
    reached = _called_files(roots)
    binding = bind_calls(roots.values(), library) if library else Binding()
    # a called version's forms come with it; the deployment's own win a clash of keys
    forms = {**{k: v for c in binding.bound.values() for k, v in c.forms.items()}, **forms}
    versions: list[ProcessVersion] = []
    for name, content in bpmn_files.items():
        documents = [roots[name], *(roots[other] for other in reached[name])]
        outside = bound_files(documents, binding)
        called = (*(bpmn_files[other] for other in reached[name]), *outside)
        documents += runnable_roots({str(n): c for n, c in enumerate(outside)}).values()
        tasks: dict[str, HumanTaskSpec] = {}
        for document in reversed(documents):  # the version's own file wins a clash of ids
            tasks.update(human_task_specs(document))
        for process in roots[name].iter(f"{{{BPMN_NS}}}process"):
            if is_executable(process):
                versions.append(replace(_describe(process, documents, content, called,
                                                  decisions, forms, tasks), warnings=warnings))
    return tuple(versions)


def runnable_roots(bpmn_files: Mapping[str, bytes]) -> dict[str, etree._Element]:
    """The parsed files, with a lone unmarked process made executable as deploy allows."""
    roots = {name: parse_xml(content).getroot() for name, content in bpmn_files.items()}
    promote_only_process(roots.values())
    return roots


def _called_files(roots: Mapping[str, etree._Element]) -> dict[str, list[str]]:
    """For each file, the other files its call activities reach, directly or not, in order.

    SpiffWorkflow resolves a ``calledElement`` among the processes its parser was given, so a
    version must bring every file its calls lead to, or its start fails with "process not
    found" although the deployment had the process.
    """
    home = {process.get("id", ""): name for name, root in roots.items()
            for process in root.iter(f"{{{BPMN_NS}}}process")}
    calls = {name: [home[ref] for call in root.iter(f"{{{BPMN_NS}}}callActivity")
                    if (ref := call.get("calledElement", "")) in home]
             for name, root in roots.items()}
    reached: dict[str, list[str]] = {}
    for name in roots:
        seen = [name]
        for current in seen:
            seen.extend(other for other in calls[current] if other not in seen)
        reached[name] = seen[1:]
    return reached


def decision_ids(content: bytes) -> tuple[str, ...]:
    """The ids of the decisions a DMN file defines, in document order."""
    return tuple(str(decision.get("id", ""))
                 for decision in parse_xml(content, what="DMN").getroot().iter(DMN_DECISION))


def _decision_index(contents: Iterable[bytes]) -> dict[str, tuple[bytes, tuple[str, ...]]]:
    """decision id -> the DMN file holding it and the decisions it requires."""
    index: dict[str, tuple[bytes, tuple[str, ...]]] = {}
    for content in contents:
        for decision in parse_xml(content, what="DMN").getroot().iter(DMN_DECISION):
            required = tuple(str(href).lstrip("#") for href in decision.xpath(
                "*[local-name()='informationRequirement']/*[local-name()='requiredDecision']/@href"))
            index[decision.get("id", "")] = (content, required)
    return index


def _decision_files(refs: Iterable[str],
                    decisions: Mapping[str, tuple[bytes, tuple[str, ...]]]) -> tuple[bytes, ...]:
    """The DMN files a version needs: those of its decisionRefs and of what they require."""
    seen = sorted(ref for ref in refs if ref in decisions)
    for current in seen:
        seen.extend(r for r in decisions[current][1] if r in decisions and r not in seen)
    files: list[bytes] = []
    for ref in seen:
        if decisions[ref][0] not in files:
            files.append(decisions[ref][0])
    return tuple(files)


def _describe(
    process: etree._Element,
    documents: list[etree._Element],
    content: bytes,
    called: tuple[bytes, ...],
    decisions: Mapping[str, tuple[bytes, tuple[str, ...]]],
    forms: Mapping[str, Any],
    tasks: Mapping[str, HumanTaskSpec],
) -> ProcessVersion:
    # a version runs its whole file and the files it calls: call activities reach them all
    elements = [el for document in documents for el in document.iter()]
    refs = {el.get(f"{{{CAMUNDA_NS}}}decisionRef") for el in elements}
    dmn = _decision_files((r for r in refs if r), decisions)
    keys = {el.get(f"{{{CAMUNDA_NS}}}formKey") for el in elements if form_data_of(el) is None}
    used_forms = {k: forms[k] for k in sorted(k for k in keys if k) if k in forms}
    # forms drawn in the diagram (camunda:formData) are made from it every time, never stored
    used_forms.update(generated_forms(documents))
    start = process.find(f"{{{BPMN_NS}}}startEvent")
    return ProcessVersion(
        key=process.get("id", ""),
        name=process.get("name") or process.get("id", ""),
        bpmn=content,
        dmn=dmn,
        forms=used_forms,
        content_hash=content_hash(content, dmn, used_forms, called),
        promised_duration=_property(process, "promisedDuration"),
        start_form_key=form_key_of(start) if start is not None else None,
        human_tasks=dict(tasks),
        called=called,
        end_results=_end_results(process),
        start_messages=_start_messages(process),
        description=_documentation(process),
        element_names={str(el.get("id")): str(el.get("name")) for el in process.iter()
                       if isinstance(el.tag, str) and el.get("id") and el.get("name")},
        start_lane=_lane_of(process, start),
        cc=cc_targets(_property(process, "cc")),
        granted=_names(_property(process, "granted")),
    )


def _start_messages(process: etree._Element) -> tuple[str, ...]:
    # named as SpiffWorkflow's Camunda parser names them: the bpmn:message's name
    root = process.getroottree().getroot()
    names = {message.get("id"): message.get("name")
             for message in root.iterfind(f"{{{BPMN_NS}}}message")}
    found = []
    for start in process.iterfind(f"{{{BPMN_NS}}}startEvent"):
        for definition in start.iterfind(f"{{{BPMN_NS}}}messageEventDefinition"):
            name = names.get(definition.get("messageRef"))
            if name and name not in found:
                found.append(name)
    return tuple(found)


def _documentation(process: etree._Element) -> str:
    found = process.find(f"{{{BPMN_NS}}}documentation")
    return " ".join("".join(found.itertext()).split()) if found is not None else ""


def _lane_of(process: etree._Element, node: etree._Element | None) -> str | None:
    """The name of the innermost lane a flow node sits in, if the process has lanes."""
    if node is None:
        return None
    for lane in process.iter(f"{{{BPMN_NS}}}lane"):
        refs = {(ref.text or "").strip() for ref in lane.findall(f"{{{BPMN_NS}}}flowNodeRef")}
        if node.get("id") in refs and lane.find(f".//{{{BPMN_NS}}}lane") is None:
            name = lane.get("name")
            return str(name) if name is not None else None
    return None


def _end_results(process: etree._Element) -> dict[str, str]:
    # only the process's own end events end it: one inside a subprocess ends the subprocess
    found = {}
    for end in process.iterfind(f"{{{BPMN_NS}}}endEvent"):
        result = _property(end, "result")
        if result:
            found[end.get("id", "")] = result
    return found


def _names(listed: str | None) -> tuple[str, ...]:
    """The names of a comma-separated list (either comma), blanks and repeats left out."""
    found: list[str] = []
    for name in (listed or "").replace("，", ",").split(","):
        if name.strip() and name.strip() not in found:
            found.append(name.strip())
    return tuple(found)


def _property(element: etree._Element, name: str) -> str | None:
    for prop in element.iterfind(f"{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_NS}}}properties/"
                                 f"{{{CAMUNDA_NS}}}property"):
        if prop.get("name") == name:
            value = prop.get("value")
            return str(value) if value is not None else None
    return None


def content_hash(bpmn: bytes, dmn: tuple[bytes, ...], forms: Mapping[str, Any],
                 called: tuple[bytes, ...] = ()) -> str:
    """SHA-256 over exactly what a version runs on."""
    digest = hashlib.sha256()
    digest.update(bpmn)
    for content in dmn:
        digest.update(b"\0dmn\0" + content)
    digest.update(b"\0forms\0" + orjson.dumps(forms, option=orjson.OPT_SORT_KEYS))
    # versions that call no other file keep the hash they were deployed with
    for content in called:
        digest.update(b"\0called\0" + content)
    return digest.hexdigest()


@dataclass(frozen=True)
class CompiledProcess:
    """A parsed version: the SpiffWorkflow specs, private to the engine."""

    version: ProcessVersion
    spec: Any
    subprocess_specs: Mapping[str, Any]


class SpecCache:
    """Parsed specs by content hash; parsing costs milliseconds, a lookup microseconds."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[str, CompiledProcess] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: ProcessVersion) -> CompiledProcess:
        """The compiled process for a version, parsing it on first use."""
        cache_key = f"{version.content_hash}:{version.key}"
        with self._lock:
            found = self._items.get(cache_key)
            if found is not None:
                self._items.move_to_end(cache_key)
                return found
        compiled = compile_process(version)
        with self._lock:
            self._items[cache_key] = compiled
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return compiled


def compile_process(version: ProcessVersion) -> CompiledProcess:
    """Parse a version with the Camunda parser, normalise its timers and wire its hooks."""
    try:
        parser = ParkParser(DecisionSet(version.dmn))
    except ExpressionError as exc:  # sources stored before a deploy check refused them
        raise InvalidProcess([Problem(version.key, None, str(exc))]) from exc
    files = {f"{version.key}.bpmn": version.bpmn,
             **{f"{version.key}.called{n}.bpmn": c for n, c in enumerate(version.called)}}
    try:
        for filename, root in runnable_roots(files).items():
            draw_modes(root)  # approval modes run as multi-instance tasks (engine.approval)
            parser.add_bpmn_xml(root, filename=filename)
        spec = parser.get_spec(version.key)
        subprocess_specs = parser.get_subprocess_specs(version.key)
    except ValidationException as exc:
        problem = Problem(exc.id or version.key, None, str(exc).splitlines()[0])
        raise InvalidProcess([problem]) from exc
    documents = [parse_xml(content).getroot() for content in (version.bpmn, *version.called)]
    for each in (spec, *subprocess_specs.values()):
        normalize_timer_expressions(each)
        wire_modes(each, version.human_tasks)  # sets its collections: before the check
        require_collections(each)
        attach_hooks(each, documents)
    return CompiledProcess(version=version, spec=spec, subprocess_specs=subprocess_specs)
