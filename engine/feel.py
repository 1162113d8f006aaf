"""FEEL unary tests, the language of DMN input cells, compiled onto the allow-list evaluator.

Camunda Modeler writes cells in FEEL: ``"a","b"`` (any of), ``[1..5]`` and ``(1..5]`` (ranges),
``< 10`` (comparisons), ``not(...)`` (none of) and ``-`` (anything). Endpoints, operands and
list items are expressions, compiled by :mod:`engine.expressions`, so a cell can do no more than
any other Parkflow expression and nothing reaches ``eval``.

Parkflow's earlier Python cells keep their meaning: a cell that mentions ``?`` is a boolean
expression in which ``?`` is the input value (``1 <= ? <= 5``, ``? in ("A", "B")``), and
``in (...)`` tests membership. The input value is also available under the input's
``camunda:inputVariable`` (``cellInput`` unless it says otherwise).
"""

from __future__ import annotations

import functools
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from .errors import ExpressionError
from .expressions import Expression, Functions, compile_expression

INPUT_NAME = "dmninputexpr"  # what ``?`` becomes; no diagram names a variable so
DEFAULT_INPUT_VARIABLE = "cellInput"  # Camunda's name for the input value inside a cell
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"?|'(?:[^'\\]|\\.)*'?")
_RANGE_OPEN, _RANGE_CLOSE = "[(]", "[])"
_COMPARISONS: tuple[tuple[str, Callable[[Any, Any], bool]], ...] = (
    ("<=", operator.le),
    (">=", operator.ge),
    ("!=", operator.ne),
    ("==", operator.eq),
    ("<", operator.lt),
    (">", operator.gt),
    ("=", operator.eq),
)
_MEMBERSHIP = re.compile(r"(not\s+)?in\b")

# value, variables (with the input bound), functions -> does the cell accept the value
_Test = Callable[[Any, Mapping[str, Any], Functions | None], bool]


@dataclass(frozen=True)
class UnaryTests:
    """A compiled input cell."""

    source: str
    input_variable: str
    _test: _Test

    def matches(
        self, value: Any, variables: Mapping[str, Any], functions: Functions | None = None
    ) -> bool:
        """Whether the cell accepts ``value``; raises ExpressionError naming the cell."""
        scope = {**variables, self.input_variable: value, INPUT_NAME: value}
        try:
            return self._test(value, scope, functions)
        except ExpressionError as exc:
            raise ExpressionError(self.source, exc.reason) from None
        except TypeError as exc:  # comparing a number with a text, say
            raise ExpressionError(self.source, str(exc)) from None


@functools.lru_cache(maxsize=4096)
def compile_unary_tests(source: str, input_variable: str = DEFAULT_INPUT_VARIABLE) -> UnaryTests:
    """Compile a cell; raises ExpressionError(source, reason) when it cannot be evaluated."""
    text = source.strip()
    try:
        test = _compile(text, input_variable) if text not in ("", "-") else _anything
    except ExpressionError as exc:
        raise ExpressionError(source, exc.reason) from None
    return UnaryTests(source, input_variable, test)


def replace_placeholder(cell: str) -> str:
    """The cell with every ``?`` outside string literals replaced by :data:`INPUT_NAME`."""
    parts, last = [], 0
    for match in _STRING.finditer(cell):
        parts.append(cell[last : match.start()].replace("?", INPUT_NAME))
        parts.append(match.group(0))
        last = match.end()
    parts.append(cell[last:].replace("?", INPUT_NAME))
    return "".join(parts)


def _anything(value: Any, scope: Mapping[str, Any], functions: Functions | None) -> bool:
    return True


def _masked(text: str) -> str:
    """``text`` with string literals blanked to the same length, for finding structure."""
    return _STRING.sub(lambda m: '"' + "_" * (len(m.group(0)) - 1), text)


