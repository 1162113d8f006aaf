"""Run the Python of script tasks, which parks write themselves, without trusting it.

Threat model: a script task is tenant code. Whoever can deploy a park's BPMN (a park
administrator, or anyone holding such an account) writes Python that runs in the web and
worker processes serving every park. A script must not reach anything but its own
variables (files, network, environment, database connections, interpreter internals, other
parks' data), must not change the process it runs in, and must not take more than its share
of CPU time, memory or wall-clock time. Inside those bounds it is ordinary Python over
JSON-like data: arithmetic, strings, lists and dicts, loops, comprehensions, its own
functions, f-strings.

Two layers, each stopping what the other cannot:

1. Language (``engine.script_policy``). ``check_script`` compiles with RestrictedPython
   and a narrower policy: no imports, classes or decorators; no name or attribute starting
   with "_" (which closes the ``__class__``/``__subclasses__``/``__globals__`` walks); none
   of the frame, code, generator and traceback attributes (``gi_frame``, ``f_back``,
   ``tb_frame`` ...); no ``str.format``/``format_map``, whose format strings read
   attributes; no calls of ``eval``, ``exec``, ``open``, ``getattr``, ``type``, ``vars``,
   ``dir`` and their kin. At run time attribute and item access, iteration, unpacking and
   in-place operators go through guards, and the builtins are a short allow-list.
   ``isinstance`` is on it: scripts cannot define classes, so no ``__instancecheck__`` of
   theirs can run.
2. Process. ``run_script`` forks. The child closes every inherited file descriptor but its
   pipe, lowers RLIMIT_AS to its current size plus ``memory_bytes``, arms a CPU-time timer
   (SIGPROF, whose handler reports the script line and exits) and, for code stuck in one
   long C call, a slightly higher RLIMIT_CPU; it runs the script, writes the variables to the
   pipe as JSON and leaves with ``os._exit``, so nothing the script changed survives. The
   parent kills it after ``wall_seconds``. No limit is ever set on the calling process.

The child of a multi-threaded process has only the forking thread and may find locks held
by threads that no longer exist, so it does only simple things: no imports, no logging, no
I/O but its pipe. Whatever still blocks it is ended by the wall-clock kill.

Results are the script's top-level variables. Names starting with "_", callables and modules
are dropped; tuples become lists. Any other value that is not None, bool, int, finite float,
str, list or dict with str keys fails the run with a message naming the variable, rather
than being lost silently. Variables starting with "_" are not passed in either. Functions
given in ``functions`` are trusted code; they run in the child under the same limits, so
they must not use the caller's open connections.
"""

from __future__ import annotations

import gc
import json
import logging
import math
import mmap
import os
import resource
import select
import signal
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import CodeType, FrameType, TracebackType
from typing import Any, NoReturn

from .script_policy import (
    DENIED_CALLS,
    FILENAME,
    NotStorableError,
    Refused,
    ScriptOutput,
    compile_script,
    export_variables,
    script_globals,
)

_MESSAGE_CHARS = 300
# address space reserved (never touched, so it costs no time) and given back on MemoryError
# so that the child can still report
_BALLAST_BYTES = 2 * 2**20
_PIPE_FD = 3
_EXIT_NO_MEMORY = 3
_EXIT_CRASHED = 4
_SUCCESS_KEYS = frozenset({"variables", "output", "dropped"})
# what scripts print(), one record per line
_log = logging.getLogger("parkflow.scripts")


@dataclass(frozen=True)
class ScriptLimits:
    """What one run of a script may use; each limit applies to each run."""

    cpu_seconds: float = 1.0  # CPU time per script
    memory_bytes: int = 256 * 2**20  # extra address space allowed per script
    wall_seconds: float = 3.0  # hard wall-clock kill
    output_bytes: int = 2 * 2**20  # the variables a script leaves, as JSON

    def __post_init__(self) -> None:
        if not (self.cpu_seconds > 0 and self.memory_bytes > 0 and self.wall_seconds > 0
                and self.output_bytes > 0):
            raise ValueError(f"script limits must be positive: {self}")


DEFAULT_LIMITS = ScriptLimits()


class ScriptError(Exception):
    """A script was refused or failed; ``line`` is its line number when known."""

    def __init__(self, line: int | None, message: str) -> None:
        self.line = line
        self.message = message
        super().__init__(f"line {line}: {message}" if line else message)


