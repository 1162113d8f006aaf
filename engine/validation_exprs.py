"""Deploy-time compilation of every expression and script a diagram carries.

SpiffWorkflow parses a diagram without looking at its expressions, so a typo in a gateway
condition would surface only when an application reaches that gateway. Here each one goes
through the same evaluator and sandbox the engine runs them with.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Iterator

from lxml import etree

from .bpmn_doc import SEQUENCE_FLOW, Document, bpmn, camunda, local_name, owner_id, problem
from .copies import cc_problem
from .cron import cron_problem, looks_like_cron
from .errors import ExpressionError, Problem
from .expressions import FUNCTIONS, compile_expression
from .sandbox import check_script
from .timers import CALENDAR_FUNCTIONS
from .validation_structure import CONDITIONAL_GATEWAYS
from .validation_support import SCRIPT_FORMATS
from .worktime import parse_time_value

DURATION_KINDS = frozenset({"duration", "workdays"})
DATE_KINDS = frozenset({"date", "workdays"})
CYCLE_KINDS = frozenset({"cycle"})
DUE_KINDS = frozenset({"duration", "date", "workdays"})
_TIMER_KINDS = {"timeDuration": DURATION_KINDS, "timeDate": DATE_KINDS, "timeCycle": CYCLE_KINDS}
CONDITION_LANGUAGES = frozenset({"", "python", "juel"})
_INTEGER = re.compile(r"\s*[+-]?\d+\s*")
_THROWS = frozenset({bpmn("intermediateThrowEvent"), bpmn("endEvent")})


def expression_problem(text: str) -> str | None:
    """Why ``text`` cannot be evaluated by the engine, or None when it compiles."""
    unclosed = unclosed_placeholder(text)
    if unclosed is not None:
        return unclosed
    try:
        compiled = compile_expression(text)
    except ExpressionError as exc:
        return exc.reason
    unknown = sorted(set(compiled.calls) - set(FUNCTIONS) - CALENDAR_FUNCTIONS)
    if unknown:
        return "unknown function " + ", ".join(f"{name}()" for name in unknown)
    return None


def unclosed_placeholder(text: str) -> str | None:
    """Why a ``${...}`` or ``#{...}`` in ``text`` is not closed, or None when all are."""
    depth, opened = 0, None
    for i, char in enumerate(text):
        if char == "{":
            if depth == 0:
                opened = text[i - 1:i + 1] if i and text[i - 1] in "$#" else None
            depth += 1
        elif char == "}" and depth:
            depth -= 1
    if depth and opened:
        return f"'{opened}' is never closed: the closing '}}' is missing"
    return None


def time_value_problem(text: str, kinds: frozenset[str]) -> str | None:
    """Why ``text`` is neither a literal of one of ``kinds`` nor a valid expression."""
    try:
        literal = parse_time_value(text)
    except ExpressionError as exc:
        return exc.reason
    if literal is None:
        return expression_problem(text)
    if literal.kind not in kinds:
        return f"a {literal.kind} value does not fit here (expected {' or '.join(sorted(kinds))})"
    return None


def check_expressions(doc: Document) -> Iterator[Problem]:
    """Problems of every condition, timer, due date, loop, payload and script of a diagram."""
    yield from _check_conditions(doc)
    yield from _check_timers(doc)
    yield from _check_user_tasks(doc)
    yield from _check_loops(doc)
    yield from _check_messages(doc)
    yield from _check_conditional_events(doc)
    yield from _check_scripts(doc)
    yield from _check_process_properties(doc)
    yield from _check_copies(doc)


def _report(element: etree._Element, what: str, text: str, reason: str | None) -> Iterator[Problem]:
    if reason is not None:
        # a date-time without its offset is the commonest slip in timers: it has its own code
        code = "timer_without_offset" if "needs a UTC offset" in reason else "bad_expression"
        yield problem(element, f"{what} {text.strip()!r}: {reason}", code=code, what=what,
                      text=text.strip(), reason=reason)


