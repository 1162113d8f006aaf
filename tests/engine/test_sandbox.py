"""The script sandbox: ordinary scripts work, escapes fail without side effects, limits hold."""

from __future__ import annotations

import builtins
import contextlib
import logging
import os
import resource
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from engine.sandbox import ScriptError, ScriptLimits, check_script, run_script
from engine.script_policy import (
    PRINT_LINE_CHARS,
    PRINT_LINES,
    RANGE_LIMIT,
    Refused,
    script_globals,
)

FAST = ScriptLimits(cpu_seconds=0.5, memory_bytes=64 * 2**20, wall_seconds=5.0)


def run(script: str, data: dict[str, Any] | None = None, **kwargs: Any) -> dict[str, Any]:
    return run_script(script, data or {}, limits=kwargs.pop("limits", FAST), **kwargs)


def assert_sandbox_still_works() -> None:
    assert run("total = sum(amounts)", {"amounts": [1, 2, 3]})["total"] == 6


# --- ordinary scripts ---------------------------------------------------------------------------

ORDINARY = [
    ("arithmetic", "amount = price * quantity\ntax = round(amount * 0.13, 2)\nhalf = amount // 2",
     {"price": 12.5, "quantity": 4}, {"amount": 50.0, "tax": 6.5, "half": 25.0}),
    ("dicts and lists",
     "totals = {}\nfor item in items:\n    name = item['kind']\n"
     "    totals[name] = totals.get(name, 0) + item['amount']\n"
     "kinds = sorted(totals)\nitems.append({'kind': 'c', 'amount': 0})\ndel item, name",
     {"items": [{"kind": "b", "amount": 2}, {"kind": "a", "amount": 1},
                {"kind": "b", "amount": 3}]},
     {"totals": {"b": 5, "a": 1}, "kinds": ["a", "b"]}),
    ("string methods",
     "code = name.strip().upper()\nwords = ', '.join(w.capitalize() for w in name.split())\n"
     "short = name.replace('park', 'P')[:6]",
     {"name": "  green park "}, {"code": "GREEN PARK", "words": "Green, Park", "short": "  gree"}),
    ("Chinese text", "status = f'{company}：已受理'\nshort = company[:2]",
     {"company": "绿园科技"}, {"status": "绿园科技：已受理", "short": "绿园"}),
    ("loops", "n = 0\nwhile n < 10:\n    n += 3\nodd = [i for i in range(10) if i % 2]\n"
     "pairs = {k: v for k, v in zip('ab', [1, 2])}", {},
     {"n": 12, "odd": [1, 3, 5, 7, 9], "pairs": {"a": 1, "b": 2}}),
    ("own functions",
     "def fee(amount, rate=0.1):\n    return min(amount * rate, 500)\n"
     "fees = [fee(a) for a in amounts]\nbig = sorted(amounts, key=lambda a: -a)[0]",
     {"amounts": [100, 9000]}, {"fees": [10.0, 500], "big": 9000}),
    ("f-strings", "label = f'{company} ({amount:,.2f} yuan, {ratio:.0%})'",
     {"company": "Acme", "amount": 1234.5, "ratio": 0.25},
     {"label": "Acme (1,234.50 yuan, 25%)"}),
    ("unpacking and next",
     "first, *rest = names\nfound = next((n for n in names if n.startswith('b')), None)\n"
     "(a, b), c = (1, 2), 3", {"names": ["ann", "bob", "bea"]},
     {"first": "ann", "rest": ["bob", "bea"], "found": "bob", "a": 1, "b": 2, "c": 3}),
    ("exceptions handled by the script",
     "try:\n    ratio = a / b\nexcept ZeroDivisionError:\n    ratio = None\n"
     "ok = isinstance(a, (int, float)) and not isinstance(a, bool)", {"a": 1, "b": 0},
     {"ratio": None, "ok": True}),
]


