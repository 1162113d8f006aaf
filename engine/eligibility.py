"""A policy's eligibility (免申即享): a DMN decision over an enterprise's facts.

A park writes who a policy is for as a decision table, the way its procedures take decisions
(:mod:`engine.decisions`: FEEL unary tests in the cells, Python expressions as inputs, the
hit policies of DMN 1.3). The table reads the enterprise's facts as variables (``industry``,
``size``, ``rd_spend``, ``certifications``, ``tags`` ...) and must have an output named
``eligible``: an enterprise matches when the decision gives ``eligible`` true. Its other
outputs (an amount, a policy item) are what the prefilled application carries besides the
facts. A single-result hit policy is required (UNIQUE, FIRST, ANY, PRIORITY): a policy either
applies to an enterprise or not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from .bpmn_doc import Deployment, Document
from .decisions import SINGLE_HIT, DecisionFailed, DecisionSet, read_decision
from .errors import EngineError, InvalidProcess, Problem
from .validation_dmn import check_dmn
from .validation_schema import check_dmn_schema
from .xmlsafe import parse_xml

ELIGIBLE = "eligible"
FILENAME = "eligibility.dmn"


@dataclass(frozen=True)
class Judgement:
    """What a policy's table says of one enterprise."""

    eligible: bool
    outputs: dict[str, Any] = field(default_factory=dict)
    # why it could not be judged (a cell failing on these facts); never eligible then
    error: str | None = None


@dataclass(frozen=True)
class Eligibility:
    """A checked eligibility table, ready to judge enterprises."""

    decision_id: str
    decisions: DecisionSet

    def judge(self, facts: Mapping[str, Any]) -> Judgement:
        """Whether the enterprise with ``facts`` is eligible, and the table's other outputs."""
        try:
            outputs = self.decisions.evaluate(self.decision_id, facts)
        except (DecisionFailed, EngineError) as failed:
            return Judgement(eligible=False, error=str(failed))
        others = {name: value for name, value in outputs.items() if name != ELIGIBLE}
        return Judgement(eligible=outputs.get(ELIGIBLE) is True, outputs=others)


def read_eligibility(content: bytes, decision_id: str | None = None) -> Eligibility:
    """The eligibility table in ``content`` (its decision ``decision_id``, or its only one).

    Raises InvalidProcess with every problem when the file cannot serve as one.
    """
    doc = Document(FILENAME, parse_xml(content, what="DMN"))
    problems = check_dmn_schema(doc)
    if not problems:
        problems = list(check_dmn(doc, Deployment([], [doc], {})))
    if problems:
        raise InvalidProcess(problems)
    root = doc.root
    ns = f"{{{etree.QName(root).namespace}}}"
    decisions = {d.get("id", ""): d for d in root.iterfind(f"{ns}decision")}
    chosen = _chosen(decisions, decision_id)
    decision = read_decision(decisions[chosen], ns)
    if decision.hit_policy not in SINGLE_HIT:
        raise InvalidProcess([_problem(chosen, (
            f"hit policy {decision.hit_policy} gives several results: an eligibility table "
            "needs one of UNIQUE, FIRST, ANY, PRIORITY"))])
    if ELIGIBLE not in {output.name for output in decision.outputs}:
        raise InvalidProcess([_problem(chosen, (
            f"the decision has no output named '{ELIGIBLE}': it says true for the enterprises "
            "the policy is for"))])
    return Eligibility(chosen, DecisionSet([root]))


def _chosen(decisions: Mapping[str, etree._Element], decision_id: str | None) -> str:
    if decision_id:
        if decision_id not in decisions:
            known = ", ".join(sorted(decisions)) or "none"
            raise InvalidProcess([_problem(decision_id, (
                f"no decision '{decision_id}' in the file (it has: {known})"))])
        return decision_id
    if len(decisions) != 1:
        raise InvalidProcess([_problem(FILENAME, (
            f"the file has {len(decisions)} decisions: name the one that decides eligibility"))])
    return next(iter(decisions))


def _problem(element_id: str, message: str) -> Problem:
    return Problem(element_id, None, message)