def _check_conditions(doc: Document) -> Iterator[Problem]:
    for flow in doc.iter(SEQUENCE_FLOW):
        condition = flow.find(bpmn("conditionExpression"))
        if condition is None:
            continue
        source = doc.by_id.get(flow.get("sourceRef", ""))
        text = condition.text or ""
        language = (condition.get("language") or "").strip().casefold()
        if source is not None and source.tag not in CONDITIONAL_GATEWAYS:
            yield problem(condition, f"a condition on a flow from a {local_name(source)} is not "
                                     "supported: only exclusive and inclusive gateways decide")
        elif source is not None and source.get("default") == flow.get("id"):
            yield problem(condition, "the default flow of a gateway must not have a condition "
                                     "(the engine would ignore it)")
        elif language not in CONDITION_LANGUAGES:
            yield problem(condition, f"condition language '{language}' is not supported")
        elif not text.strip():
            yield problem(condition, "condition is empty")
        else:
            yield from _report(condition, "condition", text, expression_problem(text))


def _check_timers(doc: Document) -> Iterator[Problem]:
    for timer in doc.iter(bpmn("timerEventDefinition")):
        values = [child for child in timer if child.tag in {bpmn(t) for t in _TIMER_KINDS}]
        if not values:
            yield problem(timer, "timer has no timeDuration, timeDate or timeCycle",
                          code="timer_without_time")
        for value in values:
            name, text = local_name(value), value.text or ""
            if not text.strip():
                yield problem(value, f"timer {name} is empty")
            else:
                reason = _timer_problem(name, text)
                yield from _report(value, f"timer {name}", text, reason)


def _timer_problem(name: str, text: str) -> str | None:
    cron = text.strip().strip("'\"").strip()
    if name == "timeCycle" and looks_like_cron(cron):
        return cron_problem(cron)
    return time_value_problem(text, _TIMER_KINDS[name])


def _check_user_tasks(doc: Document) -> Iterator[Problem]:
    for task in doc.iter(bpmn("userTask")):
        for name in ("dueDate", "followUpDate"):
            text = task.get(camunda(name))
            if text is not None:
                reason = time_value_problem(text, DUE_KINDS) if text.strip() else "empty"
                yield from _report(task, f"camunda:{name}", text, reason)
        for name in ("candidateGroups", "candidateUsers", "assignee"):
            text = task.get(camunda(name)) or ""
            if "${" in text or "#{" in text:
                yield from _report(task, f"camunda:{name}", text, _people_problem(text))
        priority = task.get(camunda("priority"))
        if priority is not None and not _INTEGER.fullmatch(priority):
            yield from _report(task, "camunda:priority", priority, expression_problem(priority))


def _people_problem(text: str) -> str | None:
    # an expression stands for the whole value; anything else is a list of literal names
    unclosed = unclosed_placeholder(text)
    if unclosed is not None or not text.strip().startswith(("${", "#{")):
        return unclosed or "an expression must be the whole value, e.g. ${reviewers}"
    return expression_problem(text.strip())


def _check_loops(doc: Document) -> Iterator[Problem]:
    for loop in doc.iter(bpmn("multiInstanceLoopCharacteristics")):
        cardinality = loop.find(bpmn("loopCardinality"))
        collection = loop.get(camunda("collection"))
        if cardinality is None and collection is None:
            yield problem(loop, "multi-instance needs a loopCardinality or a camunda:collection")
        if cardinality is not None and not _INTEGER.fullmatch(cardinality.text or ""):
            text = cardinality.text or ""
            yield from _report(cardinality, "loopCardinality", text, expression_problem(text))
        if collection is not None:
            yield from _report(loop, "camunda:collection", collection,
                               expression_problem(collection))
            if loop.get(camunda("elementVariable")) is None:
                # SpiffWorkflow's Camunda multi-instance fails at run time without it
                yield problem(loop, "camunda:collection needs a camunda:elementVariable "
                                    "naming each instance's item")
        yield from _check_element_variable(loop)
        yield from _check_child_expression(loop, "completionCondition")
    for loop in doc.iter(bpmn("standardLoopCharacteristics")):
        yield from _check_child_expression(loop, "loopCondition")