@pytest.mark.parametrize(("script", "data", "expected"),
                         [case[1:] for case in ORDINARY], ids=[case[0] for case in ORDINARY])
def test_ordinary_scripts_run(script: str, data: dict[str, Any],
                              expected: dict[str, Any]) -> None:
    assert check_script(script) == []
    result = run(script, data)
    assert {name: result.get(name) for name in expected} == expected


def test_the_callers_data_is_never_changed() -> None:
    data = {"items": [1, 2], "info": {"a": 1}}
    result = run("items.append(3)\ninfo['b'] = 2\nitems = items + [4]", data)
    assert data == {"items": [1, 2], "info": {"a": 1}}
    assert result == {"items": [1, 2, 3, 4], "info": {"a": 1, "b": 2}}


def test_result_keeps_plain_values_and_drops_callables_and_hidden_names() -> None:
    script = "def helper(x):\n    return x * 2\ny = helper(3)\npair = (1, 'a')\ndel gone"
    data = {"gone": 1, "_hidden": 2, "first-name": "Li"}
    assert run(script, data) == {"first-name": "Li", "y": 6, "pair": [1, "a"]}


def test_names_starting_with_underscore_are_not_passed_in() -> None:
    assert check_script("x = _hidden") == [(1, "the name '_hidden' is not allowed")]


@pytest.mark.parametrize(("script", "words"), [
    ("seen = set([1, 2])", "variable 'seen' holds a set"),
    ("g = (i for i in [1])", "variable 'g' holds a generator"),
    ("d = {1: 'a'}", "variable 'd' has the key 1"),
    ("x = float('nan')", "variable 'x' is nan"),
    ("x = [1, float('inf')]", "variable 'x' is inf"),
    ("x = []\nx.append(x)", "variable 'x' is nested too deeply or contains itself"),
    ("r = range(3)", "variable 'r' holds a range"),
])
def test_values_that_cannot_be_stored_fail_the_run(script: str, words: str) -> None:
    with pytest.raises(ScriptError, match=words) as caught:
        run(script)
    assert caught.value.line is None


def test_registered_functions_are_callable_and_not_returned() -> None:
    result = run("net = deduct(gross)", {"gross": 100},
                 functions={"deduct": lambda amount: amount - 13})
    assert result == {"gross": 100, "net": 87}


def test_registered_function_failure_reports_the_script_line() -> None:
    def fails(value: int) -> int:
        raise LookupError(f"no rate for {value}")

    with pytest.raises(ScriptError) as caught:
        run("a = 1\nb = rate(a)", functions={"rate": fails})
    assert str(caught.value) == "line 2: LookupError: no rate for 1"


def test_errors_are_one_line_with_the_script_line() -> None:
    with pytest.raises(ScriptError) as caught:
        run("x = 1\n\nraise ValueError('amount\\ntoo high')")
    assert (caught.value.line, caught.value.message) == (3, "ValueError: amount too high")
    assert str(caught.value) == "line 3: ValueError: amount too high"


def test_builtins_changed_by_one_run_are_not_seen_by_the_next() -> None:
    assert run("len = lambda x: -1\nn = len([1])")["n"] == -1
    assert run("n = len([1])")["n"] == 1
    assert builtins.len([1]) == 1


def test_range_is_capped() -> None:
    with pytest.raises(ScriptError, match=f"more than {RANGE_LIMIT} numbers"):
        run("for i in range(10**12):\n    pass")


# --- deploy-time check --------------------------------------------------------------------------

def test_check_script_lists_every_problem_with_its_line() -> None:
    script = "import os\nx = ().__class__\ny = open('f')\nz = printed\nz = 'a{}'.format(1)"
    assert check_script(script) == [
        (1, "import is not allowed"),
        (2, "access to '__class__' is not allowed"),
        (3, "'open' is not allowed"),
        (4, "'printed' is not available in scripts: print() writes to the log"),
        (5, "access to 'format' is not allowed (use an f-string)"),
    ]


