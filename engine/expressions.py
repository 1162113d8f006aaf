"""The allow-list evaluator for conditions, timer and due values, DMN cells and payloads.

Both the Python form (``amount > 1000 and not urgent``) and the Camunda/JUEL form
(``${amount > 1000 && !urgent}``) are accepted. JUEL operators are translated to Python outside
string literals, the result is parsed with :mod:`ast`, every node is checked against an
allow-list and turned into a tree of closures, cached per source text. Nothing reaches ``eval``.

Names resolve to the instance's variables first, then to functions (those passed per call, then
:data:`FUNCTIONS`). Only functions can be called, by bare name; a variable never can. JUEL's
reserved words (``eq ne lt gt le ge div mod empty null true false``) are translated where they
can only be JUEL: the operators after an operand, ``empty`` before one, the constants anywhere.
"""

from __future__ import annotations

import ast
import builtins
import difflib
import functools
import operator
import re
from bisect import bisect_right
from collections.abc import Callable, Mapping, Sequence, Sized
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from itertools import accumulate
from types import MappingProxyType
from typing import Any

from .errors import EngineError, ExpressionError

MAX_SOURCE = 10_000  # characters of expression text
MAX_DEPTH = 100  # nesting levels of the syntax tree
MAX_LENGTH = 100_000  # items or characters that + or * may produce
MAX_INT_BITS = 4096  # about 1233 decimal digits
MAX_EXPONENT = 1000

Functions = Mapping[str, Callable[..., Any]]
_Fn = Callable[[Mapping[str, Any], Functions | None], Any]
_Piece = tuple[str, int]  # translated text and the source offset it came from
_Token = tuple[str, str, int]  # kind, text, source offset


