"""Running instances: start, complete a task, deliver a message, fire timers, cancel, retry.

Every operation takes the stored state, acts, runs the engine on, prunes finished history and
returns a `Snapshot` holding the new state and everything the store writes beside it. The
engine keeps no instance in memory between calls: one call is one transaction's worth of work.
"""

from __future__ import annotations

import copy
import dataclasses
import functools
import keyword
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from forms import data_errors

from .approval import progress
from .definitions import BPMN_NS, CAMUNDA_NS, ProcessVersion, SpecCache
from .errors import EngineError, EngineFailed, FormDataInvalid, TaskNotOpen
from .expressions import FUNCTIONS
from .external import complete as complete_external
from .external import external_tasks, is_waiting_external, throw_error, waiting_external
from .limits import Budget, OverBudget, RunLimits, check_reachable
from .messages import awaited_messages, deliver, thrown_messages
from .migration import CannotMigrate, MigrationProblem, place, plan_migration
from .returns import move_back, resume, resume_point, return_problem
from .sandbox import ScriptLimits
from .scripting import ParkEnvironment, ParkScriptEngine
from .serialization import dump_state, load_state, prune
from .tasks import (
    FAILURE,
    TaskWalk,
    all_tasks,
    assign_dates,
    completed_ids,
    open_tasks,
    record_failure,
    step_error,
    step_records,
    stored_failure,
)
from .timers import finish_exhausted_cycles, timer_functions, waiting_timers
from .triggers import has_triggered_subprocesses, private_specs, rewire_started
from .values import ApprovalProgress, Snapshot, Status, StepError, ThrownMessage, TimerWait
from .worktime import WeekendCalendar, WorkCalendar
from .xmlsafe import parse_xml

_DEFAULT_CACHE = SpecCache()
# the outcome a returned task's step records (as a modelled return for correction does)
RETURN_OUTCOME = "return"