def test_print_writes_to_the_log_and_leaves_no_variable(caplog: pytest.LogCaptureFixture) -> None:
    script = ("def shout(x):\n    print('in f', x, sep=': ')\n    return x * 2\n"
              "y = shout(2)\nprint('done', y, file=None, flush=True)\nprint()")
    assert check_script(script) == []
    with caplog.at_level(logging.INFO, logger="parkflow.scripts"):
        assert run(script, {}) == {"y": 4}
    assert [r.getMessage() for r in caplog.records if r.name == "parkflow.scripts"] == [
        "script output: in f: 2", "script output: done 4", "script output: "]


def test_print_output_is_bounded(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="parkflow.scripts"):
        assert run(f"for i in range({PRINT_LINES + 50}):\n    print('x' * 2000)", {}) == {
            "i": PRINT_LINES + 49}
    lines = [r.getMessage() for r in caplog.records if r.name == "parkflow.scripts"]
    assert len(lines) == PRINT_LINES + 1
    assert lines[0] == "script output: " + "x" * PRINT_LINE_CHARS
    assert lines[-1] == "script output: 50 more lines not kept"


def test_check_script_reports_syntax_errors_with_their_line() -> None:
    [(line, message)] = check_script("a = 1\nif a\n    b = 2")
    assert line == 2
    assert message.startswith("syntax error:")


def test_check_script_refuses_huge_and_deeply_nested_scripts() -> None:
    assert "characters" in check_script("x = 1\n" * 20_000)[0][1]
    assert check_script("x = " + "-" * 90_000 + "1") == [
        (None, "the script is nested too deeply")]


def test_check_script_explains_item_augmented_assignment() -> None:
    assert check_script("d = {'a': 1}\nd['a'] += 1") == [
        (2, "augmented assignment to an item is not supported; write x[k] = x[k] + v")]


def test_run_script_refuses_before_running() -> None:
    with pytest.raises(ScriptError) as caught:
        run("a = 1\nimport os\nimport sys")
    assert str(caught.value) == "line 2: import is not allowed (and 1 more problems)"


# --- escapes ------------------------------------------------------------------------------------
# Each attempt would create CANARY if it got through. "check": refused at deploy time;
# "run": passes the check but fails when run.

# from any class: find os._wrap_close and call the os.system in its module's globals
WALK = ("for c in {base}.__subclasses__():\n    if c.__name__ == '_wrap_close':\n"
        "        c.__init__.__globals__['system']('touch CANARY')")
# from a globals dict: its __builtins__ (a module or a dict) and their open()
OPEN_FROM = ("b = {globals}['__builtins__']\nb = b if isinstance(b, dict) else b.__dict__\n"
             "b['open']('CANARY', 'w')")