class _RejectedError(Exception):
    """Raised while compiling or evaluating; becomes an ExpressionError naming the source."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- registered functions ---------------------------------------------------------------------

def _text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name}() needs text, not {type(value).__name__}")
    return value


def _moment(name: str, value: Any) -> date:
    """A date or datetime as given, or read from ISO text."""
    if isinstance(value, date):
        return value
    text = _text(name, value).strip()
    return date.fromisoformat(text) if len(text) == 10 else datetime.fromisoformat(text)


def _to_date(value: Any) -> date:
    moment = _moment("date", value)
    return moment.date() if isinstance(moment, datetime) else moment


def _days_between(start: Any, end: Any) -> int:
    """Whole days from ``start`` to ``end``, negative when ``end`` is earlier."""
    a, b = _moment("days_between", start), _moment("days_between", end)
    if isinstance(a, datetime) != isinstance(b, datetime):
        # a plain date stands for midnight in the other value's time zone
        zone = a.tzinfo if isinstance(a, datetime) else getattr(b, "tzinfo", None)
        a, b = (x if isinstance(x, datetime) else datetime.combine(x, datetime.min.time(), zone)
                for x in (a, b))
    return int((b - a) / timedelta(days=1))


def _add_days(moment: Any, days: Any) -> date:
    """``moment`` (a date, a datetime or ISO text) moved by ``days`` calendar days."""
    if not isinstance(days, int) or isinstance(days, bool):
        raise TypeError("add_days() needs a whole number of days")
    return _moment("add_days", moment) + timedelta(days=days)


def _round(number: Any, ndigits: int | None = None) -> Any:
    if ndigits is not None and abs(ndigits) > 100:
        raise ValueError("at most 100 digits")
    return round(number, ndigits)


def _str(value: Any) -> str:
    if isinstance(value, Sized) and not isinstance(value, str):
        raise TypeError("str() converts numbers, text and dates only")
    return str(value)


def _sum(values: Any, start: Any = 0) -> Any:
    items = list(values)
    # sum() of lists or strings would concatenate without any size check
    if not all(isinstance(x, int | float) for x in [*items, start]):
        raise TypeError("sum() adds numbers only")
    return sum(items, start)


_REGISTRY: dict[str, Callable[..., Any]] = {
    "len": len, "min": min, "max": max, "abs": abs, "round": _round, "int": int,
    "float": float, "str": _str, "bool": bool, "sum": _sum, "sorted": sorted,
    "lower": lambda s: _text("lower", s).lower(), "upper": lambda s: _text("upper", s).upper(),
    "contains": lambda a, b: a is not None and b in a,
    "startswith": lambda s, p: isinstance(s, str) and s.startswith(_text("startswith", p)),
    "date": _to_date, "now": lambda: datetime.now(UTC), "days_between": _days_between,
    "add_days": _add_days,
    # JUEL's "empty x": None, or a text, list or map without items
    "empty": lambda x: x is None or (isinstance(x, Sized) and len(x) == 0),
}
FUNCTIONS: Mapping[str, Callable[..., Any]] = MappingProxyType(_REGISTRY)
# Python built-ins that are not registered can never be called, whatever is passed per call.
_PY_BUILTINS = frozenset(dir(builtins)) - frozenset(_REGISTRY)


# --- JUEL to Python ---------------------------------------------------------------------------

_WORD_OPS = {"eq": "==", "ne": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">=",
             "div": "/", "mod": "%"}
_JUEL_LOGIC = {"&&": "and", "||": "or", "!": "not"}
_WORD_CONSTANTS = {"null": "None", "true": "True", "false": "False"}
_NOT_OPERAND = frozenset({"not", "and", "or", "in", "is", "if", "else", "empty", *_WORD_OPS})
_OPEN, _CLOSE = ("(", "[", "{", "${", "#{"), (")", "]", "}")
# Strings and numbers are kept whole so that nothing inside them is ever translated.
_STRING = r"'''(?:\\.|.)*?'''|" + r'"""(?:\\.|.)*?"""|' + r"'(?:\\.|[^'\\])*'?|" + \
    r'"(?:\\.|[^"\\])*"?'
_TOKEN = re.compile(rf"(?P<str>{_STRING})|(?P<num>\.?\d(?:[eE][+-]|[\w.])*)|"
                    r"(?P<name>[^\W\d]\w*)|(?P<space>\s+)|(?P<op>&&|\|\||!=|[$#]\{|.)", re.S)


def _skip(tokens: list[_Token], i: int, hi: int) -> int:
    while i < hi and tokens[i][0] == "space":
        i += 1
    return i


def _matching(tokens: list[_Token], i: int, hi: int) -> int:
    """Index of the bracket closing the one at ``i``, or ``hi`` when it is never closed."""
    depth = 0
    for j in range(i, hi):
        kind, text, _ = tokens[j]
        depth += (kind == "op" and text in _OPEN) - (kind == "op" and text in _CLOSE)
        if depth == 0:
            return j
    return hi


def _operand_end(tokens: list[_Token], i: int, hi: int) -> int | None:
    """End of the JUEL unary operand starting at ``i``, or None when none starts there."""
    i = _skip(tokens, i, hi)
    if i >= hi:
        return None
    kind, text, _ = tokens[i]
    if text in ("!", "-", "+") and kind == "op" or text in ("not", "empty") and kind == "name":
        return _operand_end(tokens, i + 1, hi)
    if kind in ("name", "num", "str"):
        j = i + 1
    elif kind == "op" and text in _OPEN:
        j = min(_matching(tokens, i, hi) + 1, hi)
    else:
        return None
    while True:  # postfix: index, call, property
        k = _skip(tokens, j, hi)
        if k < hi and tokens[k][1] in ("[", "("):
            j = min(_matching(tokens, k, hi) + 1, hi)
        elif k + 1 < hi and tokens[k][1] == "." and tokens[k + 1][0] == "name":
            j = k + 2
        else:
            return j


def _after_operand(tokens: list[_Token], lo: int, i: int) -> bool:
    """True when the token before ``i`` ends an operand, so a word at ``i`` is an operator."""
    j = i - 1
    while j >= lo and tokens[j][0] == "space":
        j -= 1
    if j < lo:
        return False
    kind, text, _ = tokens[j]
    return kind in ("num", "str") or (kind == "op" and text in _CLOSE) or (
        kind == "name" and text not in _NOT_OPERAND)


def _translate(tokens: list[_Token], lo: int, hi: int, out: list[_Piece]) -> None:
    i = lo
    while i < hi:
        kind, text, pos = tokens[i]
        prefix = (kind == "op" and text == "!") or (
            kind == "name" and text == "empty" and not _after_operand(tokens, lo, i))
        end = _operand_end(tokens, i + 1, hi) if prefix else None
        if end is not None:  # "!x" and "empty x" bind to their operand only, as in JUEL
            out.append(("(not " if text == "!" else "empty(", pos))
            _translate(tokens, _skip(tokens, i + 1, end), end, out)
            out.append((")", pos))
            i = end
        elif kind == "op" and text in ("${", "#{"):
            close = _matching(tokens, i, hi)
            out.append(("(", pos))
            _translate(tokens, i + 1, close, out)
            out.append((")" if close < hi else "", pos))
            i = close + 1
        else:
            out.append((_translated_token(tokens, lo, i), pos))
            i += 1


def _translated_token(tokens: list[_Token], lo: int, i: int) -> str:
    kind, text, _ = tokens[i]
    if kind == "op" and text in _JUEL_LOGIC:
        left = "" if i > 0 and tokens[i - 1][0] == "space" else " "
        right = "" if i + 1 < len(tokens) and tokens[i + 1][0] == "space" else " "
        return f"{left}{_JUEL_LOGIC[text]}{right}"
    if kind == "space":
        return " "  # a line break inside an expression is plain spacing
    if kind == "name" and text in _WORD_OPS and _after_operand(tokens, lo, i):
        return _WORD_OPS[text]
    return _WORD_CONSTANTS.get(text, text) if kind == "name" else text


def _to_python(source: str) -> tuple[str, Callable[[int | None], int]]:
    """The Python text of ``source`` and a map from a Python column to a source column."""
    tokens = [(m.lastgroup or "op", m.group(), m.start()) for m in _TOKEN.finditer(source)]
    depths = accumulate((t in _OPEN) - (t in _CLOSE) for k, t, _ in tokens if k == "op")
    if max(depths, default=0) > MAX_DEPTH:  # checked first: translating deep nesting is slow
        raise _RejectedError("the expression is nested too deeply")
    lo, hi = _skip(tokens, 0, len(tokens)), len(tokens)
    while hi > lo and tokens[hi - 1][0] == "space":
        hi -= 1
    pieces: list[_Piece] = []
    if lo < hi and tokens[lo][1] in ("${", "#{") and _matching(tokens, lo, hi) == hi - 1:
        _translate(tokens, lo + 1, hi - 1, pieces)  # the usual "${...}" around everything
    else:
        _translate(tokens, lo, hi, pieces)
    joined = "".join(text for text, _ in pieces)
    shift = len(joined) - len(joined.lstrip())
    starts = [0, *accumulate(len(text) for text, _ in pieces)]

    def locate(column: int | None) -> int:
        if not pieces or column is None:
            return 1
        at = column - 1 + shift
        k = min(max(bisect_right(starts, at) - 1, 0), len(pieces) - 1)
        text, pos = pieces[k]
        unchanged = text == source[pos:pos + len(text)]
        return pos + (at - starts[k] if unchanged else 0) + 1

    return joined.strip(), locate


# --- guarded operators ------------------------------------------------------------------------

_SEQUENCES = (str, bytes, list, tuple)


def _check_length(length: int) -> None:
    if length > MAX_LENGTH:
        raise _RejectedError(f"result too large (more than {MAX_LENGTH} items)")


def _add(a: Any, b: Any) -> Any:
    if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
        _check_length(len(a) + len(b))
    return a + b


def _mul(a: Any, b: Any) -> Any:
    if isinstance(a, int) and isinstance(b, int):
        if a.bit_length() + b.bit_length() > MAX_INT_BITS:
            raise _RejectedError("number too large")
    elif isinstance(a, _SEQUENCES) and isinstance(b, int):
        _check_length(_weight(a) * b)
    elif isinstance(b, _SEQUENCES) and isinstance(a, int):
        _check_length(_weight(b) * a)
    return a * b


def _weight(sequence: Any) -> int:
    """Characters of a text, or items and characters of a flat list, for the repetition cap."""
    if isinstance(sequence, str | bytes):
        return len(sequence)
    # repeated references to one container would let a short expression compare or print
    # billions of items
    if any(isinstance(item, Sized) and not isinstance(item, str) for item in sequence):
        raise _RejectedError("only flat lists can be repeated with *")
    return sum(len(item) if isinstance(item, str) else 1 for item in sequence)


def _mod(a: Any, b: Any) -> Any:
    if isinstance(a, str | bytes):
        raise _RejectedError("string formatting with % is not allowed")
    return a % b


def _pow(a: Any, b: Any) -> Any:
    if isinstance(b, int | float) and abs(b) > MAX_EXPONENT:
        raise _RejectedError(f"exponent too large (at most {MAX_EXPONENT})")
    if isinstance(a, int) and isinstance(b, int) and b > 0 and a.bit_length() * b > MAX_INT_BITS:
        raise _RejectedError("number too large")
    result = a**b
    if isinstance(result, complex):
        raise _RejectedError("the result is not a real number")
    return result


def _index(target: Any, key: Any) -> Any:
    if not isinstance(target, Mapping | Sequence):
        raise _RejectedError(f"cannot index a value of type {type(target).__name__}")
    try:
        return target[key]
    except KeyError:
        raise _RejectedError(f"no key {key!r}") from None
    except IndexError:
        raise _RejectedError(f"index {key!r} is out of range") from None


_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: _add, ast.Sub: operator.sub, ast.Mult: _mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: _mod, ast.Pow: _pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_,
}
_COMPARE: dict[type[ast.cmpop], Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_SYMBOLS = {ast.BitAnd: "&", ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<",
            ast.RShift: ">>", ast.MatMult: "@", ast.Invert: "~"}
_COMPREHENSION = "comprehensions are not allowed"
_FORBIDDEN = {
    ast.Attribute: "attribute access is not allowed", ast.Lambda: "lambdas are not allowed",
    ast.ListComp: _COMPREHENSION, ast.SetComp: _COMPREHENSION, ast.DictComp: _COMPREHENSION,
    ast.GeneratorExp: _COMPREHENSION, ast.NamedExpr: "assignment (:=) is not allowed",
    ast.Starred: "starred (*) is not allowed", ast.JoinedStr: "f-strings are not allowed",
}
_COLLECTIONS: dict[type[ast.expr], Callable[[Any], Any]] = {
    ast.List: list, ast.Tuple: tuple, ast.Set: set}


# --- the compiler -----------------------------------------------------------------------------

class _Compiler:
    """Checks a syntax tree against the allow-list and builds its closure tree."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.calls: set[str] = set()

    def build(self, node: ast.AST, depth: int) -> _Fn:
        if depth > MAX_DEPTH:
            raise _RejectedError("the expression is nested too deeply")
        builder = getattr(self, f"_build_{type(node).__name__.lower()}", None)
        if builder is not None:
            result: _Fn = builder(node, depth + 1)
            return result
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            raise _RejectedError(f"attribute access is not allowed (for a map entry write "
                                 f"{node.value.id}['{node.attr}'])")
        raise _RejectedError(_FORBIDDEN.get(type(node), f"{type(node).__name__} is not allowed"))

    def _build_constant(self, node: ast.Constant, depth: int) -> _Fn:
        value = node.value
        if value is not None and not isinstance(value, bool | int | float | str):
            raise _RejectedError(f"{type(value).__name__} literals are not allowed")
        if isinstance(value, int) and value.bit_length() > MAX_INT_BITS:
            raise _RejectedError("number too large")
        return lambda v, f: value

    def _build_name(self, node: ast.Name, depth: int) -> _Fn:
        name = _allowed_name(node.id)
        self.names.add(name)

        def load(v: Mapping[str, Any], f: Functions | None) -> Any:
            try:
                return v[name]
            except KeyError:
                return _fallback(name, v, f)

        return load

    def _build_boolop(self, node: ast.BoolOp, depth: int) -> _Fn:
        parts = [self.build(value, depth) for value in node.values]
        first, second = parts[0], parts[1]
        if isinstance(node.op, ast.And):
            if len(parts) == 2:
                return lambda v, f: first(v, f) and second(v, f)
            return lambda v, f: _shortcut(parts, False, v, f)
        if len(parts) == 2:
            return lambda v, f: first(v, f) or second(v, f)
        return lambda v, f: _shortcut(parts, True, v, f)

    def _build_binop(self, node: ast.BinOp, depth: int) -> _Fn:
        op = _BINARY.get(type(node.op))
        if op is None:
            raise _RejectedError(f"operator '{_SYMBOLS.get(type(node.op))}' is not allowed")
        left, right = self.build(node.left, depth), self.build(node.right, depth)
        return lambda v, f: op(left(v, f), right(v, f))

    def _build_unaryop(self, node: ast.UnaryOp, depth: int) -> _Fn:
        op = _UNARY.get(type(node.op))
        if op is None:
            raise _RejectedError(f"operator '{_SYMBOLS.get(type(node.op))}' is not allowed")
        operand = self.build(node.operand, depth)
        return lambda v, f: op(operand(v, f))

    def _build_compare(self, node: ast.Compare, depth: int) -> _Fn:
        nodes = [node.left, *node.comparators]
        for op, a, b in zip(node.ops, nodes, nodes[1:], strict=False):
            if isinstance(op, ast.Is | ast.IsNot) and not (_singleton(a) or _singleton(b)):
                raise _RejectedError("'is' compares with None, True or False only; use ==")
        ops = [_COMPARE[type(op)] for op in node.ops]
        operands = [self.build(each, depth) for each in nodes]
        if len(ops) == 1:
            compare, left, right = ops[0], operands[0], operands[1]
            return lambda v, f: compare(left(v, f), right(v, f))
        return lambda v, f: _chain(ops, operands, v, f)

    def _build_ifexp(self, node: ast.IfExp, depth: int) -> _Fn:
        test, body = self.build(node.test, depth), self.build(node.body, depth)
        orelse = self.build(node.orelse, depth)
        return lambda v, f: body(v, f) if test(v, f) else orelse(v, f)

    def _build_subscript(self, node: ast.Subscript, depth: int) -> _Fn:
        target, key = self.build(node.value, depth), self.build(node.slice, depth)
        return lambda v, f: _index(target(v, f), key(v, f))

    def _build_slice(self, node: ast.Slice, depth: int) -> _Fn:
        bounds = [self.build(each, depth) if each is not None else None
                  for each in (node.lower, node.upper, node.step)]
        return lambda v, f: slice(*(b(v, f) if b is not None else None for b in bounds))

    def _build_list(self, node: ast.List | ast.Tuple | ast.Set, depth: int) -> _Fn:
        make = _COLLECTIONS[type(node)]
        items = [self.build(each, depth) for each in node.elts]
        return lambda v, f: make([item(v, f) for item in items])

    _build_tuple = _build_set = _build_list

    def _build_dict(self, node: ast.Dict, depth: int) -> _Fn:
        pairs = []
        for key, value in zip(node.keys, node.values, strict=True):
            if key is None:
                raise _RejectedError("dict unpacking (**) is not allowed")
            pairs.append((self.build(key, depth), self.build(value, depth)))
        return lambda v, f: {key(v, f): value(v, f) for key, value in pairs}

    def _build_call(self, node: ast.Call, depth: int) -> _Fn:
        if not isinstance(node.func, ast.Name):
            kind = "attribute access" if isinstance(node.func, ast.Attribute) else "this call"
            raise _RejectedError(f"{kind} is not allowed; only registered functions can be called")
        name = _allowed_name(node.func.id)
        if name in _PY_BUILTINS:
            raise _RejectedError(f"calls to '{name}' are not allowed")
        if any(keyword.arg is None for keyword in node.keywords):
            raise _RejectedError("keyword unpacking (**) is not allowed")
        self.calls.add(name)
        args = [self.build(each, depth) for each in node.args]
        kwargs = [(kw.arg or "", self.build(kw.value, depth)) for kw in node.keywords]
        return lambda v, f: _call(name, [a(v, f) for a in args], {k: a(v, f) for k, a in kwargs}, f)


