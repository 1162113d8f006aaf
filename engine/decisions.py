"""DMN decisions as modellers draw them: several per file, required decisions, hit policies.

Parkflow reads DMN itself rather than through SpiffWorkflow's DMN engine, which takes one
decision per file, treats every hit policy but COLLECT as "first match" and has no FEEL. A
business rule task evaluates its ``camunda:decisionRef`` here: the decisions it requires
(``informationRequirement/requiredDecision``) first, their outputs becoming variables of the
decisions that require them, then its own table.

What a task adds to the process data: with a single-result hit policy (UNIQUE, FIRST, ANY,
PRIORITY) each output under its own name, nothing when no rule matches; with COLLECT, RULE
ORDER or OUTPUT ORDER a list of values per output; with a COLLECT aggregation (SUM, COUNT,
MIN, MAX) the aggregated value of the single output.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from lxml import etree

from .errors import EngineError, ExpressionError
from .expressions import Expression, Functions, compile_expression
from .feel import DEFAULT_INPUT_VARIABLE, UnaryTests, compile_unary_tests
from .xmlsafe import parse_xml

CAMUNDA_DMN_NS = "http://camunda.org/schema/1.0/dmn"
SINGLE_HIT = frozenset({"UNIQUE", "FIRST", "ANY", "PRIORITY"})
MULTIPLE_HIT = frozenset({"COLLECT", "RULE ORDER", "OUTPUT ORDER"})
HIT_POLICIES = SINGLE_HIT | MULTIPLE_HIT
AGGREGATIONS = frozenset({"SUM", "COUNT", "MIN", "MAX"})
PRIORITISED = frozenset({"PRIORITY", "OUTPUT ORDER"})


class DecisionFailed(EngineError):
    """A decision could not be taken: a cell failed, or its hit policy was violated."""


@dataclass(frozen=True)
class Column:
    expression: Expression
    variable: str  # the name the input value goes by inside its cells (camunda:inputVariable)


@dataclass(frozen=True)
class Output:
    name: str
    priorities: tuple[Any, ...]  # the output's allowed values, most important first


@dataclass(frozen=True)
class Rule:
    rule_id: str
    tests: tuple[UnaryTests, ...]
    outputs: tuple[Expression | None, ...]


@dataclass(frozen=True)
class Decision:
    decision_id: str
    name: str
    hit_policy: str
    aggregation: str | None
    inputs: tuple[Column, ...]
    outputs: tuple[Output, ...]
    rules: tuple[Rule, ...]
    required: tuple[str, ...]


class DecisionSet:
    """Every decision of some DMN files, by id; built once per parsed process version."""

    def __init__(self, sources: Iterable[bytes | etree._Element]) -> None:
        self.decisions: dict[str, Decision] = {}
        for source in sources:
            root = parse_xml(source, what="DMN").getroot() if isinstance(source, bytes) else source
            ns = f"{{{etree.QName(root).namespace}}}"
            for element in root.iterfind(f"{ns}decision"):
                decision = read_decision(element, ns)
                self.decisions[decision.decision_id] = decision

    def engine(self, decision_id: str) -> DecisionEngine:
        """What a business rule task calls to take ``decision_id``."""
        return DecisionEngine(self, decision_id)

    def evaluate(
        self, decision_id: str, data: Mapping[str, Any], functions: Functions | None = None
    ) -> dict[str, Any]:
        """The outputs of ``decision_id`` over ``data``, its required decisions taken first."""
        return self._evaluate(decision_id, dict(data), functions, ())

    def _evaluate(
        self,
        decision_id: str,
        data: dict[str, Any],
        functions: Functions | None,
        path: tuple[str, ...],
    ) -> dict[str, Any]:
        if decision_id in path:  # refused at deploy; this guards stored older sources
            raise DecisionFailed(f"decision '{decision_id}' requires itself")
        decision = self.decisions.get(decision_id)
        if decision is None:
            raise DecisionFailed(f"no decision '{decision_id}' was deployed")
        scope = dict(data)
        for required in decision.required:
            scope.update(self._evaluate(required, data, functions, (*path, decision_id)))
        return take(decision, scope, functions)


class DecisionEngine:
    """The object SpiffWorkflow's business rule task asks for ``result(task)``."""

    def __init__(self, decisions: DecisionSet, decision_id: str) -> None:
        self.decisions = decisions
        self.decision_id = decision_id

    def result(self, task: Any) -> dict[str, Any]:
        functions = getattr(task.workflow.script_engine.environment, "functions", None)
        return self.decisions.evaluate(self.decision_id, task.data, functions)


# --- reading ----------------------------------------------------------------------------------


def read_decision(element: etree._Element, ns: str) -> Decision:
    """A decision element as a Decision; raises ExpressionError on a cell that cannot compile."""
    table = element.find(f"{ns}decisionTable")
    if table is None:
        raise ExpressionError(element.get("id", ""), "a decision needs a decision table")
    inputs = tuple(
        Column(
            compile_expression((column.findtext(f"{ns}inputExpression/{ns}text") or "").strip()),
            column.get(f"{{{CAMUNDA_DMN_NS}}}inputVariable") or DEFAULT_INPUT_VARIABLE,
        )
        for column in table.iterfind(f"{ns}input")
    )
    outputs = tuple(
        Output(
            str(column.get("name") or column.get("label") or "").strip(),
            _priorities(column.findtext(f"{ns}outputValues/{ns}text")),
        )
        for column in table.iterfind(f"{ns}output")
    )
    rules = tuple(
        Rule(
            rule.get("id", ""),
            tuple(
                compile_unary_tests(entry.findtext(f"{ns}text") or "", column.variable)
                for entry, column in zip(rule.iterfind(f"{ns}inputEntry"), inputs, strict=False)
            ),
            tuple(
                _output_expression(entry.findtext(f"{ns}text"))
                for entry in rule.iterfind(f"{ns}outputEntry")
            ),
        )
        for rule in table.iterfind(f"{ns}rule")
    )
    required = tuple(
        href.lstrip("#")
        for requirement in element.iterfind(f"{ns}informationRequirement/{ns}requiredDecision")
        if (href := requirement.get("href"))
    )
    return Decision(
        decision_id=element.get("id", ""),
        name=element.get("name") or element.get("id", ""),
        hit_policy=(table.get("hitPolicy") or "UNIQUE").upper(),
        aggregation=(table.get("aggregation") or "").upper() or None,
        inputs=inputs,
        outputs=outputs,
        rules=rules,
        required=required,
    )