class Engine:
    """Runs process versions for one park (its calendar and script policy)."""

    def __init__(
        self,
        *,
        calendar: WorkCalendar | None = None,
        scripts_enabled: bool = True,
        script_limits: ScriptLimits | None = None,
        run_limits: RunLimits | None = None,
        cache: SpecCache | None = None,
    ) -> None:
        self.limits = run_limits or RunLimits()
        # what one script step leaves is bounded by the engine's limit per step
        script_limits = dataclasses.replace(script_limits or ScriptLimits(),
                                            output_bytes=self.limits.max_step_bytes)
        self.calendar: WorkCalendar = calendar or WeekendCalendar()
        self.functions: dict[str, Callable[..., Any]] = {
            **FUNCTIONS, **timer_functions(self.calendar)}
        environment = ParkEnvironment(self.functions, scripts_enabled=scripts_enabled,
                                      limits=script_limits)
        self._script_engine = ParkScriptEngine(environment)
        self._cache = cache or _DEFAULT_CACHE

    def with_people(self, group_members: Callable[[str], Sequence[str]]) -> Engine:
        """This engine, told who a group's members are (an approval node signing by them).

        The engine knows no people: the host asks for this copy for the call that may open
        such a node, with a lookup valid for that call (its transaction).
        """
        environment = copy.copy(self._script_engine.environment)
        environment.group_members = group_members
        clone = copy.copy(self)
        clone._script_engine = ParkScriptEngine(environment)
        return clone

    def start(self, version: ProcessVersion, data: Mapping[str, Any], *,
              actor: str | None = None) -> Snapshot:
        """Start an instance of ``version`` with ``data`` (checked against the start form)."""
        self.check_data(version, version.start_form_key, data)
        spec, subprocess_specs, _ = self._specs(version)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self._script_engine)
        workflow.task_tree.data.update(data)
        initiator = _initiator_variable(version.bpmn, version.key)
        if initiator and actor is not None:
            # set after the form data, so an applicant cannot name someone else
            workflow.task_tree.data[initiator] = actor
        return self._advance(workflow, version, lambda: None, actor=actor)

    def complete_task(self, version: ProcessVersion, state: bytes, task_id: str,
                      data: Mapping[str, Any], *, actor: str | None = None,
                      validate: bool = True) -> Snapshot:
        """Complete an open human task with ``data``, validated against the task's form.

        ``validate=False`` is for the park's automatic rules (a task skipped, approved or
        rejected by its ``camunda:properties``): no person fills the form then.
        """
        workflow = self._load(version, state)
        task = _open_task(workflow, task_id)
        if validate:
            human = version.human_tasks.get(task.task_spec.bpmn_id)
            self.check_data(version, human.form_key if human else None, data)

        def act() -> None:
            task.set_data(**data)
            back_to = resume_point(task)  # a return with 直达 re-entered this task
            task.run()
            if back_to is not None:
                resume(workflow, task, back_to)

        return self._advance(workflow, version, act, actor=actor, completing=task,
                             submitted=data, state=state)

    def return_task(self, version: ProcessVersion, state: bytes, task_id: str, target: str,
                    *, resume_to_me: bool = False, record: Mapping[str, Any] | None = None,
                    actor: str | None = None) -> Snapshot:
        """Return an open user task's application to the earlier user task ``target`` (退回).

        The returning task finishes with outcome ``return`` and ``record`` as its step's data;
        a fresh task of ``target`` opens. With ``resume_to_me`` (直达) that task, once
        completed, leads straight back to the returning step. Raises CannotReturn (with the
        reason) where the move is not supported; see engine/returns.py.
        """
        workflow = self._load(version, state)
        task = _open_task(workflow, task_id)
        snapshot = self._advance(
            workflow, version,
            lambda: move_back(workflow, task, target, resume_to_me=resume_to_me),
            actor=actor, completing=task, submitted=dict(record or {}), state=state)
        steps = tuple(dataclasses.replace(step, outcome=RETURN_OUTCOME)
                      if step.task_id == task_id else step for step in snapshot.steps)
        return dataclasses.replace(snapshot, steps=steps)

    def return_problem(self, version: ProcessVersion, source: str, target: str) -> str | None:
        """Why an open task of ``source`` cannot return to ``target`` (None: it can), judged
        on the diagram (whether other steps are open at the time is checked on returning)."""
        spec, _, _ = self._specs(version)
        return return_problem(spec, source, target)

    def complete_external_task(self, version: ProcessVersion, state: bytes, task_id: str,
                               variables: Mapping[str, Any], *,
                               actor: str | None = None) -> Snapshot:
        """Complete a waiting external task with its worker's ``variables``, and run on."""
        workflow = self._load(version, state)
        task = waiting_external(workflow, task_id)
        self.check_data(version, None, variables)
        return self._advance(workflow, version, lambda: complete_external(task, variables),
                             actor=actor, completing=task, submitted=variables, state=state)

    def throw_external_error(self, version: ProcessVersion, state: bytes, task_id: str,
                             code: str, variables: Mapping[str, Any] | None = None, *,
                             actor: str | None = None) -> Snapshot:
        """Throw BPMN error ``code`` at a waiting external task; ErrorNotCaught if uncaught."""
        workflow = self._load(version, state)
        task = waiting_external(workflow, task_id)
        self.check_data(version, None, variables or {})
        throw_error(task, code, variables or {})
        return self._advance(workflow, version, lambda: None, actor=actor, state=state)

    def deliver_message(self, version: ProcessVersion, state: bytes, name: str,
                        payload: Any, *, actor: str | None = None) -> Snapshot:
        """Deliver BPMN message ``name``; raises NotWaiting when nothing catches it.

        ``payload`` is a dict of variables, or any value a thrown ``camunda:expression`` gave.
        """
        workflow = self._load(version, state)
        body = dict(payload) if isinstance(payload, Mapping) else payload
        return self._advance(workflow, version, lambda: deliver(workflow, name, body),
                             actor=actor)

    def fire_due_timers(self, version: ProcessVersion, state: bytes) -> Snapshot:
        """Let every timer whose time has come fire, and run on."""
        workflow = self._load(version, state)
        return self._advance(workflow, version, workflow.refresh_timers)

    def cancel(self, version: ProcessVersion, state: bytes, *,
               actor: str | None = None) -> Snapshot:
        """Cancel the instance: open tasks, failed steps and timers are withdrawn."""
        workflow = self._load(version, state)
        walk = TaskWalk(workflow)
        # the instance's data stays readable: SpiffWorkflow merges it only on normal completion
        workflow.data.update(_current_data(workflow, walk))
        for task in [t for t in walk.everything if t.state == TaskState.ERROR]:
            task.internal_data.pop(FAILURE, None)
            task._set_state(TaskState.CANCELLED)
        workflow.cancel()
        return self._snapshot(workflow, version, (), status="cancelled")

    def retry(self, version: ProcessVersion, state: bytes, *,
              actor: str | None = None) -> Snapshot:
        """Run failed steps again (after the park fixed the cause, e.g. switched scripts on)."""
        workflow = self._load(version, state)

        def act() -> None:
            for task in [t for t in all_tasks(workflow) if t.state == TaskState.ERROR]:
                task.internal_data.pop(FAILURE, None)
                task._set_state(TaskState.READY)

        return self._advance(workflow, version, act, actor=actor)

    def migration_problems(self, version: ProcessVersion, state: bytes,
                           target: ProcessVersion,
                           mapping: Mapping[str, str] | None = None) -> list[MigrationProblem]:
        """Why the application cannot move from ``version`` to ``target`` (empty: it can).

        ``mapping`` names the target's element for a source element id (renamed elements);
        the others map by id. See engine/migration.py for what moves and what does not.
        """
        return self._migration_plan(version, state, target, mapping or {})[1]

    def migrate(self, version: ProcessVersion, state: bytes, target: ProcessVersion,
                mapping: Mapping[str, str] | None = None, *,
                actor: str | None = None) -> Snapshot:
        """Move the waiting application onto ``target``; CannotMigrate lists why it cannot.

        The snapshot is of the target version: its open task (new id) keeps its dates, its
        waiting timers fire when they would have.
        """
        plan, problems = self._migration_plan(version, state, target, mapping or {})
        if plan is None:
            raise CannotMigrate(problems)
        old = plan.main.workflow
        spec, subprocess_specs, _ = self._specs(target)
        workflow = BpmnWorkflow(spec, subprocess_specs, script_engine=self._script_engine)
        workflow.data.update(old.data)
        workflow.correlations.update(copy.deepcopy(old.correlations))
        return self._advance(workflow, target, lambda: place(workflow, plan), actor=actor)

    def _migration_plan(self, version: ProcessVersion, state: bytes, target: ProcessVersion,
                        mapping: Mapping[str, str]) -> tuple[Any, list[MigrationProblem]]:
        workflow = self._load(version, state)
        spec, subprocess_specs, private = self._specs(target)
        _, _, private_before = self._specs(version)
        return plan_migration(workflow, spec, subprocess_specs, mapping,
                              event_subprocesses=private or private_before)

    def inspect(self, version: ProcessVersion, state: bytes) -> Snapshot:
        """The instance as stored, without changing it."""
        workflow = self._load(version, state)
        error = _earlier_failure(TaskWalk(workflow))
        return self._snapshot(workflow, version, (), status="error" if error else None,
                              error=error, dump=state)

    def approval_progress(self, version: ProcessVersion,
                          state: bytes) -> tuple[ApprovalProgress, ...]:
        """Where each running approval node of the instance stands (signers, decisions)."""
        return progress(TaskWalk(self._load(version, state)).everything, version.human_tasks)

    def task_data(self, version: ProcessVersion, state: bytes, task_id: str) -> dict[str, Any]:
        """The data an open task sees."""
        return dict(_open_task(self._load(version, state), task_id).data)

    def check_data(self, version: ProcessVersion, form_key: str | None,
                   data: Mapping[str, Any]) -> None:
        """Raise FormDataInvalid unless ``data`` may be submitted to a form (server-side check)."""
        schema = version.forms.get(form_key) if form_key else None
        errors = data_errors(schema, data) if schema is not None else {}
        # a reserved name is refused as such, whether or not a form lists it
        errors.update({str(key): ["is a reserved name"] for key in data
                       if not self._allowed_key(key)})
        if errors:
            raise FormDataInvalid(errors)

    def _allowed_key(self, key: Any) -> bool:
        return (isinstance(key, str) and key.isidentifier() and not keyword.iskeyword(key)
                and not key.startswith(("_", "pf_")) and key not in self.functions)

    def _load(self, version: ProcessVersion, state: bytes) -> BpmnWorkflow:
        spec, subprocess_specs, private = self._specs(version)
        workflow = load_state(state, spec, subprocess_specs, self._script_engine)
        if private:
            rewire_started(workflow)
        return workflow

    def _specs(self, version: ProcessVersion) -> tuple[Any, Mapping[str, Any], bool]:
        """The version's specs, or a private copy of them (True) where running changes them."""
        compiled = self._cache.get(version)
        if has_triggered_subprocesses(compiled.spec, compiled.subprocess_specs):
            return (*private_specs(compiled.spec, compiled.subprocess_specs), True)
        return compiled.spec, compiled.subprocess_specs, False

    def _advance(self, workflow: BpmnWorkflow, version: ProcessVersion, act: Callable[[], Any],
                 *, actor: str | None = None, completing: Any = None,
                 submitted: Mapping[str, Any] | None = None,
                 state: bytes | None = None) -> Snapshot:
        completed_before = completed_ids(workflow)
        error: StepError | None = None
        walk: TaskWalk | None = None
        budget = Budget(self.limits)
        try:
            act()
            workflow.do_engine_steps(will_complete_task=budget)
            after = TaskWalk(workflow)
            if finish_exhausted_cycles(after.waiting_events()):
                workflow.do_engine_steps(will_complete_task=budget)
                after = TaskWalk(workflow)
            walk = after  # from here on only task states change: the walk stays valid
            check_reachable(walk.everything)
        except SpiffWorkflowException as exc:
            error = step_error(workflow, exc)
        except OverBudget as exc:
            # the task that would have run next is left in error, so a retry resumes there;
            # the engine's own tasks (a process's root) have no element: name the process
            element = exc.task.task_spec.bpmn_id or exc.task.workflow.spec.name
            error = StepError(element, None, exc.message)
            record_failure(exc.task, error)
        except EngineError:
            raise  # Parkflow's own refusals (a message nothing waits for, ...) stay what they are
        except Exception as exc:  # noqa: BLE001 - SpiffWorkflow's own defects surface as any error
            element = _element_of(budget.last) or _element_of(completing)
            return self._not_kept(version, state, completing, StepError(
                element, None, f"the engine failed: {type(exc).__name__}: {exc}"))
        if walk is None:
            walk = TaskWalk(workflow)
        now = datetime.now(UTC)
        steps = step_records(walk, completed_before, now, actor=actor, completing=completing,
                             version=version, submitted=submitted)
        # assigning dates changes task states at most, never the tree: the walk stays valid
        dates_error = assign_dates(walk.ready_manual(), version, self.calendar, now)
        # a step that failed earlier and still waits for a retry keeps the instance in error
        error = error or dates_error or _earlier_failure(walk)
        snapshot = self._snapshot(workflow, version, steps, status="error" if error else None,
                                  error=error)
        if len(snapshot.state) > self.limits.max_state_bytes:
            return self._not_kept(version, state, completing, StepError(
                _element_of(completing) or version.key, None,
                f"the application's state would grow to {_mib(len(snapshot.state))}, over the "
                f"limit of {_mib(self.limits.max_state_bytes)}; nothing of this step was kept"))
        return snapshot

    def _not_kept(self, version: ProcessVersion, state: bytes | None, completing: Any,
                  error: StepError) -> Snapshot:
        """The answer to a change that cannot be stored: the completed task left in error.

        Without a person's completion to blame (a start, a timer, a message) the change is
        refused as a whole: the caller keeps what it had, and the worker retries and reports.
        """
        if state is None or completing is None:
            raise EngineFailed(error.element_id, error.message)
        workflow = self._load(version, state)
        record_failure(workflow.get_task_from_id(completing.id), error)
        return self._snapshot(workflow, version, (), status="error", error=error)



    def _snapshot(self, workflow: BpmnWorkflow, version: ProcessVersion, steps: tuple[Any, ...],
                  *, status: Status | None = None, error: StepError | None = None,
                  dump: bytes | None = None) -> Snapshot:
        messages: tuple[ThrownMessage, ...] = ()
        if dump is None:
            messages = thrown_messages(workflow)
            prune(workflow)
        if status is None:
            status = _status(workflow)
        walk = TaskWalk(workflow)
        live = status != "cancelled"
        waiting = walk.waiting_events() if live else []
        return Snapshot(
            state=dump if dump is not None else dump_state(workflow),
            status=status,
            open_tasks=open_tasks(walk.ready_manual(), version, self.functions) if live else (),
            timers=_timers(waiting),
            awaited_messages=awaited_messages(waiting),
            correlations=dict(workflow.correlations),
            steps=steps,
            data=_current_data(workflow, walk),
            error=error,
            messages=messages,
            external_tasks=external_tasks(walk.queried) if live else (),
        )