def _allowed_name(name: str) -> str:
    if name.startswith("__"):
        raise _RejectedError(f"the name '{name}' is not allowed")
    return name


def _singleton(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and any(node.value is x for x in (None, True, False))


def _call(name: str, args: list[Any], kwargs: dict[str, Any], extra: Functions | None) -> Any:
    function = (extra.get(name) if extra else None) or _REGISTRY.get(name)
    if function is None:
        raise _RejectedError(f"calls to '{name}' are not allowed: it is not a registered function")
    try:
        return function(*args, **kwargs)
    except (EngineError, _RejectedError):
        raise
    except Exception as exc:  # whatever a function raises is the expression's failure
        raise _RejectedError(f"{name}(): {exc}") from exc


def _fallback(name: str, variables: Mapping[str, Any], extra: Functions | None) -> Any:
    found = (extra.get(name) if extra else None) or _REGISTRY.get(name)
    if found is not None:
        return found
    close = difflib.get_close_matches(name, [str(k) for k in variables], n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ""
    raise _RejectedError(f"unknown variable '{name}'{hint}")


def _shortcut(parts: list[_Fn], stop_on: bool, v: Mapping[str, Any], f: Functions | None) -> Any:
    """``and`` (stop on a false part) or ``or`` (stop on a true one) over many parts."""
    result: Any = not stop_on
    for part in parts:
        result = part(v, f)
        if bool(result) is stop_on:
            return result
    return result


def _chain(ops: list[Callable[[Any, Any], bool]], operands: list[_Fn],
           v: Mapping[str, Any], f: Functions | None) -> bool:
    left = operands[0](v, f)
    for op, operand in zip(ops, operands[1:], strict=True):
        right = operand(v, f)
        if not op(left, right):
            return False
        left = right
    return True


# --- public API -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Expression:
    """A compiled expression; immutable and shared through the compile cache."""

    source: str
    python: str
    names: frozenset[str]  # variables it reads (registered function names left out)
    calls: frozenset[str]  # functions it calls, for the deploy-time check
    _run: _Fn = field(repr=False, compare=False)

    def evaluate(self, variables: Mapping[str, Any], functions: Functions | None = None) -> Any:
        """Evaluate over ``variables``; ``functions`` add to (and override) :data:`FUNCTIONS`."""
        try:
            return self._run(variables, functions)
        except _RejectedError as problem:
            raise ExpressionError(self.source, problem.reason) from None
        except ZeroDivisionError:
            raise ExpressionError(self.source, "division by zero") from None
        except OverflowError:
            raise ExpressionError(self.source, "number too large") from None
        except (ArithmeticError, TypeError, ValueError, LookupError) as exc:
            raise ExpressionError(self.source, str(exc)) from exc


@functools.lru_cache(maxsize=4096)
def compile_expression(source: str) -> Expression:
    """Translate, parse and allow-list check ``source``.

    Raises ExpressionError(source, reason) naming the first forbidden construct, e.g.
    "attribute access is not allowed", "calls to 'open' are not allowed" or
    "syntax error at column 7". Calls of names other than Python built-ins are accepted here
    (they may be passed per evaluation); ``Expression.calls`` lists them for the deploy check.
    """
    if not isinstance(source, str):
        raise ExpressionError(repr(source), "an expression must be text")
    if len(source) > MAX_SOURCE:
        raise ExpressionError(source[:80], f"the expression is longer than {MAX_SOURCE} characters")
    try:
        python, locate = _to_python(source)
    except _RejectedError as problem:
        raise ExpressionError(source, problem.reason) from None
    except RecursionError:  # a long chain of "!" or "empty"
        raise ExpressionError(source, "the expression is nested too deeply") from None
    if not python:
        raise ExpressionError(source, "the expression is empty")
    if python.split(None, 1)[0] in ("import", "from"):
        raise ExpressionError(source, "imports are not allowed")
    try:
        tree = ast.parse(python, mode="eval")
    except SyntaxError as exc:
        # Python reports an offset of 0 when the text ends too early
        inside = exc.offset is not None and 0 < exc.offset <= len(python)
        column = locate(exc.offset) if inside else len(source.rstrip()) + 1
        raise ExpressionError(source, f"syntax error at column {column}") from None
    except (RecursionError, MemoryError):
        raise ExpressionError(source, "the expression is nested too deeply") from None
    compiler = _Compiler()
    try:
        run = compiler.build(tree.body, 0)
    except _RejectedError as problem:
        raise ExpressionError(source, problem.reason) from None
    names = frozenset(name for name in compiler.names if name not in _REGISTRY)
    return Expression(source, python, names, frozenset(compiler.calls), run)


def evaluate(source: str, variables: Mapping[str, Any],
             functions: Functions | None = None) -> Any:
    """Compile (cached) and evaluate ``source`` over ``variables``."""
    return compile_expression(source).evaluate(variables, functions)
