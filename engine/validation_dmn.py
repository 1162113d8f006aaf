"""Deploy-time checks of decisions (DMN) and forms (JSON Schema).

SpiffWorkflow evaluates DMN cells as expressions, not FEEL, and reads one decision table per
file. FEEL lists and ranges therefore never match or fail at run time; they are refused here
with the rule's id. Cells are checked the way the engine will build them from the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError
from lxml import etree

from .bpmn_doc import Deployment, Document, bpmn, camunda, owner_id, problem
from .errors import Problem
from .validation_exprs import expression_problem
from .validation_schema import DMN_NAMESPACES

CAMUNDA_DMN_NS = "http://camunda.org/schema/1.0/dmn"
ALLOWED_DMN_ATTRIBUTES = frozenset({"versionTag", "historyTimeToLive"})
SUPPORTED_HIT_POLICIES = frozenset({"UNIQUE", "FIRST", "ANY", "COLLECT"})
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|'(?:[^'\\]|\\.)*'")
_QUESTION = re.compile(r"\?")
_KEYWORD_START = re.compile(r"(not\s+in|in|is|and|or)\b")
# Replaces the ``?`` placeholder the way the engine does before evaluating a cell.
INPUT_NAME = "dmninputexpr"


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
        if key is not None and key.strip() not in forms:
            yield problem(element, f"formKey '{key}' has no form")


def check_decision_refs(doc: Document, deploy: Deployment) -> Iterator[Problem]:
    """Every business rule task must call a decision deployed with it."""
    for task in doc.iter(bpmn("businessRuleTask")):
        ref = task.get(camunda("decisionRef"))
        if not ref:
            yield problem(task, "business rule task has no camunda:decisionRef")
        elif ref not in deploy.decisions:
            yield problem(task, f"decisionRef '{ref}' has no DMN")


def check_dmn(doc: Document) -> Iterator[Problem]:
    """One decision with one decision table per file, and cells the engine can evaluate."""
    ns = etree.QName(doc.root).namespace
    if ns not in DMN_NAMESPACES:
        return  # not DMN at all; the schema check says so
    decisions = list(doc.root.iter(f"{{{ns}}}decision"))
    if len(decisions) != 1:
        yield problem(doc.root, f"a DMN file must hold exactly one decision, not {len(decisions)}")
    for decision in decisions:
        tables = decision.findall(f"{{{ns}}}decisionTable")
        if len(tables) != 1:
            yield problem(decision, "a decision must consist of exactly one decision table")
        for table in tables:
            yield from _check_table(table, f"{{{ns}}}")
    yield from _check_camunda_dmn_attributes(doc)


def _check_table(table: etree._Element, ns: str) -> Iterator[Problem]:
    policy = (table.get("hitPolicy") or "UNIQUE").upper()
    if policy not in SUPPORTED_HIT_POLICIES:
        yield problem(table, f"hit policy {policy} is not supported "
                             f"(use {', '.join(sorted(SUPPORTED_HIT_POLICIES))})")
    if policy == "COLLECT" and table.get("aggregation"):
        yield problem(table, "COLLECT with an aggregation is not supported: it returns a list")
    inputs = [_input_expression(element, ns) for element in table.iterfind(f"{ns}input")]
    for element, text in zip(table.iterfind(f"{ns}input"), inputs, strict=True):
        if text is None:
            yield problem(element, "a decision input needs an input expression")
        else:
            yield from _report(element, "input expression", text, expression_problem(text))
    for output in table.iterfind(f"{ns}output"):
        if not (output.get("name") or output.get("label") or "").strip():
            yield problem(output, "a decision output needs a name")
    for rule in table.iterfind(f"{ns}rule"):
        yield from _check_rule(rule, inputs, ns)


def _input_expression(element: etree._Element, ns: str) -> str | None:
    text = element.findtext(f"{ns}inputExpression/{ns}text")
    return text.strip() if text and text.strip() else None


def _check_rule(rule: etree._Element, inputs: list[str | None], ns: str) -> Iterator[Problem]:
    for entry, input_text in zip(rule.iterfind(f"{ns}inputEntry"), inputs, strict=False):
        text = (entry.findtext(f"{ns}text") or "").strip()
        if text and text != "-" and input_text is not None:
            reason = feel_problem(text) or input_cell_problem(input_text, text)
            yield from _report_rule(rule, entry, text, reason)
    for entry in rule.iterfind(f"{ns}outputEntry"):
        text = (entry.findtext(f"{ns}text") or "").strip()
        if text:
            reason = feel_problem(text, output=True) or expression_problem(text)
            yield from _report_rule(rule, entry, text, reason)


def feel_problem(cell: str, *, output: bool = False) -> str | None:
    """Why a cell written in FEEL would silently misbehave, or None."""
    bare = _STRING.sub('""', cell).strip()
    if ".." in bare:
        return "FEEL ranges like [1..5] are not supported: write 1 <= ? <= 5"
    if _top_level_comma(bare):
        if output:
            return 'FEEL lists are not supported: write a list as ["A", "B"]'
        return 'FEEL lists like "A","B" are not supported: write ? in ("A", "B")'
    if output:
        return None
    if re.match(r"not\s*\(", bare):
        return "FEEL not(...) is not supported: write ? != ... or ? not in (...)"
    if _KEYWORD_START.match(bare) and "?" not in bare:
        return f"write the input as ?, as in '? {cell}'"
    return None


def _top_level_comma(text: str) -> bool:
    depth = 0
    for char in text:
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            return True
    return False


def input_cell_problem(input_text: str, cell: str) -> str | None:
    """Build the expression the engine evaluates for a cell, and say why it fails, if it does."""
    if _has_placeholder(cell):
        built = _replace_placeholder(cell)
    elif expression_problem(cell) is None:
        # A value on its own is compared with ==; otherwise the engine glues the cell (an
        # operator and an operand, like ">= 1000") to the input expression.
        built = f"({input_text}) == ({cell})"
    else:
        built = input_text + cell
    reason = expression_problem(built)
    return f"{reason} in {built!r}" if reason is not None else None


def _has_placeholder(cell: str) -> bool:
    return "?" in _STRING.sub('""', cell)


def _replace_placeholder(cell: str) -> str:
    parts, last = [], 0
    for match in _STRING.finditer(cell):
        parts.append(_QUESTION.sub(INPUT_NAME, cell[last:match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append(_QUESTION.sub(INPUT_NAME, cell[last:]))
    return "".join(parts)


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
                hint = ": cells refer to the input as ?" if local == "inputVariable" else ""
                yield problem(element, f"camunda:{local} is not supported{hint}")
