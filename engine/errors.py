"""The engine's exceptions: each carries its facts as attributes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a deployment, located by BPMN element id and source line.

    ``file`` names the source file when a deployment brings several, so that an element id
    used in two files still points at one place. Deploy warnings are Problems too: the same
    location, printed with ``warning:`` before the message.

    ``code`` names the kind of problem (``unknown_service``, ``call_cycle``, …) and ``params``
    its facts as text, so that a user interface can say it in the user's language; the
    English ``message`` says the same and stays the reference.
    """

    element_id: str
    line: int | None
    message: str
    file: str | None = None
    # what it says, not where: two problems at one place with one message are one problem
    code: str | None = field(default=None, compare=False)
    params: tuple[tuple[str, str], ...] = field(default=(), compare=False)

    @property
    def facts(self) -> dict[str, str]:
        """``params`` as a mapping."""
        return dict(self.params)

    def __str__(self) -> str:
        return self.located(self.message)

    def as_warning(self) -> str:
        """The printed form of a deploy warning."""
        return self.located(f"warning: {self.message}")

    def located(self, text: str) -> str:
        """``element_id:line: text``, with ``(in file)`` when the file is named."""
        line = self.line if self.line is not None else "-"
        where = f" (in {self.file})" if self.file else ""
        return f"{self.element_id or '-'}:{line}: {text}{where}"


class EngineError(Exception):
    """Base of every error the engine raises on purpose."""


class InvalidProcess(EngineError):
    """A deployment was refused; ``problems`` lists every reason at once."""

    def __init__(self, problems: Iterable[Problem], warnings: Iterable[Problem] = ()) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        # what the deploy would also have warned about, had it gone through
        self.warnings: tuple[Problem, ...] = tuple(warnings)
        super().__init__(f"{len(self.problems)} problem(s): " + "; ".join(map(str, self.problems)))


class ExpressionError(EngineError):
    """An expression is not allowed or cannot be evaluated."""

    def __init__(self, expression: str, reason: str) -> None:
        self.expression = expression
        self.reason = reason
        super().__init__(f"{reason} in expression {expression!r}")


class ScriptFailed(EngineError):
    """A script task failed (error, forbidden operation, time or memory limit)."""

    def __init__(self, element_id: str, line: int | None, message: str) -> None:
        self.element_id = element_id
        self.line = line
        self.message = message
        where = f"{element_id}:{line}" if line else element_id
        super().__init__(f"script {where}: {message}")


class EngineFailed(EngineError):
    """A change could not be kept: the engine failed in itself, or the state grew too large.

    Nothing of the change is stored; where a person's completion caused it, that task is left
    in error instead (see `Engine.complete_task`).
    """

    def __init__(self, element_id: str, message: str) -> None:
        self.element_id = element_id
        self.message = message
        super().__init__(f"{element_id}: {message}" if element_id else message)


class TaskNotOpen(EngineError):
    """The task is not waiting for completion (finished, cancelled or unknown)."""

    def __init__(self, task_id: str, reason: str = "the task is no longer open") -> None:
        self.task_id = task_id
        self.reason = reason
        super().__init__(f"task {task_id}: {reason}")


class Conflict(EngineError):
    """Someone else changed the instance first; reload and try again."""

    def __init__(self, message: str = "the application was changed by someone else") -> None:
        self.message = message
        super().__init__(message)


class FormDataInvalid(EngineError):
    """Submitted task data does not satisfy the task's form; ``errors`` maps field to messages."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.errors.items()))


class NotWaiting(EngineError):
    """An event (message, signal) was delivered to an instance that does not wait for it."""

    def __init__(self, what: str) -> None:
        self.what = what
        super().__init__(f"nothing in this application waits for {what}")


class CannotReturn(EngineError):
    """A return (退回) to ``target`` is not possible from this task; ``reason`` says why."""

    def __init__(self, target: str, reason: str) -> None:
        self.target = target
        self.reason = reason
        super().__init__(f"cannot return to {target!r}: {reason}")
