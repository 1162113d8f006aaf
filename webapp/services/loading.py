"""A task or an application read with what every use of it needs, in one prepared query.

Showing a task, completing it and checking who may see it all want the task's application
and that application's park, procedure version and enterprise. Through the ORM's
relationships each of them is a query of its own; here one joined row becomes all of them,
objects of the session with their relationships set (see `webapp.statements.Entities`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from webapp.models import Enterprise, HumanTask, Instance, Park, ProcessDefinition
from webapp.statements import Entities, Prepared

_TASK_ROW = Entities(HumanTask, Instance, Park, ProcessDefinition, Enterprise)
_INSTANCE_ROW = Entities(Instance, Park, ProcessDefinition, Enterprise)


def _with_relations(query: Any) -> Any:
    return (query.join(Park, Park.id == Instance.park_id)
            .join(ProcessDefinition, ProcessDefinition.id == Instance.definition_id)
            .outerjoin(Enterprise, Enterprise.id == Instance.enterprise_id))


_TASK_QUERY = _with_relations(
    select(*_TASK_ROW.columns).select_from(HumanTask)
    .join(Instance, Instance.id == HumanTask.instance_id)
).where(HumanTask.id == bindparam("task_id"))
_TASK = Prepared(_TASK_QUERY)
_TASK_LOCKED = Prepared(_TASK_QUERY.with_for_update(
    of=[Instance.__table__, HumanTask.__table__]))  # type: ignore[list-item]
_INSTANCE = Prepared(_with_relations(select(*_INSTANCE_ROW.columns).select_from(Instance))
                     .where(Instance.id == bindparam("instance_id")))
_TASK_KEY = HumanTask.__mapper__.identity_key_from_primary_key
_INSTANCE_KEY = Instance.__mapper__.identity_key_from_primary_key


def task_with_instance(session: Session, task_id: str, *,
                       lock: bool = False) -> tuple[HumanTask, Instance] | None:
    """The task and its application, or None. With ``lock`` both rows are locked for the
    rest of the transaction (on PostgreSQL; SQLite's writers hold the whole database)."""
    found = (_TASK_LOCKED if lock else _TASK).rows(session.connection(), {"task_id": task_id})
    if not found:
        return None
    task, instance, park, definition, enterprise = _TASK_ROW.objects(session, found[0])
    _relate(instance, park, definition, enterprise)
    set_committed_value(task, "instance", instance)
    return task, instance


def instance_with_relations(session: Session, instance_id: str) -> Instance | None:
    """The application with its park, procedure version and enterprise, or None."""
    found = _INSTANCE.rows(session.connection(), {"instance_id": instance_id})
    if not found:
        return None
    instance, park, definition, enterprise = _INSTANCE_ROW.objects(session, found[0])
    _relate(instance, park, definition, enterprise)
    return instance


def held_task(session: Session, task_id: str) -> HumanTask | None:
    """The task if the session already holds it (no query)."""
    found = session.identity_map.get(_TASK_KEY([task_id]))
    return found if isinstance(found, HumanTask) else None


def held_instance(session: Session, instance_id: str) -> Instance | None:
    """The application if the session already holds it (no query)."""
    found = session.identity_map.get(_INSTANCE_KEY([instance_id]))
    return found if isinstance(found, Instance) else None


def _relate(instance: Instance, park: Park, definition: ProcessDefinition,
            enterprise: Enterprise | None) -> None:
    # known from the row: the relationships need no queries of their own
    set_committed_value(instance, "park", park)
    set_committed_value(instance, "definition", definition)
    set_committed_value(instance, "enterprise", enterprise)