def _element_of(task: Any) -> str:
    return (task.task_spec.bpmn_id or "") if task is not None else ""


def _mib(size: int) -> str:
    return f"{size / 2**20:.1f} MiB"


def _timers(waiting: list[Any]) -> tuple[TimerWait, ...]:
    return tuple(TimerWait(str(task.id), task.task_spec.bpmn_id or task.task_spec.name, due)
                 for task, due in waiting_timers(waiting))


def _status(workflow: BpmnWorkflow) -> Status:
    if not workflow.is_completed():
        return "active"
    # SpiffWorkflow records a cancelled instance as finished without success
    return "completed" if workflow.success else "cancelled"


def _earlier_failure(walk: TaskWalk) -> StepError | None:
    failed = walk.failed()
    return stored_failure(failed) if failed is not None else None


@functools.lru_cache(maxsize=256)
def _initiator_variable(bpmn: bytes, key: str) -> str | None:
    """The variable that ``camunda:initiator`` on the process's start event names, if any."""
    root = parse_xml(bpmn).getroot()
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        if process.get("id") == key:
            for start in process.iterchildren(f"{{{BPMN_NS}}}startEvent"):
                name = (start.get(f"{{{CAMUNDA_NS}}}initiator") or "").strip()
                if name:
                    return name
    return None


def _open_task(workflow: BpmnWorkflow, task_id: str) -> Any:
    try:
        task = workflow.get_task_from_id(UUID(str(task_id)))
    except (ValueError, WorkflowException, KeyError):
        task = None
    if task is None:
        raise TaskNotOpen(str(task_id), "there is no such task in this application")
    if not task.task_spec.manual or task.state != TaskState.READY:
        raise TaskNotOpen(str(task_id))
    return task


def _current_data(workflow: BpmnWorkflow, walk: TaskWalk) -> dict[str, Any]:
    if workflow.is_completed():
        return dict(workflow.data)
    for state in (TaskState.READY, TaskState.WAITING):
        task = walk.first(state)
        if task is not None:
            return dict(task.data)
    task = next((t for t in walk.queried if is_waiting_external(t)), None)
    if task is not None:
        return dict(task.data)
    # rare (only failed tasks left), and SpiffWorkflow's query for a finished state reaches
    # other tasks than `TaskWalk.queried` does: ask it
    task = workflow.get_next_task(state=TaskState.ERROR)
    return dict(task.data if task is not None else workflow.task_tree.data)