def _output_expression(text: str | None) -> Expression | None:
    return compile_expression(text.strip()) if text and text.strip() else None


def _priorities(text: str | None) -> tuple[Any, ...]:
    """The values of an ``outputValues`` list (``"high","low"``), most important first."""
    if not text or not text.strip():
        return ()
    value = compile_expression(f"[{text}]").evaluate({})
    return tuple(value)


# --- taking a decision ------------------------------------------------------------------------


def take(
    decision: Decision, scope: Mapping[str, Any], functions: Functions | None = None
) -> dict[str, Any]:
    """Evaluate one decision table over ``scope`` under its hit policy."""
    values = [_input_value(decision, column, scope, functions) for column in decision.inputs]
    matched = [
        rule for rule in decision.rules if _matches(decision, rule, values, scope, functions)
    ]
    results = [(rule, _outputs(decision, rule, scope, functions)) for rule in matched]
    return _apply_hit_policy(decision, results)


def _input_value(
    decision: Decision, column: Column, scope: Mapping[str, Any], functions: Functions | None
) -> Any:
    try:
        return column.expression.evaluate(scope, functions)
    except ExpressionError as exc:
        raise DecisionFailed(
            f"decision '{decision.decision_id}': input '{exc.expression}': {exc.reason}"
        ) from None


def _matches(
    decision: Decision,
    rule: Rule,
    values: list[Any],
    scope: Mapping[str, Any],
    functions: Functions | None,
) -> bool:
    try:
        return all(
            test.matches(value, scope, functions)
            for test, value in zip(rule.tests, values, strict=False)
        )
    except ExpressionError as exc:
        raise DecisionFailed(
            f"decision '{decision.decision_id}', rule '{rule.rule_id}': cell "
            f"'{exc.expression}': {exc.reason}"
        ) from None


def _outputs(
    decision: Decision, rule: Rule, scope: Mapping[str, Any], functions: Functions | None
) -> dict[str, Any]:
    try:
        return {
            output.name: expression.evaluate(scope, functions) if expression else None
            for output, expression in zip(decision.outputs, rule.outputs, strict=False)
        }
    except ExpressionError as exc:
        raise DecisionFailed(
            f"decision '{decision.decision_id}', rule '{rule.rule_id}': output "
            f"'{exc.expression}': {exc.reason}"
        ) from None


def _apply_hit_policy(
    decision: Decision, results: list[tuple[Rule, dict[str, Any]]]
) -> dict[str, Any]:
    policy = decision.hit_policy
    if policy in PRIORITISED:
        results = sorted(results, key=lambda result: _rank(decision, result[1]))
    if policy == "UNIQUE" and len(results) > 1:
        raise DecisionFailed(_violation(decision, results, "more than one rule matches"))
    if policy == "ANY" and any(outputs != results[0][1] for _, outputs in results):
        raise DecisionFailed(_violation(decision, results, "matching rules disagree"))
    if policy in SINGLE_HIT:
        return results[0][1] if results else {}
    if decision.aggregation is not None:
        return _aggregate(decision, [outputs for _, outputs in results])
    return {
        output.name: [outputs[output.name] for _, outputs in results] for output in decision.outputs
    }


def _violation(decision: Decision, results: list[tuple[Rule, dict[str, Any]]], what: str) -> str:
    rules = ", ".join(f"'{rule.rule_id}'" for rule, _ in results)
    return (
        f"decision '{decision.decision_id}' has hit policy {decision.hit_policy} but "
        f"{what}: {rules}"
    )


def _rank(decision: Decision, outputs: Mapping[str, Any]) -> tuple[int, ...]:
    """Position of each output value in its priority list; values not listed come last."""
    ranks = []
    for output in decision.outputs:
        value = outputs.get(output.name)
        ranks.append(
            output.priorities.index(value) if value in output.priorities else len(output.priorities)
        )
    return tuple(ranks)


def _aggregate(decision: Decision, outputs: list[dict[str, Any]]) -> dict[str, Any]:
    name = decision.outputs[0].name
    values = [each[name] for each in outputs if each.get(name) is not None]
    aggregation = decision.aggregation
    if aggregation == "COUNT":
        return {name: len(values)}
    if not values:
        return {name: None}
    try:
        if aggregation == "SUM":
            return {name: sum(values)}
        return {name: min(values) if aggregation == "MIN" else max(values)}
    except TypeError as exc:
        raise DecisionFailed(
            f"decision '{decision.decision_id}': {aggregation} of {values!r}: {exc}"
        ) from None


__all__ = [
    "AGGREGATIONS",
    "HIT_POLICIES",
    "PRIORITISED",
    "Decision",
    "DecisionEngine",
    "DecisionFailed",
    "DecisionSet",
    "read_decision",
    "take",
]
