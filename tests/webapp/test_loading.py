"""A task or an application with its park, procedure version and enterprise in one query."""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, select

from tests.bench import APPLICATION
from webapp.db import Database
from webapp.models import HumanTask, Instance
from webapp.services.applications import start_application
from webapp.services.loading import (
    held_instance,
    held_task,
    instance_with_relations,
    task_with_instance,
)


def _started(db: Database) -> tuple[str, str]:
    instance_id = start_application(db, park_slug="demo", process_key="policy_subsidy",
                                    data=APPLICATION, actor="xinghe")
    with db.read() as session:
        task_id = session.scalars(select(HumanTask.id).where(
            HumanTask.instance_id == instance_id, HumanTask.status == "open")).one()
    return instance_id, task_id


def _orm_view(instance: Instance) -> tuple[Any, ...]:
    return (instance.id, instance.state, instance.waits, instance.park.slug,
            instance.definition.key, instance.definition.version, instance.enterprise.name)


def test_a_task_comes_with_all_its_application_needs_and_nothing_else_is_read(
        demo_db: Database) -> None:
    instance_id, task_id = _started(demo_db)
    with demo_db.read() as session:
        expected = _orm_view(session.get_one(Instance, instance_id))
        task_row = session.get_one(HumanTask, task_id)
        expected_task = (task_row.id, task_row.name, task_row.candidate_groups, task_row.due_at)
    with demo_db.read() as session:
        assert held_task(session, task_id) is None
        found = task_with_instance(session, task_id)
        assert found is not None
        task, instance = found
        statements: list[str] = []

        def seen(*args: Any) -> None:
            statements.append(args[2])

        event.listen(demo_db.engine, "before_cursor_execute", seen)
        try:
            assert task.instance is instance
            assert _orm_view(instance) == expected
            assert (task.id, task.name, task.candidate_groups, task.due_at) == expected_task
        finally:
            event.remove(demo_db.engine, "before_cursor_execute", seen)
        assert statements == []
        # the session holds them now, as the ORM's own loading would
        assert held_task(session, task_id) is task and held_instance(session, instance_id) is (
            instance)
        assert session.get(HumanTask, task_id) is task


def test_an_application_comes_with_its_park_version_and_enterprise(demo_db: Database) -> None:
    instance_id, _ = _started(demo_db)
    with demo_db.read() as session:
        expected = _orm_view(session.get_one(Instance, instance_id))
    with demo_db.read() as session:
        instance = instance_with_relations(session, instance_id)
        assert instance is not None and _orm_view(instance) == expected
        assert session.get(Instance, instance_id) is instance


def test_what_is_not_there_is_none(demo_db: Database) -> None:
    with demo_db.read() as session:
        assert task_with_instance(session, "nothing") is None
        assert instance_with_relations(session, "nothing") is None
        assert held_task(session, "nothing") is None and held_instance(session, "x") is None