def check_script(script: str) -> list[tuple[int | None, str]]:
    """Compile-only check used at deploy time: [(line, message)] for every problem (syntax errors,
    imports, dunder names/attributes, forbidden constructs). Empty list = OK."""
    compiled = compile_script(script)
    return [] if isinstance(compiled, CodeType) else list(compiled)


# --- the process: the forked child ------------------------------------------------------------

class _Child:
    """The forked process: isolates itself, runs the script, reports once, exits."""

    def __init__(self, fd: int, limits: ScriptLimits) -> None:
        self.fd = fd
        self.limits = limits
        self.reported = False
        self.ballast = mmap.mmap(-1, _BALLAST_BYTES)

    def run(self, code: CodeType, data: Mapping[str, Any],
            functions: Mapping[str, Any]) -> NoReturn:
        """Run ``code`` and report its variables or its failure to the parent."""
        try:
            self._isolate()
        except Exception as exc:  # fail closed: never run a script without its limits
            self.fail(None, f"the script sandbox could not start: {exc}")
        namespace = script_globals(data, functions)
        try:
            exec(code, namespace)
        except MemoryError as exc:
            self.ballast.close()
            self.fail(_traceback_line(exc.__traceback__), _memory_message(self.limits))
        except BaseException as exc:
            self.fail(_traceback_line(exc.__traceback__), _describe(exc))
        self._succeed(namespace)

    def fail(self, line: int | None, message: str) -> NoReturn:
        """Report a failure and exit."""
        self._send(json.dumps({"error": {"line": line, "message": message}}).encode())

    def _isolate(self) -> None:
        self._close_descriptors()
        # a full collection would otherwise walk (and bill to the script) the parent's heap
        gc.freeze()
        sys.settrace(None)
        sys.setprofile(None)
        signal.set_wakeup_fd(-1)  # the parent's wakeup descriptor is closed now
        for number in (signal.SIGINT, signal.SIGTERM, signal.SIGALRM):
            signal.signal(number, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGPROF, signal.SIGXCPU})
        signal.signal(signal.SIGPROF, self._on_cpu_limit)
        cpu = math.ceil(self.limits.cpu_seconds + 0.5)
        _lower_limit(resource.RLIMIT_CPU, cpu, cpu + 1)
        _lower_limit(resource.RLIMIT_AS, _address_space() + self.limits.memory_bytes)
        for kind, most in ((resource.RLIMIT_FSIZE, 0), (resource.RLIMIT_CORE, 0),
                           (resource.RLIMIT_NPROC, 0), (resource.RLIMIT_NOFILE, _PIPE_FD + 1)):
            _lower_limit(kind, most)
        signal.setitimer(signal.ITIMER_PROF, self.limits.cpu_seconds)
        # ends the child even if its parent died before it could kill it
        signal.setitimer(signal.ITIMER_REAL, self.limits.wall_seconds + 1)

    def _close_descriptors(self) -> None:
        """Keep only the pipe, as descriptor 3, and /dev/null as 0-2.

        The parent's database and client sockets must be out of reach, and another run's pipe
        inherited by this fork must not be held open. With RLIMIT_NOFILE at 4 afterwards, code
        that got hold of open() or socket() finds no free descriptor either.
        """
        os.dup2(self.fd, _PIPE_FD)
        self.fd = _PIPE_FD
        os.closerange(_PIPE_FD + 1, max(os.sysconf("SC_OPEN_MAX"), _PIPE_FD + 1))
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.close(devnull)

    def _on_cpu_limit(self, signum: int, frame: FrameType | None) -> None:
        # exits from inside the handler: a script's own try/except cannot swallow the limit
        if not self.reported:
            self.fail(_frame_line(frame), _cpu_message(self.limits))

    def _succeed(self, namespace: dict[str, Any]) -> NoReturn:
        try:
            variables = export_variables(namespace)
            report: dict[str, Any] = {"variables": variables}
            output = namespace.get("_print_")
            if isinstance(output, ScriptOutput) and (output.lines or output.dropped):
                report["output"] = output.lines
                report["dropped"] = output.dropped
            payload = json.dumps(report, allow_nan=False).encode()
        except NotStorableError as exc:
            self.fail(None, str(exc))
        except MemoryError:
            self.ballast.close()
            self.fail(None, _memory_message(self.limits))
        except ValueError as exc:  # e.g. an int too long to write out
            self.fail(None, f"the variables cannot be stored: {exc}")
        self._send(payload)

    def _send(self, payload: bytes) -> NoReturn:
        self.reported = True
        signal.setitimer(signal.ITIMER_PROF, 0)
        self.ballast.close()
        view = memoryview(payload)
        while view:
            view = view[os.write(self.fd, view):]
        os._exit(0)