ESCAPES = [
    ("subclass walk", "check", WALK.format(base="().__class__.__base__")),
    ("function __globals__", "check",
     "def f():\n    pass\n" + OPEN_FROM.format(globals="f.__globals__")),
    ("__builtins__ by name", "check",
     "b = __builtins__\nb = b if isinstance(b, dict) else b.__dict__\nb['open']('CANARY', 'w')"),
    ("builtins module name", "check", "builtins.open('CANARY', 'w')"),
    ("builtins through a builtin's __self__", "check", "len.__self__.open('CANARY', 'w')"),
    ("tampering with the builtins dict", "check",
     "b = __builtins__\nb = b if isinstance(b, dict) else b.__dict__\n"
     "b['len'] = lambda x: open('CANARY', 'w')\nlen([])"),
    ("str.format reads attributes", "check", "leak = '{0.__class__.__mro__}'.format(1)"),
    ("str.format_map reads attributes", "check",
     "leak = '{f.__globals__}'.format_map({'f': len})"),
    ("unbound str.format", "check", "leak = str.format('{0.__class__}', 1)"),
    ("f-string attribute", "check", "leak = f'{().__class__.__base__.__subclasses__()}'"),
    ("generator gi_frame and f_globals", "check",
     "g = (i for i in [1])\n" + OPEN_FROM.format(globals="g.gi_frame.f_globals")),
    ("generator gi_code", "check", "g = (i for i in [1])\ncode = g.gi_code.co_consts"),
    ("frame builtins", "check",
     "g = (i for i in [1])\ng.gi_frame.f_builtins['open']('CANARY', 'w')"),
    ("coroutine cr_frame", "check",
     "async def c():\n    pass\nc().cr_frame.f_builtins['open']('CANARY', 'w')"),
    ("getattr with built strings", "check",
     "b = getattr(len, '__se' + 'lf__')\ngetattr(b, 'op' + 'en')('CANARY', 'w')"),
    ("import statement", "check", "import os\nos.system('touch CANARY')"),
    ("from-import", "check", "from os import system\nsystem('touch CANARY')"),
    ("__import__", "check", "__import__('os').system('touch CANARY')"),
    ("open", "check", "open('CANARY', 'w').write('x')"),
    ("open under another name", "run", "make = open\nmake('CANARY', 'w')"),
    ("eval", "check", "eval(\"__import__('os').system('touch CANARY')\")"),
    ("exec", "check", "exec(\"open('CANARY', 'w')\")"),
    ("compile", "check", "exec(compile(\"open('CANARY', 'w')\", 's', 'exec'))"),
    ("eval fetched from a list", "run", "[eval][0](\"open('CANARY', 'w')\")"),
    ("type() creating a class", "check",
     "T = type('T', (), {'run': lambda self: open('CANARY', 'w')})\nT().run()"),
    ("class with a metaclass", "check",
     "class Meta(type):\n    def __init__(cls, *args):\n        open('CANARY', 'w')\n"
     "class X(metaclass=Meta):\n    pass"),
    ("decorator", "check", "@(lambda f: open('CANARY', 'w'))\ndef g():\n    pass"),
    ("lambda __closure__", "check",
     "def outer():\n    opener = open\n    return lambda: opener\n"
     "outer().__closure__[0].cell_contents('CANARY', 'w')"),
    ("exception __traceback__ and tb_frame", "check",
     "try:\n    1 / 0\nexcept Exception as e:\n"
     "    e.__traceback__.tb_frame.f_builtins['open']('CANARY', 'w')"),
    ("traceback from sys.exc_info", "check",
     "try:\n    1 / 0\nexcept Exception:\n"
     "    sys.exc_info()[2].tb_frame.f_builtins['open']('CANARY', 'w')"),
    ("object.__reduce_ex__", "check",
     "f = (1).__reduce_ex__(2)[0]\n" + OPEN_FROM.format(globals="f.__globals__")),
    ("mro to object", "check", WALK.format(base="int.mro()[-1]")),
    ("class dict through a mapping proxy", "check",
     WALK.format(base="type.__dict__['__base__'].__get__(int)")),
    ("print redirected to a file", "check", "print('x', file=open('CANARY', 'w'))"),
    ("os through sys.modules", "run", "sys.modules['os'].system('touch CANARY')"),
    ("string.Formatter", "run", "string.Formatter().vformat('{0.__class__}', [1], {})"),
    ("attribute of str.maketrans", "check",
     WALK.format(base="str.maketrans.__self__.__class__.__base__")),
    ("vars()", "check", OPEN_FROM.format(globals="vars()")),
    ("dir()", "check", "names = dir()"),
    ("globals()", "check", OPEN_FROM.format(globals="globals()")),
    ("locals()", "check", OPEN_FROM.format(globals="locals()")),
    ("assignment to __class__", "check", "x = []\nx.__class__ = dict"),
    ("star-unpacking an iterator of classes", "check",
     "head, *tail = ().__class__.__base__.__subclasses__()\n"
     + WALK.format(base="head.__base__")),
    ("rebinding a guard", "check", "_getattr_ = lambda obj, name: 1\nx = ().y"),
    ("rebinding a guard through global", "check",
     "def f():\n    global _write_\n    _write_ = lambda obj: obj\nf()"),
    ("rebinding a guard with a walrus", "check", "(_getitem_ := lambda obj, key: open)"),
    ("match class pattern on a dunder", "check",
     "match 1:\n    case int(__class__=c):\n        pass"),
    ("leaving the interpreter", "run", "raise SystemExit(0)"),
    ("writing a function's attributes", "run", "def f():\n    pass\nf.defaults = (open,)"),
]