def _check_element_variable(loop: etree._Element) -> Iterator[Problem]:
    name = loop.get(camunda("elementVariable"))
    if name is not None and (not name.isidentifier() or keyword.iskeyword(name)):
        yield problem(loop, f"camunda:elementVariable '{name}' is not a variable name")


def _check_child_expression(parent: etree._Element, tag: str) -> Iterator[Problem]:
    child = parent.find(bpmn(tag))
    if child is not None:
        text = child.text or ""
        reason = expression_problem(text) if text.strip() else "empty"
        yield from _report(child, tag, text, reason)


def _check_messages(doc: Document) -> Iterator[Problem]:
    for definition in doc.iter(bpmn("messageEventDefinition")):
        payload = definition.get(camunda("expression"))
        if payload is not None:
            yield from _report(definition, "message payload", payload,
                               expression_problem(payload))
        elif definition.getparent().tag in _THROWS:
            # SpiffWorkflow evaluates the payload of every message it throws
            yield problem(definition, "a message throw needs its payload: set camunda:expression "
                                      "to what the message carries")
    for retrieval in doc.iter(bpmn("correlationPropertyRetrievalExpression")):
        for child in retrieval:
            if child.tag in {bpmn("formalExpression"), bpmn("messagePath")}:
                text = child.text or ""
                reason = expression_problem(text) if text.strip() else "empty"
                yield from _report(child, "correlation expression", text, reason)


def _check_conditional_events(doc: Document) -> Iterator[Problem]:
    # SpiffWorkflow evaluates a caught condition when the event is reached and again after
    # every task the instance completes; a throw or end event would ignore it without a word
    for definition in doc.iter(bpmn("conditionalEventDefinition")):
        if definition.getparent().tag in _THROWS:
            yield problem(definition, "a conditional event can only be caught (a start, "
                                      "intermediate catch or boundary event), not thrown")
            continue
        condition = definition.find(bpmn("condition"))
        text = condition.text or "" if condition is not None else ""
        if not text.strip():
            yield problem(definition, "a conditional event needs a condition")
        else:
            yield from _report(condition, "condition", text, expression_problem(text))


def _check_scripts(doc: Document) -> Iterator[Problem]:
    for task in doc.iter(bpmn("scriptTask")):
        if (task.get("scriptFormat") or "").strip().casefold() not in SCRIPT_FORMATS:
            continue  # refused as a whole by the support checks
        script = task.find(bpmn("script"))
        if script is None or not (script.text or "").strip():
            yield problem(task, "script task has no script")
            continue
        for line, message in check_script(script.text):
            # The script's first line starts on the line of the <script> element itself.
            where = script.sourceline + line - 1 if line and script.sourceline else None
            text = f"script line {line}: {message}" if line else f"script: {message}"
            yield Problem(owner_id(task), where if where is not None else task.sourceline, text)


def _check_process_properties(doc: Document) -> Iterator[Problem]:
    path = f"{bpmn('extensionElements')}/{camunda('properties')}/{camunda('property')}"
    for process in doc.iter(bpmn("process")):
        for prop in process.iterfind(path):
            if prop.get("name") == "promisedDuration":
                text = prop.get("value") or ""
                reason = time_value_problem(text, DURATION_KINDS) if text.strip() else "empty"
                yield from _report(prop, "promisedDuration", text, reason)


def _check_copies(doc: Document) -> Iterator[Problem]:
    """A ``cc`` property, on the process or a user task, names groups and people."""
    path = f"{bpmn('extensionElements')}/{camunda('properties')}/{camunda('property')}"
    for element in (*doc.iter(bpmn("process")), *doc.iter(bpmn("userTask"))):
        for prop in element.iterfind(path):
            if prop.get("name") == "cc":
                text = prop.get("value") or ""
                yield from _report(prop, "cc", text, cc_problem(text))