def _run_child(fd: int, code: CodeType, data: Mapping[str, Any],
               functions: Mapping[str, Any], limits: ScriptLimits) -> NoReturn:
    # whatever happens, the child must never return into the caller's code
    try:
        _Child(fd, limits).run(code, data, functions)
    except MemoryError:
        os._exit(_EXIT_NO_MEMORY)
    finally:
        os._exit(_EXIT_CRASHED)


def _lower_limit(kind: int, soft: int, hard: int | None = None) -> None:
    """Set a limit, never above what the operator set already."""
    current = resource.getrlimit(kind)
    hard = soft if hard is None else hard
    if current[1] != resource.RLIM_INFINITY:
        hard = min(hard, current[1])
    if current[0] != resource.RLIM_INFINITY:
        soft = min(soft, current[0])
    resource.setrlimit(kind, (min(soft, hard), hard))


def _address_space() -> int:
    """Bytes of address space mapped now (Linux: first field of /proc/self/statm)."""
    fd = os.open("/proc/self/statm", os.O_RDONLY)
    try:
        pages = int(os.read(fd, 200).split()[0])
    finally:
        os.close(fd)
    return pages * os.sysconf("SC_PAGE_SIZE")


def _describe(exc: BaseException) -> str:
    """One line saying what went wrong, without the traceback."""
    if isinstance(exc, Refused):
        return str(exc)
    if isinstance(exc, NameError) and exc.name in DENIED_CALLS:
        return f"{exc.name!r} is not allowed"
    if isinstance(exc, RecursionError):
        return "maximum recursion depth exceeded"
    text = " ".join(str(exc)[: 2 * _MESSAGE_CHARS].split())
    return (f"{type(exc).__name__}: {text}" if text else type(exc).__name__)[:_MESSAGE_CHARS]


def _traceback_line(tb: TracebackType | None) -> int | None:
    """The line of the innermost script frame of a traceback."""
    line = None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == FILENAME:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def _frame_line(frame: FrameType | None) -> int | None:
    """The line of the innermost script frame at or above ``frame``."""
    while frame is not None:
        if frame.f_code.co_filename == FILENAME:
            return frame.f_lineno
        frame = frame.f_back
    return None


def _cpu_message(limits: ScriptLimits) -> str:
    return f"CPU time limit of {limits.cpu_seconds} s exceeded"


def _wall_message(limits: ScriptLimits) -> str:
    return f"wall-clock time limit of {limits.wall_seconds} s exceeded"


def _memory_message(limits: ScriptLimits) -> str:
    return f"memory limit of {_mib(limits)} MiB exceeded"


def _mib(limits: ScriptLimits) -> str:
    return f"{limits.memory_bytes / 2**20:g}"


# --- the process: the caller's side -----------------------------------------------------------

@dataclass(frozen=True)
class _Exit:
    payload: bytes
    status: int | None  # wait status; None if someone else reaped the child
    cpu_seconds: float
    cut_short: str | None  # why the parent stopped reading and killed the child


def run_script(script: str, data: dict[str, Any], *, limits: ScriptLimits = DEFAULT_LIMITS,
               functions: Mapping[str, Callable[..., Any]] | None = None) -> dict[str, Any]:
    """Run ``script`` with ``data`` as its variables; return the new variables (JSON-compatible
    values only; callables/modules/underscore names dropped). Raises ScriptError(line, message)
    on any failure."""
    code = compile_script(script)
    if not isinstance(code, CodeType):
        line, message = code[0]
        more = f" (and {len(code) - 1} more problems)" if len(code) > 1 else ""
        raise ScriptError(line, message + more)
    reader, writer = os.pipe()
    try:
        pid = os.fork()
    except OSError as exc:
        os.close(reader)
        os.close(writer)
        raise ScriptError(None, f"the script sandbox could not start: {exc.strerror}") from exc
    if pid == 0:
        _run_child(writer, code, data, dict(functions or {}), limits)
    os.close(writer)
    try:
        ended = _await_child(pid, reader, limits)
    finally:
        os.close(reader)
    return _variables(ended, limits)


