"""Service tasks: named, vetted Python functions a park's diagrams may call.

A ``bpmn:serviceTask`` names its service with the ``camunda:properties`` property ``service``;
nothing else is callable from a diagram. A service receives a copy of the task's data and
returns the variables to set (JSON values only).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.BpmnParser import full_tag
from SpiffWorkflow.bpmn.parser.event_parsers import SendTaskParser
from SpiffWorkflow.bpmn.specs.defaults import SendTask, ServiceTask
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.camunda.parser.CamundaParser import CamundaParser
from SpiffWorkflow.camunda.parser.task_spec import CallActivityParser, CamundaTaskParser

from .connectors import HTTP_TOPIC, is_http
from .decision_task import ParkBusinessRuleTask, ParkBusinessRuleTaskParser
from .decisions import DecisionSet
from .errors import EngineError, ExpressionError
from .mappings import ParkCallActivity

Service = Callable[[Mapping[str, Any], Mapping[str, str]], Mapping[str, Any]]
SERVICES: dict[str, Service] = {}


class ServiceFailed(EngineError):
    """A service task's function refused its input or failed."""


def register_service(name: str) -> Callable[[Service], Service]:
    """Make a function callable from service tasks as ``name``."""

    def add(function: Service) -> Service:
        SERVICES[name] = function
        return function

    return add


@register_service("record_time")
def record_time(data: Mapping[str, Any], properties: Mapping[str, str]) -> Mapping[str, Any]:
    """Store the current UTC time in the variable named by the ``variable`` property."""
    variable = properties.get("variable", "recorded_at")
    return {variable: datetime.now(UTC).isoformat()}


def call_service(task: Any, properties: Mapping[str, str]) -> None:
    """Call the service ``properties`` name with the task's data and merge what it returns."""
    name = properties.get("service", "")
    services: Mapping[str, Service] = getattr(
        task.workflow.script_engine.environment, "services", SERVICES)
    function = services.get(name)
    try:
        if function is None:
            raise ServiceFailed(f"no service named '{name}' is registered")
        result = function(dict(task.data), properties)
    except Exception as exc:  # a service's failure is this step's failure, not a crash
        raise WorkflowTaskException(f"service '{name}' failed: {exc}", task=task,
                                    exception=exc) from exc
    task.data.update(result)


class ParkServiceTask(ServiceTask):
    """A service task that calls its registered service and merges what it returns.

    An external one (``camunda:type="external"``, ``topic`` set) calls nothing: it waits,
    started, for an outside worker to complete it (see ``external``); so does one calling
    the HTTP connector (``service=http``, see ``connectors``), under a reserved topic.
    """

    topic: str | None = None

    def _execute(self, task: Any) -> bool | None:
        if self.topic is not None:
            return None  # SpiffWorkflow leaves a task whose run returns None started
        call_service(task, self.extensions or {})
        return True


class ParkServiceTaskParser(CamundaTaskParser):
    """The Camunda task parser, keeping an external service task's topic on its spec."""

    def create_task(self) -> Any:
        task = super().create_task()
        if self.attribute("type", "camunda") == "external":
            task.topic = (self.attribute("topic", "camunda") or "").strip()
        elif is_http(self.parse_extensions()):
            # the HTTP connector waits like an external task; the store's worker calls
            task.topic = HTTP_TOPIC
        return task


class ParkSendTask(SendTask):
    """A send task: calls the registered service it names, if any, then throws its message.

    The message carries a copy of the task's data, as SpiffWorkflow's send task does, with the
    correlation its correlation properties compute from it; a send task with
    ``camunda:inputOutput`` input parameters sends those variables only (its local variables,
    what a Camunda send task's implementation sees), so no more of the application leaves it
    than the diagram names.
    """

    # the input parameters' names, set where the mappings are wired (listeners.attach_hooks)
    payload_names: tuple[str, ...] = ()

    def _run_hook(self, my_task: Any) -> bool:
        if (self.extensions or {}).get("service"):
            call_service(my_task, self.extensions)
        try:
            if not self.payload_names:
                return bool(super()._run_hook(my_task))
            self._throw_named(my_task)
            return True
        except ExpressionError as exc:
            # SpiffWorkflow computes a send task's correlation outside its error wrapping
            raise WorkflowTaskException(f"the message's correlation: {exc}", task=my_task,
                                        exception=exc) from exc


    def _throw_named(self, my_task: Any) -> None:
        # SpiffWorkflow's message throw, over the named variables instead of all the data
        definition = self.event_definition
        payload = {name: copy.deepcopy(my_task.data[name])
                   for name in self.payload_names if name in my_task.data}
        correlations = definition.get_correlations(my_task, payload)
        my_task.workflow.correlations.update(correlations)
        my_task.workflow.top_workflow.catch(
            BpmnEvent(definition, payload=payload, correlations=correlations))


class ParkSendTaskParser(SendTaskParser):
    """SpiffWorkflow's send task parser, reading ``camunda:properties`` like every other task."""

    def parse_extensions(self, node: Any = None) -> dict[str, str]:
        path = ".//bpmn:extensionElements/camunda:properties/camunda:property"
        return {prop.get("name"): prop.get("value") for prop in self.xpath(path)}


class ParkParser(CamundaParser):
    """The Camunda parser with Parkflow's service tasks, decisions and mapped call activities."""

    OVERRIDE_PARSER_CLASSES = {
        **CamundaParser.OVERRIDE_PARSER_CLASSES,
        full_tag("serviceTask"): (ParkServiceTaskParser, ParkServiceTask),
        full_tag("businessRuleTask"): (ParkBusinessRuleTaskParser, ParkBusinessRuleTask),
        full_tag("callActivity"): (CallActivityParser, ParkCallActivity),
        full_tag("sendTask"): (ParkSendTaskParser, ParkSendTask),
    }

    def __init__(self, decisions: DecisionSet | None = None) -> None:
        super().__init__()
        self.decisions = decisions or DecisionSet(())
