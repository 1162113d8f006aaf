"""Call activities to procedures deployed earlier in the park, bound when the caller deploys.

SpiffWorkflow needs the spec of every process a workflow may call when the workflow is
built, so a call to a process outside the caller's deployment is bound at deploy: the
caller's version keeps the called version's BPMN (and what that calls in turn) among its
``called`` files. ``latest`` therefore means the latest version deployed when the caller
was deployed; a redeploy of the caller picks up a newer one.

Bindings follow Camunda 7: ``camunda:calledElementBinding`` is ``deployment`` (the process
deployed with the caller; the default when the deployment has it), ``latest`` (the default
otherwise), ``version`` with ``camunda:calledElementVersion`` or ``versionTag`` with
``camunda:calledElementVersionTag``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .bpmn_doc import bpmn, camunda, problem, promote_only_process
from .errors import Problem
from .xmlsafe import parse_xml


@dataclass(frozen=True)
class CallableProcess:
    """One deployed version of a procedure that a call activity may bind to."""

    key: str  # the process id
    version: int
    bpmn: bytes
    # the files its own call activities reach, as stored with it (transitively complete)
    called: tuple[bytes, ...] = ()
    version_tag: str | None = None
    # the forms its user tasks' formKeys name, as stored with it
    forms: Mapping[str, Any] = field(default_factory=dict)

    @property
    def files(self) -> tuple[bytes, ...]:
        return (self.bpmn, *self.called)


# what the park offers: process id -> its deployed versions (any order)
Library = Mapping[str, Sequence[CallableProcess]]


@dataclass
class Binding:
    """What the calls of a deployment bound to outside it, and what went wrong."""

    bound: dict[str, CallableProcess] = field(default_factory=dict)  # process id -> version
    problems: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


def process_ids(roots: Iterable[etree._Element]) -> set[str]:
    return {str(p.get("id", "")) for root in roots for p in root.iter(bpmn("process"))}


def external_calls(bpmn_files: Mapping[str, bytes]) -> frozenset[str]:
    """The calledElements of a deployment that none of its files defines.

    A deploy gathers the park's versions of these (and only these) to bind them.
    """
    roots = [parse_xml(content).getroot() for content in bpmn_files.values()]
    local = process_ids(roots)
    return frozenset(
        ref
        for root in roots
        for call in root.iter(bpmn("callActivity"))
        if (ref := str(call.get("calledElement", ""))) and ref not in local
    )


def version_tag_of(content: bytes, key: str) -> str | None:
    """The camunda:versionTag of process ``key`` in a stored BPMN file, if it has one."""
    for process in parse_xml(content).getroot().iter(bpmn("process")):
        if process.get("id") == key:
            tag = process.get(camunda("versionTag"))
            return str(tag) if tag is not None else None
    return None


def bind_calls(roots: Iterable[etree._Element], library: Library | None) -> Binding:
    """Bind each call activity whose calledElement is not in the deployment to a version."""
    roots = list(roots)
    local = process_ids(roots)
    result = Binding()
    for root in roots:
        for call in root.iter(bpmn("callActivity")):
            key = str(call.get("calledElement", ""))
            binding = call.get(camunda("calledElementBinding"))
            if not key or (key in local and binding in (None, "deployment", "latest")):
                continue  # the deployment's own process (or no call), checked elsewhere
            _bind(call, key, binding, (library or {}).get(key, ()), local, result)
    return result


def _bind(
    call: etree._Element,
    key: str,
    binding: str | None,
    versions: Sequence[CallableProcess],
    local: set[str],
    result: Binding,
) -> None:
    call_id = call.get("id", "")
    if binding == "deployment":
        result.problems.append(
            problem(
                call,
                f"calledElement '{key}' is not a process of this deployment "
                "(camunda:calledElementBinding 'deployment')",
                code="called_process_missing",
                called=key,
            )
        )
        return
    if not versions:
        result.problems.append(
            problem(
                call,
                f"calledElement '{key}' is not a process of this deployment, nor deployed "
                "in the park",
                code="called_process_missing",
                called=key,
            )
        )
        return
    ordered = sorted(versions, key=lambda v: v.version)
    chosen: CallableProcess | None
    if binding in (None, "latest"):
        chosen = ordered[-1]
        how = "the latest deployed; redeploy to call a newer one"
    elif binding == "version":
        wanted = call.get(camunda("calledElementVersion"), "")
        chosen = next((v for v in ordered if str(v.version) == wanted.strip()), None)
        how = "as camunda:calledElementVersion says"
        if chosen is None:
            known = ", ".join(str(v.version) for v in ordered)
            result.problems.append(
                problem(
                    call,
                    f"call activity '{call_id}' calls '{key}' version '{wanted}', which the "
                    f"park does not have (deployed versions: {known})",
                    code="called_version_missing",
                    called=key,
                    version=wanted,
                    known=known,
                )
            )
            return
    elif binding == "versionTag":
        wanted = call.get(camunda("calledElementVersionTag"), "")
        tagged = [v for v in ordered if v.version_tag == wanted]
        chosen = tagged[-1] if tagged else None
        how = f"the latest with camunda:versionTag '{wanted}'"
        if chosen is None:
            known = ", ".join(sorted({v.version_tag for v in ordered if v.version_tag})) or "none"
            result.problems.append(
                problem(
                    call,
                    f"call activity '{call_id}' calls '{key}' with versionTag '{wanted}', which "
                    f"no deployed version has (version tags: {known})",
                    code="called_tag_missing",
                    called=key,
                    tag=wanted,
                    known=known,
                )
            )
            return
    else:
        result.problems.append(
            problem(
                call,
                f"camunda:calledElementBinding '{binding}' is not supported: use "
                "'deployment', 'latest', 'version' or 'versionTag'",
            )
        )
        return
    if key in local:
        result.problems.append(
            problem(
                call,
                f"call activity '{call_id}' binds '{key}' to a deployed version, but this "
                f"deployment defines '{key}' too: one process id cannot run in two versions",
            )
        )
        return
    earlier = result.bound.get(key)
    if earlier is not None and earlier.version != chosen.version:
        result.problems.append(
            problem(
                call,
                f"call activity '{call_id}' calls '{key}' version {chosen.version}, another "
                f"call activity version {earlier.version}: one process id cannot run in two "
                "versions",
            )
        )
        return
    inside = process_ids(parse_xml(content).getroot() for content in chosen.files)
    looped = sorted(inside & local)
    owner = next(call.iterancestors(bpmn("process")), None)
    owner_id = owner.get("id", "") if owner is not None else ""
    if looped and owner_id not in looped:
        # no cycle through this call, but the called version brings a process of its own
        # under an id this deployment defines: one process id cannot run in two versions
        result.problems.append(
            problem(
                call,
                f"call activity '{call_id}' calls '{key}' version {chosen.version}, which "
                f"calls its own version of '{looped[0]}', a process this deployment defines "
                "too: one process id cannot run in two versions",
            )
        )
        return
    if looped:
        looped = [owner_id]
        chain = " → ".join([key, looped[0]])
        result.problems.append(
            problem(
                call,
                f"call activity '{call_id}' is part of a call cycle across procedures ({chain}): "
                f"'{key}' version {chosen.version} calls '{looped[0]}' in turn; a process must "
                "not call itself, directly or through other call activities",
                code="call_cycle",
                call=call_id,
                chain=chain,
            )
        )
        return
    result.bound[key] = chosen
    result.warnings.append(
        problem(
            call,
            f"call activity '{call_id}' calls '{key}' version {chosen.version}, {how}",
            code="called_version_bound",
            call=call_id,
            called=key,
            version=chosen.version,
        )
    )


def bound_files(roots: Iterable[etree._Element], binding: Binding) -> tuple[bytes, ...]:
    """The library files the calls in ``roots`` need, each once, in order."""
    files: list[bytes] = []
    for root in roots:
        for call in root.iter(bpmn("callActivity")):
            chosen = binding.bound.get(str(call.get("calledElement", "")))
            if chosen is not None:
                files.extend(f for f in _as_run(chosen) if f not in files)
    return tuple(files)


def _as_run(chosen: CallableProcess) -> tuple[bytes, ...]:
    """The called version's files as its own deploy ran them.

    A procedure drawn as one lone unmarked process was deployed to run (``promote_only_process``);
    among the caller's files it is no longer alone, so the mark is written into the copy the
    caller keeps.
    """
    if chosen.called:
        return chosen.files
    root = parse_xml(chosen.bpmn).getroot()
    if promote_only_process([root]) is None:
        return chosen.files
    return (etree.tostring(root.getroottree(), xml_declaration=True, encoding="UTF-8"),)