def _await_child(pid: int, reader: int, limits: ScriptLimits) -> _Exit:
    try:
        # a legitimate result is far smaller than the child's memory; an escaped script
        # must not be able to fill the caller's
        payload, cut_short = _read(reader, time.monotonic() + limits.wall_seconds,
                                   most=min(limits.output_bytes, limits.memory_bytes))
    except BaseException:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        raise
    if cut_short:
        os.kill(pid, signal.SIGKILL)
    try:
        _, status, usage = os.wait4(pid, 0)
    except ChildProcessError:
        return _Exit(payload, None, 0.0, cut_short)
    return _Exit(payload, status, usage.ru_utime + usage.ru_stime, cut_short)


def _read(reader: int, deadline: float, most: int) -> tuple[bytes, str | None]:
    """Everything the child writes, or why reading stopped early ("time" or "size")."""
    poller = select.poll()  # not select(): a busy server has descriptors above 1024
    poller.register(reader, select.POLLIN)
    chunks: list[bytes] = []
    size = 0
    while (remaining := deadline - time.monotonic()) > 0:
        if poller.poll(math.ceil(remaining * 1000)):
            chunk = os.read(reader, 1 << 16)
            if not chunk:
                return b"".join(chunks), None
            size += len(chunk)
            if size > most:
                return b"", "size"
            chunks.append(chunk)
    return b"", "time"


def _variables(ended: _Exit, limits: ScriptLimits) -> dict[str, Any]:
    """The child's variables, or the ScriptError that explains its end."""
    if ended.cut_short == "time":
        raise ScriptError(None, _wall_message(limits))
    if ended.cut_short == "size":
        most = min(limits.output_bytes, limits.memory_bytes) / 2**20
        raise ScriptError(None, f"the variables take more than {most:g} MiB as JSON: nothing "
                                "of this step was kept")
    status = ended.status
    if status is not None and os.WIFSIGNALED(status):
        raise ScriptError(None, _killed_message(os.WTERMSIG(status), ended.cpu_seconds, limits))
    if status is not None and os.WEXITSTATUS(status) == _EXIT_NO_MEMORY:
        raise ScriptError(None, _memory_message(limits))
    report = _decode(ended.payload)
    if report is None:
        code = "unknown" if status is None else os.WEXITSTATUS(status)
        raise ScriptError(None, f"the script sandbox ended unexpectedly (exit status {code})")
    if "error" in report:
        raise ScriptError(report["error"]["line"], report["error"]["message"])
    if report.get("output"):
        for line in report["output"]:
            _log.info("script output: %s", line)
        if report.get("dropped"):
            _log.info("script output: %d more lines not kept", report["dropped"])
    variables: dict[str, Any] = report["variables"]
    return variables


def _decode(payload: bytes) -> dict[str, Any] | None:
    """The child's report if it has the expected shape; the child is not trusted to."""
    try:
        report = json.loads(payload)
    except ValueError:
        return None
    if not isinstance(report, dict):
        return None
    if isinstance(report.get("variables"), dict) and set(report) <= _SUCCESS_KEYS:
        output, dropped = report.get("output", []), report.get("dropped", 0)
        if (isinstance(output, list) and all(isinstance(line, str) for line in output)
                and isinstance(dropped, int)):
            return report
        return None
    if len(report) != 1:
        return None
    error = report.get("error")
    if (isinstance(error, dict) and isinstance(error.get("message"), str)
            and isinstance(error.get("line"), int | None)):
        return report
    return None


def _killed_message(number: int, cpu_seconds: float, limits: ScriptLimits) -> str:
    # SIGKILL is also the hard RLIMIT_CPU; the child's CPU time tells it from other killers
    if number in (signal.SIGXCPU, signal.SIGPROF) or (
            number == signal.SIGKILL and cpu_seconds >= limits.cpu_seconds):
        return _cpu_message(limits)
    if number == signal.SIGALRM:
        return _wall_message(limits)
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    return f"the script sandbox was killed by {name}"


__all__ = ["DEFAULT_LIMITS", "ScriptError", "ScriptLimits", "check_script", "run_script"]
