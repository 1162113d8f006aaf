"""Helpers and example data shared by the service and command-line tests.

The example applications are the ones the engine's walk-throughs use, so both layers are
exercised with the same data. Times are Shanghai times in March 2026; the clock is frozen on
Monday 2 March, 09:00 (see the ``clock`` fixture), and the default calendar counts weekends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from tests.engine.test_processes import (
    APPLICATION,
    BANK_RECEIPT,
    CORRECTION,
    DISBURSEMENT,
    HANDOVER,
    INVOICE_QUOTA,
    REASONS,
    TAX_REGISTRATION,
    TAX_TYPES,
)
from webapp.db import Database
from webapp.models import AuditEvent, HumanTask, Instance, Job, MessageWait, StepHistory
from webapp.services.applications import complete_task, start_application

ROOT = Path(__file__).resolve().parents[2]
PROCESSES = ROOT / "processes"
SHANGHAI = ZoneInfo("Asia/Shanghai")
MONDAY = datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI)
ENTERPRISE = "星河科技有限公司"
OTHER_ENTERPRISE = "蓝海新材料股份有限公司"
# a thread that has not finished by then is stuck, not slow
STUCK_SECONDS = 120

T = TypeVar("T")

__all__ = [
    "APPLICATION",
    "BANK_RECEIPT",
    "CORRECTION",
    "DISBURSEMENT",
    "ENTERPRISE",
    "HANDOVER",
    "INVOICE_QUOTA",
    "MONDAY",
    "OTHER_ENTERPRISE",
    "PROCESSES",
    "REASONS",
    "ROOT",
    "SHANGHAI",
    "TAX_REGISTRATION",
    "TAX_TYPES",
    "audit_events",
    "complete",
    "history",
    "load_instance",
    "local",
    "open_tasks",
    "pending_timers",
    "run_together",
    "start",
    "timer_bpmn",
    "waits",
]


def local(day: int, hour: int = 9, second: int = 0) -> datetime:
    """A time in March 2026, Shanghai."""
    return datetime(2026, 3, day, hour, 0, second, tzinfo=SHANGHAI)


def day_end(day: int) -> datetime:
    """The end of a working day in March 2026, Shanghai: when a limit in working days ends."""
    return datetime(2026, 3, day, 17, 30, tzinfo=SHANGHAI)


def timer_bpmn(process_id: str, name: str, timer: str) -> bytes:
    """A process that only waits on one timer; ``timer`` is its ``timeDate``/``timeDuration``."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
    id="Definitions_{process_id}" targetNamespace="urn:parkflow:test">
  <bpmn:process id="{process_id}" name="{name}" isExecutable="true">
    <bpmn:startEvent id="start"><bpmn:outgoing>to_wait</bpmn:outgoing></bpmn:startEvent>
    <bpmn:intermediateCatchEvent id="wait">
      <bpmn:incoming>to_wait</bpmn:incoming>
      <bpmn:outgoing>to_end</bpmn:outgoing>
      <bpmn:timerEventDefinition id="wait_timer">{timer}</bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="end"><bpmn:incoming>to_end</bpmn:incoming></bpmn:endEvent>
    <bpmn:sequenceFlow id="to_wait" sourceRef="start" targetRef="wait"/>
    <bpmn:sequenceFlow id="to_end" sourceRef="wait" targetRef="end"/>
  </bpmn:process>
</bpmn:definitions>
""".encode()


def start(db: Database, key: str = "policy_subsidy", data: Mapping[str, Any] = APPLICATION,
          actor: str = "xinghe", enterprise_name: str | None = None) -> str:
    """Start an application in the demo park; its instance id."""
    return start_application(db, park_slug="demo", process_key=key, data=data, actor=actor,
                             enterprise_name=enterprise_name)


def complete(db: Database, instance_id: str, element_id: str, data: Mapping[str, Any],
             actor: str) -> str:
    """Complete the application's one open task for ``element_id``; that task's id."""
    task = open_tasks(db, instance_id)[element_id]
    complete_task(db, task_id=task.id, data=data, actor=actor)
    return task.id


def load_instance(db: Database, instance_id: str) -> Instance:
    """The instance row with its enterprise and definition loaded."""
    with db.read() as session:
        instance = session.get_one(Instance, instance_id, options=[
            joinedload(Instance.enterprise), joinedload(Instance.definition)])
        # detached before the read's rollback, which would expire what was loaded
        session.expunge_all()
        return instance


def open_tasks(db: Database, instance_id: str) -> dict[str, HumanTask]:
    """The application's open tasks by element id (each element is open at most once)."""
    rows = _rows(db, select(HumanTask).where(HumanTask.instance_id == instance_id,
                                             HumanTask.status == "open"))
    tasks = {row.element_id: row for row in rows}
    assert len(tasks) == len(rows), rows
    return tasks


def history(db: Database, instance_id: str) -> list[StepHistory]:
    """The application's finished steps, in the order they were written."""
    return _rows(db, select(StepHistory).where(StepHistory.instance_id == instance_id)
                 .order_by(StepHistory.id))


def audit_events(db: Database, instance_id: str) -> list[AuditEvent]:
    """The application's audit log, oldest first."""
    return _rows(db, select(AuditEvent).where(AuditEvent.instance_id == instance_id)
                 .order_by(AuditEvent.id))


def pending_timers(db: Database, instance_id: str) -> dict[str, Job]:
    """The application's pending timer jobs by the element id of their timer."""
    rows = _rows(db, select(Job).where(Job.instance_id == instance_id, Job.kind == "timer",
                                       Job.status == "pending"))
    timers = {row.payload["element_id"]: row for row in rows}
    assert len(timers) == len(rows), rows
    return timers


def waits(db: Database, instance_id: str) -> list[tuple[str, str | None]]:
    """The messages the application waits for, with their correlation keys."""
    rows = _rows(db, select(MessageWait).where(MessageWait.instance_id == instance_id))
    return [(row.message_name, row.correlation_key) for row in rows]


def run_together(count: int, work: Callable[[int], T]) -> list[T | BaseException]:
    """Run ``work(0..count-1)`` in threads released at one moment; each outcome or error."""
    barrier = threading.Barrier(count)

    def run(index: int) -> T | BaseException:
        barrier.wait()
        try:
            return work(index)
        except Exception as exc:
            return exc

    pool = ThreadPoolExecutor(max_workers=count)
    futures = [pool.submit(run, index) for index in range(count)]
    _, stuck = wait(futures, timeout=STUCK_SECONDS)
    pool.shutdown(wait=not stuck, cancel_futures=True)
    assert not stuck, f"{len(stuck)} of {count} threads never finished: a deadlock?"
    return [future.result() for future in futures]


def _rows(db: Database, statement: Any) -> list[Any]:
    with db.read() as session:
        rows = list(session.scalars(statement))
        session.expunge_all()
        return rows
