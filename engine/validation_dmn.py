"""Deploy-time checks of decisions (DMN) and forms (JSON Schema).

Decisions run on :mod:`engine.decisions`: several per file, required decisions, FEEL unary
tests in input cells, the hit policies of DMN 1.3. What it cannot take (literal-expression
decisions, business knowledge models, a hit policy or aggregation it lacks, a cell that does
not compile) is refused here, with the rule's id and the cell's line for a cell.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree

from .bpmn_doc import Deployment, Document, bpmn, camunda, owner_id, problem
from .decisions import AGGREGATIONS, HIT_POLICIES, PRIORITISED
from .errors import ExpressionError, Problem
from .feel import DEFAULT_INPUT_VARIABLE, compile_unary_tests
from .formdata import form_data_of
from .validation_exprs import expression_problem
from .validation_schema import DMN_NAMESPACES

CAMUNDA_DMN_NS = "http://camunda.org/schema/1.0/dmn"
ALLOWED_DMN_ATTRIBUTES = frozenset({"versionTag", "historyTimeToLive", "inputVariable"})
EXPRESSION_LANGUAGES = frozenset({"feel", "juel", "python"})


def check_forms(forms: Mapping[str, Any]) -> Iterator[Problem]:
    """Every form must be a JSON Schema (draft 2020-12) of an object."""
    for key, schema in forms.items():
        if not isinstance(schema, Mapping):
            yield Problem(key, None, "form is not a JSON Schema object")
            continue
        try:
            Draft202012Validator.check_schema(schema)
        except SchemaError as exc:
            where = "/".join(str(part) for part in exc.path) or "top level"
            yield Problem(key, None, f"form is not a valid JSON Schema at {where}: {exc.message}")
        if schema.get("type") != "object":
            yield Problem(key, None, 'form must have "type": "object" at the top level')


def check_form_keys(doc: Document, forms: Mapping[str, Any]) -> Iterator[Problem]:
    """Every camunda:formKey must name a form of the deployment."""
    for element in doc.elements():
        key = element.get(camunda("formKey"))
        if form_data_of(element) is not None:
            continue  # the drawn form is the one shown (a warning says so)
        if key is not None and key.strip() not in forms:
            yield problem(element, f"formKey '{key}' has no form", code="missing_form", key=key)


def check_decision_refs(doc: Document, deploy: Deployment) -> Iterator[Problem]:
    """Every business rule task must call a decision deployed with it."""
    for task in doc.iter(bpmn("businessRuleTask")):
        ref = task.get(camunda("decisionRef"))
        if not ref:
            yield problem(task, "business rule task has no camunda:decisionRef")
        elif ref not in deploy.decisions:
            yield problem(task, f"decisionRef '{ref}' has no DMN")


def check_dmn(doc: Document, deploy: Deployment) -> Iterator[Problem]:
    """Decision tables the engine can take, requirements that resolve, cells that compile."""
    ns = etree.QName(doc.root).namespace
    if ns not in DMN_NAMESPACES:
        return  # not DMN at all; the schema check says so
    decisions = list(doc.root.iterfind(f"{{{ns}}}decision"))
    if not decisions:
        yield problem(doc.root, "a DMN file must hold at least one decision")
    for element in doc.root.iterfind(f"{{{ns}}}businessKnowledgeModel"):
        yield problem(element, "business knowledge models are not supported: "
                               "write the logic as a decision table")
    for decision in decisions:
        yield from _check_decision(decision, f"{{{ns}}}", deploy)
    yield from _check_camunda_dmn_attributes(doc)


def _check_decision(decision: etree._Element, ns: str, deploy: Deployment) -> Iterator[Problem]:
    tables = decision.findall(f"{ns}decisionTable")
    if len(tables) != 1:
        yield problem(decision, "a decision must consist of exactly one decision table "
                                "(literal expressions and other kinds are not supported)")
    for requirement in decision.iterfind(f"{ns}informationRequirement/{ns}requiredDecision"):
        href = requirement.get("href") or ""
        if not href.startswith("#") or href[1:] not in deploy.decisions:
            yield problem(decision, f"required decision '{href}' is not deployed "
                                    f"(write href=\"#decision_id\" of a deployed decision)")
    if decision.find(f"{ns}knowledgeRequirement") is not None:
        yield problem(decision, "knowledge requirements are not supported")
    cycle = _requirement_cycle(decision.get("id", ""), deploy)
    if cycle:
        yield problem(decision, f"decisions require each other in a cycle: {' -> '.join(cycle)}")
    for table in tables:
        yield from _check_table(table, ns)


def _required(decision: etree._Element) -> list[str]:
    return [str(href).lstrip("#") for href in decision.xpath(
        "*[local-name()='informationRequirement']/*[local-name()='requiredDecision']/@href")]


def _requirement_cycle(start: str, deploy: Deployment) -> list[str]:
    """The first requirement path from ``start`` back to itself, or []."""
    stack = [(start, [start])]
    seen: set[str] = set()
    while stack:
        current, path = stack.pop()
        element = deploy.decisions.get(current)
        for required in _required(element) if element is not None else []:
            if required == start:
                return [*path, start]
            if required not in seen:
                seen.add(required)
                stack.append((required, [*path, required]))
    return []


def _check_table(table: etree._Element, ns: str) -> Iterator[Problem]:
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    outputs = list(table.iterfind(f"{ns}output"))
    if policy not in HIT_POLICIES:
        yield problem(table, f"hit policy {policy} is not supported "
                             f"(use {', '.join(sorted(HIT_POLICIES))})")
    yield from _check_aggregation(table, policy, len(outputs))
    if policy in PRIORITISED and not any(o.find(f"{ns}outputValues") is not None for o in outputs):
        yield problem(table, f"hit policy {policy} needs the outputs' values in priority order "
                             "(output values)")
    for element in table.iterfind(f"{ns}input"):
        yield from _check_input(element, ns)
    for output in outputs:
        yield from _check_output(output, ns)
    variables = [column.get(f"{{{CAMUNDA_DMN_NS}}}inputVariable") or DEFAULT_INPUT_VARIABLE
                 for column in table.iterfind(f"{ns}input")]
    for rule in table.iterfind(f"{ns}rule"):
        yield from _check_rule(rule, ns, variables)


def _check_aggregation(table: etree._Element, policy: str, outputs: int) -> Iterator[Problem]:
    aggregation = (table.get("aggregation") or "").upper()
    if not aggregation:
        return
    if policy != "COLLECT":
        yield problem(table, f"an aggregation belongs to hit policy COLLECT, not {policy}")
    elif aggregation not in AGGREGATIONS:
        yield problem(table, f"aggregation {aggregation} is not supported "
                             f"(use {', '.join(sorted(AGGREGATIONS))})")
    elif outputs != 1:
        yield problem(table, f"COLLECT {aggregation} needs exactly one output, not {outputs}")


def _check_input(element: etree._Element, ns: str) -> Iterator[Problem]:
    expression = element.find(f"{ns}inputExpression")
    text = (element.findtext(f"{ns}inputExpression/{ns}text") or "").strip()
    if not text:
        yield problem(element, "a decision input needs an input expression")
        return
    language = (expression.get("expressionLanguage") or "feel") if expression is not None else ""
    if language.lower() not in EXPRESSION_LANGUAGES:
        yield problem(element, f"input expression language '{language}' is not supported "
                               "(write a FEEL or JUEL expression)")
    yield from _report(element, "input expression", text, expression_problem(text))


def _check_output(output: etree._Element, ns: str) -> Iterator[Problem]:
    if not (output.get("name") or output.get("label") or "").strip():
        yield problem(output, "a decision output needs a name")
    values = (output.findtext(f"{ns}outputValues/{ns}text") or "").strip()
    if values:
        yield from _report(output, "output values", values, expression_problem(f"[{values}]"))


def _check_rule(rule: etree._Element, ns: str, variables: list[str]) -> Iterator[Problem]:
    entries = list(rule.iterfind(f"{ns}inputEntry"))
    if len(entries) != len(variables):
        yield problem(rule, f"a rule needs one input entry per input ({len(variables)}), "
                            f"not {len(entries)}")
    for entry, variable in zip(entries, variables, strict=False):
        text = (entry.findtext(f"{ns}text") or "").strip()
        yield from _report_rule(rule, entry, text, cell_problem(text, variable))
    for entry in rule.iterfind(f"{ns}outputEntry"):
        text = (entry.findtext(f"{ns}text") or "").strip()
        if text:
            yield from _report_rule(rule, entry, text, expression_problem(text))


def cell_problem(cell: str, input_variable: str = DEFAULT_INPUT_VARIABLE) -> str | None:
    """Why an input cell cannot be evaluated, or None."""
    try:
        compile_unary_tests(cell, input_variable)
    except ExpressionError as exc:
        return exc.reason
    return None


def _report(element: etree._Element, what: str, text: str, reason: str | None) -> Iterator[Problem]:
    if reason is not None:
        yield problem(element, f"{what} {text!r}: {reason}")


def _report_rule(
    rule: etree._Element, entry: etree._Element, text: str, reason: str | None
) -> Iterator[Problem]:
    if reason is not None:
        yield Problem(owner_id(rule), entry.sourceline, f"cell {text!r}: {reason}")


def _check_camunda_dmn_attributes(doc: Document) -> Iterator[Problem]:
    for element in doc.root.iter(etree.Element):
        for name in element.attrib:
            qname = etree.QName(name)
            local = str(qname.localname)
            if qname.namespace == CAMUNDA_DMN_NS and local not in ALLOWED_DMN_ATTRIBUTES:
                yield problem(element, f"camunda:{local} is not supported")
