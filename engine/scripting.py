"""The script engine SpiffWorkflow calls: expressions by allow-list, scripts in the sandbox."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import BasePythonScriptEngineEnvironment

from .errors import ExpressionError
from .expressions import compile_expression
from .sandbox import ScriptError, ScriptLimits, run_script
from .services import SERVICES, Service


class ScriptsDisabled(Exception):
    """Raised inside a script task when the park has switched scripts off."""


class ParkEnvironment(BasePythonScriptEngineEnvironment):
    """Evaluates every expression with the allow-list evaluator and runs scripts sandboxed."""

    def __init__(self, functions: Mapping[str, Callable[..., Any]], *, scripts_enabled: bool,
                 limits: ScriptLimits) -> None:
        super().__init__({})
        self.functions = dict(functions)
        self.scripts_enabled = scripts_enabled
        self.limits = limits
        # who a group's members are, when an approval node signs by them (engine.approval)
        self.group_members: Callable[[str], Sequence[str]] | None = None

    def evaluate(self, expression: str, context: Mapping[str, Any],
                 external_context: Mapping[str, Any] | None = None) -> Any:
        variables = {**context, **external_context} if external_context else context
        return compile_expression(expression).evaluate(variables, self.functions)

    def execute(self, script: str, context: dict[str, Any],
                external_context: Mapping[str, Any] | None = None) -> bool:
        if not self.scripts_enabled:
            raise ScriptsDisabled("scripts are switched off in this park")
        variables = {**context, **(external_context or {})}
        result = run_script(script, variables, limits=self.limits)
        context.clear()
        context.update(result)
        return True

    @property
    def services(self) -> Mapping[str, Service]:
        """The functions service tasks may call."""
        return SERVICES


class ParkScriptEngine(PythonScriptEngine):
    """Keeps SpiffWorkflow's error wrapping but validates with the allow-list parser."""

    def __init__(self, environment: ParkEnvironment) -> None:
        super().__init__(environment=environment)

    def validate(self, expression: str) -> None:
        try:
            compile_expression(expression)
        except ExpressionError as exc:
            raise SyntaxError(exc.reason) from exc


__all__ = ["ParkEnvironment", "ParkScriptEngine", "ScriptError", "ScriptsDisabled"]