@pytest.mark.parametrize(("stage", "script"), [case[1:] for case in ESCAPES],
                         ids=[case[0] for case in ESCAPES])
def test_escape_attempts_fail_without_side_effects(stage: str, script: str,
                                                   tmp_path: Path) -> None:
    canary = tmp_path / "canary"
    script = script.replace("CANARY", str(canary))
    assert bool(check_script(script)) == (stage == "check")
    with pytest.raises(ScriptError):
        run(script)
    assert not canary.exists()
    assert_sandbox_still_works()


def test_run_time_guards_back_up_the_check() -> None:
    guards = script_globals({}, {})
    assert guards["_getattr_"]([], "append") is not None
    for obj, name in [("", "format"), ("", "format_map"), ((), "__class__"),
                      (len, "__self__"), (None, "gi_frame"), (int, "mro")]:
        with pytest.raises(Refused):
            guards["_getattr_"](obj, name)
    with pytest.raises(Refused):
        guards["_getitem_"]({"__builtins__": 1}, "__builtins__")
    assert "open" not in guards["__builtins__"]


def test_refused_names_give_a_clear_message() -> None:
    with pytest.raises(ScriptError) as caught:
        run("x = 1\nmake = open")
    assert str(caught.value) == "line 2: 'open' is not allowed"


def open_files() -> list[str]:
    """What the process's descriptors point at, read without opening a new one."""
    links = []
    for fd in range(256):
        with contextlib.suppress(OSError):
            links.append(os.readlink(f"/proc/self/fd/{fd}"))
    return links