def _compile(text: str, input_variable: str) -> _Test:
    masked = _masked(text)
    whole = _mentioning_input(replace_placeholder(text), input_variable)
    if whole is not None:
        return _boolean(whole)
    negated = re.match(r"not\s*\(", masked)
    if negated and _closing(masked, negated.end() - 1) == len(masked) - 1:
        inner = _compile(text[negated.end() : -1].strip(), input_variable)
        return lambda v, s, f: not inner(v, s, f)
    items = [_compile_item(item.strip(), input_variable) for item in _split(text, masked)]
    if len(items) == 1:
        return items[0]
    return lambda v, s, f: any(item(v, s, f) for item in items)


def _mentioning_input(text: str, input_variable: str) -> Expression | None:
    """The cell as one expression when it reads the input (``?``, ``cellInput``): a test."""
    try:
        expression = compile_expression(text)
    except ExpressionError:
        if INPUT_NAME in text:
            raise
        return None
    return expression if expression.names & {INPUT_NAME, input_variable} else None


def _boolean(expression: Expression) -> _Test:
    return lambda v, s, f: bool(expression.evaluate(s, f))


def _closing(masked: str, start: int) -> int:
    depth = 0
    for index in range(start, len(masked)):
        depth += (masked[index] in "([{") - (masked[index] in ")]}")
        if depth == 0:
            return index
    return -1


def _split(text: str, masked: str) -> list[str]:
    """The comma-separated items of a cell, ignoring commas inside brackets and strings."""
    items, depth, start = [], 0, 0
    for index, char in enumerate(masked):
        depth += (char in "([{") - (char in ")]}")
        if char == "," and depth <= 0:
            items.append(text[start:index])
            start = index + 1
    items.append(text[start:])
    if any(not item.strip() for item in items):
        raise ExpressionError(text, "an item of this list is empty")
    return items


def _compile_item(item: str, input_variable: str) -> _Test:
    masked = _masked(item)
    if masked[0] in _RANGE_OPEN and masked[-1] in _RANGE_CLOSE and ".." in masked:
        return _range(item, masked)
    for symbol, compare in _COMPARISONS:
        if masked.startswith(symbol):
            return _comparison(compare, compile_expression(item[len(symbol) :].strip()))
    membership = _MEMBERSHIP.match(masked)
    if membership:
        collection = compile_expression(item[membership.end() :].strip())
        negate = membership.group(1) is not None
        return lambda v, s, f: (v in collection.evaluate(s, f)) != negate
    mentioning = _mentioning_input(item, input_variable)
    return _boolean(mentioning) if mentioning is not None else _equals(compile_expression(item))


def _comparison(compare: Callable[[Any, Any], bool], operand: Expression) -> _Test:
    ordering = compare not in (operator.eq, operator.ne)

    def test(value: Any, scope: Mapping[str, Any], functions: Functions | None) -> bool:
        other = operand.evaluate(scope, functions)
        if ordering and (value is None or other is None):
            return False  # FEEL: null is neither less nor greater than anything
        return bool(compare(value, other))

    return test


def _range(item: str, masked: str) -> _Test:
    """``[a..b]``, ``(a..b]``, ``]a..b[`` and so on: brackets facing in include the end."""
    middle = masked.index("..")
    low = compile_expression(item[1:middle].strip())
    high = compile_expression(item[middle + 2 : -1].strip())
    above = operator.ge if item[0] == "[" else operator.gt
    below = operator.le if item[-1] == "]" else operator.lt

    def test(value: Any, scope: Mapping[str, Any], functions: Functions | None) -> bool:
        if value is None:
            return False
        return bool(
            above(value, low.evaluate(scope, functions))
            and below(value, high.evaluate(scope, functions))
        )

    return test


def _equals(expression: Expression) -> _Test:
    def test(value: Any, scope: Mapping[str, Any], functions: Functions | None) -> bool:
        expected = expression.evaluate(scope, functions)
        # FEEL: a cell whose value is a list accepts any of its items
        if isinstance(expected, list | tuple | set) and not isinstance(value, list | tuple | set):
            return value in expected
        return bool(value == expected)

    return test


__all__ = [
    "DEFAULT_INPUT_VARIABLE",
    "INPUT_NAME",
    "UnaryTests",
    "compile_unary_tests",
    "replace_placeholder",
]
