"""The allow-list evaluator: JUEL and Python forms, forbidden constructs, limits, functions."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import pytest
import time_machine

from engine.errors import ExpressionError
from engine.expressions import FUNCTIONS, Expression, compile_expression, evaluate

VARIABLES: dict[str, Any] = {
    "approved": True, "urgent": False, "amount": 150_000, "level": 2, "name": "Acme Ltd",
    "note": "", "nothing": None, "items": [3, 1, 2], "empty_list": [], "tags": {"a": 1},
    "size": "B", "rate": 0.5, "region": "pudong",
}

# (JUEL/Camunda form, Python form, expected value over VARIABLES)
EQUIVALENT = [
    ("${approved && amount > 1000}", "approved and amount > 1000", True),
    ("${amount > 100000 && !urgent}", "amount > 100000 and not urgent", True),
    ("#{approved || urgent}", "approved or urgent", True),
    ("${!approved}", "not approved", False),
    ("!urgent", "not urgent", True),
    ("${amount != 5}", "amount != 5", True),
    ("${amount eq 150000}", "amount == 150000", True),
    ("${amount ne 150000}", "amount != 150000", False),
    ("${level lt 3}", "level < 3", True),
    ("${level gt 3}", "level > 3", False),
    ("${level le 2}", "level <= 2", True),
    ("${level ge 3}", "level >= 3", False),
    ("${approved and not urgent}", "approved and not urgent", True),
    ("${approved or urgent}", "approved or urgent", True),
    ("${nothing == null}", "nothing is None", True),
    ("${nothing != null}", "nothing is not None", False),
    ("${approved == true}", "approved == True", True),
    ("${urgent == false}", "urgent == False", True),
    ("${empty note}", "note == '' or note is None", True),
    ("${not empty items}", "len(items) > 0", True),
    ("${empty empty_list}", "len(empty_list) == 0", True),
    ("${empty nothing}", "nothing is None", True),
    ("${!empty name}", "len(name) != 0", True),
    ("${amount div 1000}", "amount / 1000", 150.0),
    ("${amount mod 7}", "amount % 7", 150_000 % 7),
    ("${(amount > 1000) && (level == 2 || urgent)}", "amount > 1000 and (level == 2 or urgent)",
     True),
    ("${tags['a'] == 1}", "tags['a'] == 1", True),
    ("${name == 'Acme Ltd' && size == \"B\"}", "name == 'Acme Ltd' and size == 'B'", True),
    ("${!approved == false}", "(not approved) == False", True),
    ("${-amount lt 0}", "-amount < 0", True),
]


@pytest.mark.parametrize(("juel", "python", "expected"), EQUIVALENT)
def test_juel_and_python_forms_evaluate_identically(juel: str, python: str, expected: Any) -> None:
    assert evaluate(juel, VARIABLES) == expected
    assert evaluate(python, VARIABLES) == expected


@pytest.mark.parametrize(("source", "python"), [
    ("${approved && amount > 1000}", "approved and amount > 1000"),
    ("#{a || !b}", "a or (not b)"),
    ("a != b", "a != b"),
    ("x eq null", "x == None"),
    ("empty x", "empty(x)"),
    ("not empty x['k']", "not empty(x['k'])"),
    ("${a} && ${b}", "(a) and (b)"),
    ("  amount >= 1000  ", "amount >= 1000"),
])
def test_translation_to_python(source: str, python: str) -> None:
    assert compile_expression(source).python == python


@pytest.mark.parametrize(("source", "expected"), [
    ("name == 'a && b'", False),
    ("'a && b || !c' == 'a && b || !c'", True),
    ('"x eq y" + \'!\'', "x eq y!"),
    ("'null' == 'null' and \"true\" != 'True'", True),
    ("'''it's && empty x'''", "it's && empty x"),
    ("'don\\'t && stop'", "don't && stop"),
])
def test_nothing_inside_string_literals_is_translated(source: str, expected: Any) -> None:
    assert evaluate(source, VARIABLES) == expected


def test_reserved_words_stay_names_where_juel_cannot_mean_them() -> None:
    variables = {"lt": 1, "mod": 2, "empty": 3}
    assert evaluate("lt + mod", variables) == 3
    assert evaluate("empty == 3", variables) is True


def test_line_breaks_inside_an_expression_are_spacing() -> None:
    assert evaluate("${\n  approved\n  && amount > 1000\n}", VARIABLES) is True


@pytest.mark.parametrize(("source", "variables", "expected"), [
    # SpiffWorkflow's DMN engine builds these from decision table cells
    ("(amount) == (1000)", {"amount": 1000}, True),
    ("(size) == (\"A\")", {"size": "B"}, False),
    ("amount >= 1000", {"amount": 999}, False),
    ("amount>= 1000", {"amount": 1000}, True),
    ('dmninputexpr in ("A","B")', {"dmninputexpr": "B"}, True),
    ("1000 <= dmninputexpr <= 5000", {"dmninputexpr": 5000}, True),
    ("1000 <= dmninputexpr <= 5000", {"dmninputexpr": 5001}, False),
    ('size in ("A", "B")', {"size": "C"}, False),
    ('size not in ("A", "B")', {"size": "C"}, True),
    ("(region) == ('pudong')", {"region": "pudong"}, True),
    ("(amount * rate) == (500.0)", {"amount": 1000, "rate": 0.5}, True),
])
def test_dmn_style_expressions(source: str, variables: dict[str, Any], expected: bool) -> None:
    assert evaluate(source, variables) is expected


@pytest.mark.parametrize(("source", "expected"), [
    ("items[0] + items[-1]", 5),
    ("items[1:]", [1, 2]),
    ("items[::-1]", [2, 1, 3]),
    ("tags['a']", 1),
    ("tags[name[0:0] + 'a']", 1),
    ("[1, 2] + [3]", [1, 2, 3]),
    ("[0, 'a'] * 2 + ['-'] * 1", [0, "a", 0, "a", "-"]),
    ("'ab' * 3", "ababab"),
    ("(1, 'a')", (1, "a")),
    ("{'k': level, 'n': name}", {"k": 2, "n": "Acme Ltd"}),
    ("{1, 2, 2}", {1, 2}),
    ("'big' if amount > 100000 else 'small'", "big"),
    ("2 ** 10", 1024),
    ("7 // 2 + 7 % 2 - -1 + +1", 6),
    ("1 < level < 3", True),
    ("nothing is None", True),
    ("approved is True", True),
    ("'pu' in region", True),
])
def test_allowed_constructs(source: str, expected: Any) -> None:
    assert evaluate(source, VARIABLES) == expected


# (source, variables, part of the reason)
FORBIDDEN = [
    ("name.upper()", {}, "attribute access is not allowed"),
    ("tags.a", {}, "attribute access is not allowed (for a map entry write tags['a'])"),
    ("().__class__.__bases__", {}, "attribute access is not allowed"),
    ("__class__", {}, "the name '__class__' is not allowed"),
    ("__builtins__['open']", {}, "the name '__builtins__' is not allowed"),
    ("__import__('os').system('true')", {}, "attribute access is not allowed"),
    ("__import__('os')", {}, "the name '__import__' is not allowed"),
    ("import os", {}, "imports are not allowed"),
    ("from os import system", {}, "imports are not allowed"),
    ("open('/etc/passwd')", {}, "calls to 'open' are not allowed"),
    ("eval('1')", {}, "calls to 'eval' are not allowed"),
    ("getattr(x, 'y')", {}, "calls to 'getattr' are not allowed"),
    ("type(x)", {}, "calls to 'type' are not allowed"),
    ("shutdown()", {}, "calls to 'shutdown' are not allowed: it is not a registered function"),
    ("x(1)", {"x": len}, "calls to 'x' are not allowed"),
    ("(lambda: 1)()", {}, "this call is not allowed"),
    ("lambda: 1", {}, "lambdas are not allowed"),
    ("[i for i in items]", {"items": [1]}, "comprehensions are not allowed"),
    ("{i: 1 for i in items}", {"items": [1]}, "comprehensions are not allowed"),
    ("sum(i for i in items)", {"items": [1]}, "comprehensions are not allowed"),
    ("(y := 1)", {}, "assignment (:=) is not allowed"),
    ("max(*items)", {"items": [1]}, "starred (*) is not allowed"),
    ("[*items]", {"items": [1]}, "starred (*) is not allowed"),
    ("{**tags}", {"tags": {}}, "dict unpacking (**) is not allowed"),
    ("max(**tags)", {"tags": {}}, "keyword unpacking (**) is not allowed"),
    ("f'{name}'", {"name": "x"}, "f-strings are not allowed"),
    ("b'bytes'", {}, "bytes literals are not allowed"),
    ("1j", {}, "complex literals are not allowed"),
    ("10 ** 10 ** 10", {}, "exponent too large"),
    ("2 ** n", {"n": 100_000}, "exponent too large"),
    ("999999 ** 999", {}, "number too large"),
    ("'a' * 10 ** 9", {}, "result too large"),
    ("s * n", {"s": "ab", "n": 10**9}, "result too large"),
    ("[0] * n", {"n": 10**6}, "result too large"),
    ("x + x", {"x": "a" * 60_000}, "result too large"),
    ("['ab'] * 60_000", {}, "result too large"),
    ("[[0] * 3] * 2", {}, "only flat lists can be repeated with *"),
    ("2 * [items]", {"items": [1]}, "only flat lists can be repeated with *"),
    ("str(items)", {"items": [1]}, "str() converts numbers, text and dates only"),
    ("'%s' % x", {"x": 1}, "string formatting with % is not allowed"),
    ("x & 1", {"x": 3}, "operator '&' is not allowed"),
    ("x << 1000000", {"x": 3}, "operator '<<' is not allowed"),
    ("~x", {"x": 3}, "operator '~' is not allowed"),
    ("x is y", {"x": 1, "y": 1}, "'is' compares with None, True or False only"),
    ("round(x, 10 ** 9)", {"x": 1.5}, "round(): at most 100 digits"),
    ("sum(lists, [])", {"lists": [[1]]}, "sum() adds numbers only"),
    ("[" * 110 + "]" * 110, {}, "nested too deeply"),
    ("x" + " + x" * 200, {"x": 1}, "nested too deeply"),
    ("x" * 10_001, {}, "longer than 10000 characters"),
]


@pytest.mark.parametrize(("source", "variables", "reason"), FORBIDDEN)
def test_forbidden_constructs_are_refused(source: str, variables: dict[str, Any],
                                          reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(source, variables)
    assert reason in caught.value.reason


@pytest.mark.parametrize("source", [
    "name.upper()", "__class__", "open('x')", "lambda: 1", "[i for i in x]", "(y := 1)",
    "f'{x}'", "x & 1", "a +", "import os", "{**x}", "max(*x)",
])
def test_forbidden_syntax_is_refused_at_compile_time(source: str) -> None:
    with pytest.raises(ExpressionError):
        compile_expression(source)


@pytest.mark.parametrize(("source", "column"), [
    ("amount > and x", 10),
    ("a b", 3),
    ("a +", 4),
    ("${amount >> }", 14),  # the text ends too early,
    ("${a && && b}", 8),
])
def test_syntax_errors_name_the_source_column(source: str, column: int) -> None:
    with pytest.raises(ExpressionError) as caught:
        compile_expression(source)
    assert caught.value.reason.startswith(f"syntax error at column {column}")
    assert caught.value.expression == source


@pytest.mark.parametrize("source", ["", "   ", "${ }", "#{}"])
def test_empty_expressions_are_refused(source: str) -> None:
    with pytest.raises(ExpressionError, match="the expression is empty"):
        compile_expression(source)


def test_unknown_variable_is_named() -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate("x > 1", {"amount": 1})
    assert caught.value.reason == "unknown variable 'x'"
    assert "in expression 'x > 1'" in str(caught.value)


def test_unknown_variable_suggests_a_close_name() -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate("${amout > 1000}", {"amount": 1, "approved": True})
    assert caught.value.reason == "unknown variable 'amout' (did you mean 'amount'?)"


def test_short_circuit_skips_unknown_variables() -> None:
    assert evaluate("approved or missing", VARIABLES) is True
    assert evaluate("urgent && missing", VARIABLES) is False
    assert evaluate("level > 5 > missing", VARIABLES) is False
    assert evaluate("1 if approved else missing", VARIABLES) == 1


@pytest.mark.parametrize(("source", "variables", "reason"), [
    ("x / 0", {"x": 1}, "division by zero"),
    ("x % 0", {"x": 1}, "division by zero"),
    ("x > 1", {"x": None}, "'>' not supported"),
    ("x['missing']", {"x": {}}, "no key 'missing'"),
    ("x[5]", {"x": [1]}, "index 5 is out of range"),
    ("x[0]", {"x": 5}, "cannot index a value of type int"),
    ("int('abc')", {}, "int(): invalid literal"),
    ("lower(x)", {"x": 5}, "lower(): lower() needs text, not int"),
    ("x ** 0.5", {"x": -8}, "not a real number"),
    ("x * 1.0", {"x": 10**400}, "number too large"),
])
def test_evaluation_failures_become_expression_errors(source: str, variables: dict[str, Any],
                                                      reason: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        evaluate(source, variables)
    assert reason in caught.value.reason


@pytest.mark.parametrize(("source", "expected"), [
    ("len(items)", 3),
    ("min(items) + max(items)", 4),
    ("abs(-level)", 2),
    ("round(rate * 3, 1)", 1.5),
    ("int('42') + float('0.5')", 42.5),
    ("str(level) + '!'", "2!"),
    ("bool(note)", False),
    ("sum(items)", 6),
    ("sorted(items)", [1, 2, 3]),
    ("sorted(items, reverse=true)", [3, 2, 1]),
    ("sorted(['bb', 'a'], key=len)", ["a", "bb"]),
    ("lower(name)", "acme ltd"),
    ("upper(region)", "PUDONG"),
    ("contains(name, 'Acme')", True),
    ("contains(items, 5)", False),
    ("contains(nothing, 5)", False),
    ("startswith(region, 'pu')", True),
    ("startswith(nothing, 'pu')", False),
    ("date('2026-03-01')", date(2026, 3, 1)),
    ("date('2026-03-01T10:00:00+08:00')", date(2026, 3, 1)),
    ("days_between('2026-02-01', '2026-03-01')", 28),
    ("days_between(date('2026-03-01'), '2026-02-01')", -28),
    ("days_between('2026-01-01T12:00:00+00:00', '2026-01-03T11:00:00+00:00')", 1),
    ("empty(note) and not empty(items)", True),
])
def test_registered_functions(source: str, expected: Any) -> None:
    assert evaluate(source, VARIABLES) == expected


def test_now_is_aware_utc_and_follows_the_clock() -> None:
    with time_machine.travel(datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC), tick=False):
        assert evaluate("now()", {}) == datetime(2026, 5, 4, 3, 2, 1, tzinfo=UTC)
        assert evaluate("days_between(now(), due)", {"due": datetime(2026, 5, 9, tzinfo=UTC)}) == 4


def test_functions_passed_per_call_are_callable_and_override_the_registry() -> None:
    functions = {"double": lambda x: 2 * x, "len": lambda x: -1}
    assert evaluate("double(level) + len(items)", VARIABLES, functions) == 3
    with pytest.raises(ExpressionError, match="calls to 'double' are not allowed"):
        evaluate("double(level)", VARIABLES)


def test_a_failing_function_becomes_an_expression_error() -> None:
    def broken(value: Any) -> Any:
        raise RuntimeError("service down")

    with pytest.raises(ExpressionError) as caught:
        evaluate("broken(1)", {}, {"broken": broken})
    assert caught.value.reason == "broken(): service down"


def test_variables_come_before_functions() -> None:
    assert evaluate("max", {"max": 7}) == 7
    assert evaluate("max(items)", {"max": 7, "items": [1, 9]}) == 9


def test_names_and_calls_are_reported() -> None:
    expression = compile_expression("${amount > limit(level) && !empty tags['k']}")
    assert expression.names == frozenset({"amount", "level", "tags"})
    assert expression.calls == frozenset({"limit", "empty"})
    assert compile_expression("sorted(x, key=len)").names == frozenset({"x"})


def test_compiled_expressions_are_cached_and_immutable() -> None:
    first = compile_expression("level + 1")
    assert compile_expression("level + 1") is first
    assert isinstance(first, Expression)
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.source = "other"  # type: ignore[misc]
    assert first.evaluate({"level": 1}) == 2
    assert first.evaluate({"level": 41}) == 42


def test_the_default_registry_is_read_only() -> None:
    assert {"len", "min", "max", "now", "date", "days_between", "contains"} <= set(FUNCTIONS)
    with pytest.raises(TypeError):
        FUNCTIONS["open"] = open  # type: ignore[index]