def test_the_child_holds_none_of_the_parents_files(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    with secret.open("w"):
        assert str(secret) in open_files()
        links = run("links = open_files()", functions={"open_files": open_files})["links"]
    assert str(secret) not in links
    assert len(links) == 4  # stdin, stdout, stderr on /dev/null, and the pipe


def test_even_trusted_functions_cannot_open_files_in_the_child(tmp_path: Path) -> None:
    target = tmp_path / "written.txt"
    with pytest.raises(ScriptError, match="Too many open files"):
        run("write()", functions={"write": lambda: target.open("w")})
    assert not target.exists()


def test_a_child_that_floods_its_pipe_is_cut_off() -> None:
    # stands in for a script that escaped the language layer and writes to the pipe itself
    def flood() -> None:
        while True:
            os.write(3, b"x" * 65536)

    with pytest.raises(ScriptError) as caught:
        run("flood()", functions={"flood": flood})
    assert str(caught.value) == ("the variables take more than 2 MiB as JSON: nothing of this "
                                 "step was kept")
    assert_sandbox_still_works()


@pytest.mark.parametrize("report", [b'["variables"]', b'{"error": {"line": "1"}}', b"{"])
def test_a_malformed_report_is_not_trusted(report: bytes) -> None:
    def forge() -> None:
        os.write(3, report)
        os._exit(0)

    with pytest.raises(ScriptError, match="ended unexpectedly"):
        run("forge()", functions={"forge": forge})


# --- limits -------------------------------------------------------------------------------------

def test_infinite_loop_hits_the_cpu_limit() -> None:
    with pytest.raises(ScriptError) as caught:
        run("x = 1\ny = 2\nwhile True: x = -x")
    assert str(caught.value) == "line 3: CPU time limit of 0.5 s exceeded"
    assert_sandbox_still_works()


def test_the_cpu_limit_cannot_be_caught_by_the_script() -> None:
    script = ("while True:\n    try:\n        while True:\n            pass\n"
              "    except:\n        pass")
    with pytest.raises(ScriptError, match="CPU time limit"):
        run(script)
    assert_sandbox_still_works()


def test_a_long_call_in_c_is_stopped_by_the_cpu_rlimit() -> None:
    # list.sort never returns to the interpreter, so the line-reporting timer cannot fire;
    # the list is built in C too, so that even a slow machine is well inside the sort when
    # the limit comes; the strings share a long prefix so that the sort takes many seconds,
    # well past the rlimit (short ones sorted in about a second, and it sometimes returned
    # to the interpreter before the rlimit came)
    script = ("x = [str((i * 7919) % 100003).zfill(2000) for i in range(2000)] * 5000\n"
              "x.sort()")
    limits = ScriptLimits(cpu_seconds=0.2, memory_bytes=512 * 2**20, wall_seconds=10)
    with pytest.raises(ScriptError) as caught:
        run(script, limits=limits)
    assert (caught.value.line, caught.value.message) == (None, "CPU time limit of 0.2 s exceeded")
    assert_sandbox_still_works()


@pytest.mark.parametrize(("script", "line"), [
    ("x = 'a' * 10**10", 1),
    ("x = [0] * 10**10", 1),
    ("s = 'ab'\nwhile True:\n    s = s + s", 3),
    ("x = []\nwhile True:\n    x.append(str(len(x)) * 10000)", 3),
], ids=["string", "list", "doubling", "growing list"])
def test_memory_bombs_hit_the_memory_limit(script: str, line: int) -> None:
    with pytest.raises(ScriptError) as caught:
        run(script)
    assert str(caught.value) == f"line {line}: memory limit of 64 MiB exceeded"
    assert_sandbox_still_works()


def test_recursion_fails_cleanly() -> None:
    with pytest.raises(ScriptError) as caught:
        run("def f(n):\n    return f(n + 1)\nf(0)")
    assert str(caught.value) == "line 2: maximum recursion depth exceeded"


def test_a_blocked_script_is_killed_at_the_wall_clock_limit() -> None:
    limits = ScriptLimits(cpu_seconds=0.5, memory_bytes=64 * 2**20, wall_seconds=0.3)
    with pytest.raises(ScriptError) as caught:
        run("wait(60)", limits=limits, functions={"wait": time.sleep})
    assert str(caught.value) == "wall-clock time limit of 0.3 s exceeded"
    assert_sandbox_still_works()


def test_limits_are_never_set_on_the_calling_process() -> None:
    kinds = (resource.RLIMIT_AS, resource.RLIMIT_CPU, resource.RLIMIT_FSIZE)
    before = [resource.getrlimit(kind) for kind in kinds]
    with pytest.raises(ScriptError):
        run("x = 'a' * 10**10")
    assert [resource.getrlimit(kind) for kind in kinds] == before


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        ScriptLimits(cpu_seconds=0)


# --- threads ------------------------------------------------------------------------------------

def test_concurrent_runs_from_threads_keep_their_own_results() -> None:
    def one(n: int) -> int:
        result: int = run("y = x * x", {"x": n})["y"]
        return result

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert list(pool.map(one, range(40))) == [n * n for n in range(40)]


def test_limits_hold_in_a_child_forked_from_a_thread() -> None:
    errors: list[ScriptError] = []

    def spin() -> None:
        try:
            run("x = 0\ny = 1\nwhile True: x += y")
        except ScriptError as exc:
            errors.append(exc)

    thread = threading.Thread(target=spin)
    thread.start()
    thread.join()
    assert [str(error) for error in errors] == ["line 3: CPU time limit of 0.5 s exceeded"]
