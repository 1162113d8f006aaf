"""What a script task may say and leave behind: the RestrictedPython policy, the run-time
guards, the builtins, and the variables that can be kept.

The first of the sandbox's two layers (the process is the second, see ``engine.sandbox``).
Compile time refuses imports, classes, decorators, names and attributes starting with "_",
the frame/code/generator/traceback attributes, ``str.format``/``format_map`` and calls of
the introspection builtins. Run time routes attribute and item access, iteration, unpacking
and in-place operators through guards and offers a short list of builtins. Afterwards only
JSON-compatible variables are kept.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache
from types import CodeType, ModuleType
from typing import Any

from RestrictedPython.compile import compile_restricted_exec
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
)
from RestrictedPython.transformer import INSPECT_ATTRIBUTES, RestrictingNodeTransformer

FILENAME = "<script>"
MAX_SCRIPT_CHARS = 100_000
RANGE_LIMIT = 100_000

Problem = tuple[int | None, str]
_Visit = ast.AST | Iterable[ast.AST] | None

DENIED_CALLS = frozenset({
    "breakpoint", "classmethod", "compile", "delattr", "dir", "eval", "exec", "exit",
    "getattr", "globals", "hasattr", "help", "id", "input", "locals", "memoryview", "object",
    "open", "property", "quit", "setattr", "staticmethod", "super", "type", "vars",
})
# f_back, gi_frame, tb_frame, co_code and their kin lead from any function, generator or
# exception to frames, and from frames to every global of the process
_INTERNAL_PREFIXES = ("f_", "co_", "gi_", "cr_", "ag_", "tb_")
# format strings read attributes ("{0.__class__}"); mro() hands out `object`;
# encode/decode import codec modules and only yield bytes, which cannot be stored anyway
_DENIED_ATTRIBUTES = INSPECT_ATTRIBUTES | {"mro", "format", "format_map", "encode", "decode"}
_NO_PRINTED = "'printed' is not available in scripts: print() writes to the log"
# what print() may write per run of a script: lines, and characters per line
PRINT_LINES = 200
PRINT_LINE_CHARS = 500
_RP_ERROR = re.compile(r"Line (\d+|None): (.*)", re.DOTALL)


def attribute_refused(name: str) -> bool:
    """Whether scripts may never read or write the attribute ``name``."""
    return (name.startswith(("_", *_INTERNAL_PREFIXES)) or name in _DENIED_ATTRIBUTES
            or name.endswith("__roles__"))


def _attribute_message(name: str) -> str:
    hint = " (use an f-string)" if name in ("format", "format_map") else ""
    return f"access to {name!r} is not allowed{hint}"


# ast.NodeVisitor dispatches on the node class name, hence the visit_CamelCase methods
class _ScriptPolicy(RestrictingNodeTransformer):
    """RestrictedPython's policy, narrowed to what process scripts need, in plainer words."""

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        # allow_magic_methods is ignored: without classes no script needs __eq__ and friends
        if name is not None and name != "_" and name.startswith("_"):
            self.error(node, f"the name {name!r} is not allowed")
        elif name == "printed":
            self.error(node, _NO_PRINTED)
        else:
            super().check_name(node, name)

    def visit_Name(self, node: ast.Name) -> _Visit:  # noqa: N802
        if node.id == "printed":
            self.error(node, _NO_PRINTED)
            return node
        return super().visit_Name(node)

    def visit_Attribute(self, node: ast.Attribute) -> _Visit:  # noqa: N802
        if attribute_refused(node.attr):
            self.error(node, _attribute_message(node.attr))
            return self.node_contents_visit(node)
        return super().visit_Attribute(node)

    def visit_Call(self, node: ast.Call) -> _Visit:  # noqa: N802
        if isinstance(node.func, ast.Name) and node.func.id in DENIED_CALLS:
            self.error(node, f"{node.func.id!r} is not allowed")
            return self.node_contents_visit(node)
        return super().visit_Call(node)

    def visit_Import(self, node: ast.Import) -> _Visit:  # noqa: N802
        self.error(node, "import is not allowed")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> _Visit:  # noqa: N802
        self.error(node, "import is not allowed")
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> _Visit:  # noqa: N802
        self.error(node, "class definitions are not allowed")
        return self.node_contents_visit(node)

    def visit_FunctionDef(self, node: ast.FunctionDef) -> _Visit:  # noqa: N802
        if node.decorator_list:
            self.error(node.decorator_list[0], "decorators are not allowed")
        return super().visit_FunctionDef(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> _Visit:  # noqa: N802
        if isinstance(node.target, ast.Subscript):
            self.error(node, "augmented assignment to an item is not supported; "
                             "write x[k] = x[k] + v")
            return self.node_contents_visit(node)
        return super().visit_AugAssign(node)


@lru_cache(maxsize=256)
def compile_script(script: str) -> CodeType | tuple[Problem, ...]:
    """The restricted code of ``script``, or every problem found in it.

    Cached: the deploy-time check and every run of the same task compile the same text.
    """
    if len(script) > MAX_SCRIPT_CHARS:
        return ((None, f"the script has {len(script)} characters; at most "
                       f"{MAX_SCRIPT_CHARS} are allowed"),)
    try:
        tree = ast.parse(script, FILENAME)
        result = compile_restricted_exec(tree, FILENAME, policy=_ScriptPolicy)
    except SyntaxError as exc:
        return ((exc.lineno, f"syntax error: {exc.msg}"),)
    except (RecursionError, MemoryError):
        return ((None, "the script is nested too deeply"),)
    except ValueError as exc:  # NUL characters, on some 3.11 releases
        return ((None, f"syntax error: {exc}"),)
    if result.errors or result.code is None:
        return tuple(_problem(error) for error in result.errors)
    return result.code


def _problem(error: str) -> Problem:
    match = _RP_ERROR.fullmatch(error)
    if match is None:
        return None, error
    return (int(match[1]) if match[1].isdigit() else None), match[2].rstrip(".")


class Refused(BaseException):
    """A guard refused an operation. Not an Exception, so ``except Exception`` cannot hide it."""


def _guarded_getattr(obj: object, name: str) -> Any:
    # the compile-time policy refuses these names already; this is the second line
    if not isinstance(name, str) or attribute_refused(name):
        raise Refused(_attribute_message(str(name)))
    return getattr(obj, name)


def _guarded_getitem(obj: Any, key: Any) -> Any:
    if isinstance(key, str) and key.startswith("__"):
        raise Refused(f"access to the key {key!r} is not allowed")
    return obj[key]


_INPLACE: dict[str, Callable[[Any, Any], Any]] = {
    "+=": operator.iadd, "-=": operator.isub, "*=": operator.imul, "/=": operator.itruediv,
    "//=": operator.ifloordiv, "%=": operator.imod, "**=": operator.ipow,
    "<<=": operator.ilshift, ">>=": operator.irshift, "&=": operator.iand,
    "|=": operator.ior, "^=": operator.ixor, "@=": operator.imatmul,
}


def _inplacevar(op: str, target: Any, value: Any) -> Any:
    return _INPLACE[op](target, value)


def _apply(function: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return function(*args, **kwargs)


def _capped_range(*args: int) -> range:
    numbers = range(*args)
    try:
        size = len(numbers)
    except OverflowError:
        size = RANGE_LIMIT + 1
    if size > RANGE_LIMIT:
        raise ValueError(f"range() of more than {RANGE_LIMIT} numbers is not allowed")
    return numbers


# isinstance is safe here: scripts cannot define classes, so only the builtin
# __instancecheck__ ever runs
_SAFE_BUILTINS: dict[str, Any] = {
    "None": None, "True": True, "False": False,
    "abs": abs, "all": all, "any": any, "bool": bool, "chr": chr, "dict": dict,
    "divmod": divmod, "enumerate": enumerate, "filter": filter, "float": float, "int": int,
    "isinstance": isinstance, "len": len, "list": list, "map": map, "max": max, "min": min,
    "next": next, "ord": ord, "range": _capped_range, "repr": repr, "reversed": reversed,
    "round": round, "set": set, "sorted": sorted, "str": str, "sum": sum, "tuple": tuple,
    "zip": zip,
    **{error.__name__: error for error in (
        ArithmeticError, AssertionError, AttributeError, Exception, IndexError, KeyError,
        LookupError, NameError, NotImplementedError, OverflowError, RuntimeError, TypeError,
        ValueError, ZeroDivisionError)},
}


class ScriptOutput:
    """What a script's print() calls wrote, kept for the log, bounded (see PRINT_LINES).

    RestrictedPython compiles ``print(...)`` into ``_print._call_print(...)`` after binding
    ``_print = _print_(_getattr_)`` in each scope; this object is ``_print_`` and ``_print``.
    """

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.dropped = 0

    def __call__(self, _getattr: object = None) -> ScriptOutput:
        return self

    def _call_print(self, *objects: object, sep: object = " ", end: object = "\n",
                    file: object = None, flush: object = False) -> None:
        # file= and flush= are accepted and ignored: a script's output only goes to the log
        text = (sep if isinstance(sep, str) else " ").join(str(each) for each in objects)
        for line in text.splitlines() or [""]:
            if len(self.lines) < PRINT_LINES:
                self.lines.append(line[:PRINT_LINE_CHARS])
            else:
                self.dropped += 1


def script_globals(data: Mapping[str, Any], functions: Mapping[str, Any]) -> dict[str, Any]:
    """A script's globals: guards and builtins, then ``functions``, then the variables in
    ``data``. Names starting with "_" are left out of both: a script could not name them,
    and they must not replace a guard."""
    namespace: dict[str, Any] = {
        # without an explicit __builtins__, exec() would hand out the real builtins module
        "__builtins__": dict(_SAFE_BUILTINS),
        "__name__": "script",
        "_getattr_": _guarded_getattr,
        "_getitem_": _guarded_getitem,
        "_getiter_": iter,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_write_": full_write_guard,
        "_inplacevar_": _inplacevar,
        "_apply_": _apply,
        "_print_": ScriptOutput(),
    }
    for given in (functions, data):
        namespace.update((name, value) for name, value in given.items()
                         if isinstance(name, str) and not name.startswith("_"))
    return namespace


class NotStorableError(Exception):
    """A variable's value cannot be kept as process data (JSON)."""


def export_variables(namespace: Mapping[str, Any]) -> dict[str, Any]:
    """The variables a script leaves, as JSON-ready values.

    Names starting with "_", callables and modules are dropped and tuples become lists; any
    other value that JSON cannot hold raises NotStorableError naming the variable, since
    losing it silently would be worse.
    """
    variables: dict[str, Any] = {}
    for name, value in namespace.items():
        if name.startswith("_") or callable(value) or isinstance(value, ModuleType):
            continue
        try:
            variables[name] = _plain(value)
        except NotStorableError as exc:
            raise NotStorableError(f"variable {name!r} {exc}") from None
        except RecursionError:
            raise NotStorableError(f"variable {name!r} is nested too deeply or contains "
                                   "itself") from None
    return variables


def _plain(value: object) -> Any:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise NotStorableError(f"is {value}, which cannot be stored")
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {_key(key): _plain(item) for key, item in value.items()}
    raise NotStorableError(f"holds a {type(value).__name__}, which cannot be stored; "
                           "make it a list, dict, str or number, or del it")


def _key(key: object) -> str:
    if isinstance(key, str):
        return key
    raise NotStorableError(f"has the key {key!r}; keys must be strings")
