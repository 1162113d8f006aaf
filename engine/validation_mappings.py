"""Deploy-time checks of variable mappings and listeners (see ``mappings``, ``listeners``).

What Parkflow runs of them is checked as it will run; what it cannot run (Java classes and
delegates, JavaScript or Groovy, external script resources, listener events it has no moment
for) is refused with the reason, at the element that carries it.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from .bpmn_doc import ACTIVITIES, Document, bpmn, camunda, local_name, problem
from .errors import Problem
from .listeners import ENDING, SET_VARIABLE, STARTING
from .mappings import placeholders
from .sandbox import check_script
from .validation_exprs import expression_problem, unclosed_placeholder
from .validation_support import MAPPED_EXTENSIONS, SCRIPT_FORMATS

_JAVA = "Parkflow runs no Java code: use a Python camunda:script or an expression"
_EVENTS = {
    "executionListener": {STARTING["executionListener"], ENDING["executionListener"]},
    "taskListener": {STARTING["taskListener"], ENDING["taskListener"]},
}


def check_mappings(doc: Document) -> Iterator[Problem]:
    """Every mapping and listener of a document that Parkflow cannot run as drawn."""
    for extensions in doc.iter(bpmn("extensionElements")):
        owner = extensions.getparent()
        for child in extensions.iterchildren(*MAPPED_EXTENSIONS):
            kind = str(etree.QName(child).localname)
            if kind == "inputOutput":
                yield from _check_input_output(child, owner)
            elif kind in {"in", "out"}:
                yield from _check_call_mapping(child, owner, kind)
            else:
                yield from _check_listener(child, owner, kind)


def _check_input_output(element: etree._Element, owner: etree._Element) -> Iterator[Problem]:
    if owner.tag not in ACTIVITIES:
        yield problem(
            element,
            f"camunda:inputOutput is not supported on a {local_name(owner)}: "
            "map variables on a task, subprocess or call activity",
        )
        return
    for parameter in element.iterchildren(etree.Element):
        kind = etree.QName(parameter).localname
        if kind not in {"inputParameter", "outputParameter"}:
            yield problem(parameter, f"camunda:{kind} is not supported in camunda:inputOutput")
        elif not (parameter.get("name") or "").strip():
            yield problem(parameter, f"camunda:{kind} needs a name")
        elif len(parameter):
            yield problem(
                parameter,
                f"camunda:{kind} '{parameter.get('name')}': only a text "
                "or ${...} value is supported (no camunda:list, "
                "camunda:map or camunda:script)",
            )
        else:
            yield from _check_value(
                parameter, f"camunda:{kind} '{parameter.get('name')}'", parameter.text or ""
            )


def _check_value(element: etree._Element, what: str, text: str) -> Iterator[Problem]:
    reason = unclosed_placeholder(text)
    for start, end in placeholders(text) if reason is None else ():
        reason = expression_problem(text[start:end])
        if reason:
            break
    if reason:
        yield problem(element, f"{what}: {reason}")


def _check_call_mapping(
    element: etree._Element, owner: etree._Element, kind: str
) -> Iterator[Problem]:
    name = f"camunda:{kind}"
    if owner.tag != bpmn("callActivity"):
        yield problem(element, f"{name} is supported on call activities only")
    elif element.get("local") == "true":
        yield problem(
            element,
            f'{name} local="true" is not supported: a call activity has '
            "no local variables of its own to pass",
        )
    elif element.get("businessKey") is not None and kind == "in":
        return  # the called process belongs to the caller's application: same business key
    elif element.get("variables") == "all":
        return
    elif not (element.get("target") or "").strip():
        yield problem(element, f'{name} needs a target (or variables="all")')
    elif element.get("sourceExpression") is not None:
        yield from _check_value(
            element, f"{name} sourceExpression", element.get("sourceExpression") or ""
        )
    elif not (element.get("source") or "").strip():
        yield problem(element, f"{name} needs a source or a sourceExpression")


def _check_listener(element: etree._Element, owner: etree._Element, kind: str) -> Iterator[Problem]:
    name = f"camunda:{kind}"
    event = element.get("event") or ""
    if kind == "taskListener" and owner.tag != bpmn("userTask"):
        yield problem(element, f"{name} is supported on user tasks only")
    elif owner.tag not in ACTIVITIES:
        yield problem(
            element,
            f"{name} is supported on tasks, subprocesses and call activities "
            f"only, not on a {local_name(owner)}",
        )
    elif event not in _EVENTS[kind]:
        known = " or ".join(sorted(_EVENTS[kind]))
        yield problem(element, f"{name} event '{event}' is not supported: use {known}")
    elif element.get("class") is not None or element.get("delegateExpression") is not None:
        yield problem(element, f"{name} with a Java class or delegate: {_JAVA}")
    elif element.find(camunda("script")) is not None:
        yield from _check_listener_script(element.find(camunda("script")), name)
    elif element.get("expression") is not None:
        yield from _check_listener_expression(element, name)
    else:
        yield problem(
            element, f"{name} has nothing to run: give it a camunda:script or an expression"
        )


def _check_listener_script(script: etree._Element, name: str) -> Iterator[Problem]:
    script_format = (script.get("scriptFormat") or "").strip()
    if script_format.casefold() not in SCRIPT_FORMATS:
        yield problem(
            script, f"{name} scriptFormat '{script_format}' is not supported: scripts are Python"
        )
    elif script.get("resource") is not None:
        yield problem(
            script, f"{name} script resources are not supported: write the script in the diagram"
        )
    elif not (script.text or "").strip():
        yield problem(script, f"{name} has an empty script")
    else:
        for line, message in check_script(script.text or ""):
            where = script.sourceline + line - 1 if line and script.sourceline else None
            yield problem(script, f"{name} script line {line}: {message}", where)


def _check_listener_expression(element: etree._Element, name: str) -> Iterator[Problem]:
    text = element.get("expression") or ""
    match = SET_VARIABLE.fullmatch(text)
    if match is None:
        yield problem(
            element,
            f"{name} expression '{text}' is not supported: a listener "
            "expression sets a variable, "
            '${execution.setVariable("name", value)}',
        )
    else:
        yield from _check_value(element, f"{name} expression", "${" + match["value"] + "}")
