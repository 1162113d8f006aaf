"""Business rule tasks that take their decision through :mod:`engine.decisions`."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.camunda.parser.task_spec import BusinessRuleTaskParser
from SpiffWorkflow.camunda.specs.business_rule_task import BusinessRuleTask

from .decisions import DecisionSet


class ParkBusinessRuleTask(BusinessRuleTask):
    """Sets each output as a variable, replacing what it held.

    SpiffWorkflow merges a decision's result into the task data deeply, so a COLLECT list
    would be united with the list an earlier round left; a decision's answer is its own.
    """

    def _run_hook(self, my_task: Any) -> bool:
        try:
            result = self.dmnEngine.result(my_task)
        except Exception as exc:  # a failing decision is this step's failure, not a crash
            raise WorkflowTaskException(str(exc), task=my_task, exception=exc) from exc
        my_task.data.update(result)
        return True


class ParkBusinessRuleTaskParser(BusinessRuleTaskParser):
    """Hands the task the decisions of its process version instead of SpiffWorkflow's DMN."""

    def create_task(self) -> ParkBusinessRuleTask:
        decisions: DecisionSet = getattr(self.process_parser.parser, "decisions", DecisionSet(()))
        return ParkBusinessRuleTask(
            self.spec,
            self.bpmn_id,
            dmnEngine=decisions.engine(self.get_decision_ref(self.node)),
            **self.bpmn_attributes,
        )
