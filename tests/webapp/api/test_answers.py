"""Application views are written without their schema's dump: they must be what it writes.

Every kind of application is viewed: new, in the middle of a return-for-correction loop,
overdue, stopped on a failed step, withdrawn, finished, and started by an administrator
for an enterprise. The prebuilt answer must be byte for byte what flask-smorest would have
answered through ``InstanceViewSchema``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from flask import Flask
from marshmallow import fields
from sqlalchemy import select

from tests.webapp.admin.test_operations import SCRIPTED
from tests.webapp.fixtures import CORRECTION, REASONS, complete, history, start
from webapp.api.answers import prebuilt
from webapp.api.schemas import InstanceViewSchema
from webapp.db import Database, utcnow
from webapp.models import Instance, Park
from webapp.services import processes, queries
from webapp.services.applications import cancel_application

RETURN = {"outcome": "return", "return_reasons": REASONS}
APPROVE = {"outcome": "approve", "comment": "材料齐全"}


def _new(db: Database) -> str:
    return start(db)


def _in_a_loop(db: Database) -> str:
    instance_id = start(db)
    for _ in range(3):
        complete(db, instance_id, "preliminary_review", RETURN, "zhang.wei")
        complete(db, instance_id, "correction", CORRECTION, "xinghe")
    return instance_id


def _withdrawn(db: Database) -> str:
    instance_id = start(db)
    cancel_application(db, instance_id=instance_id, actor="admin", reason="重复提交")
    return instance_id


def _with_the_applicant(db: Database) -> str:
    instance_id = start(db)
    complete(db, instance_id, "preliminary_review", RETURN, "zhang.wei")
    return instance_id


def _rejected(db: Database) -> str:
    instance_id = start(db)
    complete(db, instance_id, "preliminary_review",
             {"outcome": "reject", "comment": "不属于支持范围"}, "zhang.wei")
    return instance_id


def _started_by_an_admin(db: Database) -> str:
    return start(db, actor="admin", enterprise_name="蓝海新材料股份有限公司")


def _scripted(db: Database, *, scripts_enabled: bool) -> str:
    """An application of a review and then a script, run with the park's scripts on or off."""
    with db.write() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        park.settings = {**park.settings, "scripts_enabled": scripts_enabled}
        processes.deploy(session, park=park, actor="test",
                         bpmn={"fee.bpmn": SCRIPTED.encode()}, forms={})
    instance_id = start(db, "scripted_fee", {})
    complete(db, instance_id, "fee_review", {}, "chen.jie")
    return instance_id


def _failed(db: Database) -> str:
    return _scripted(db, scripts_enabled=False)


def _finished(db: Database) -> str:
    return _scripted(db, scripts_enabled=True)


KINDS = {"new": _new, "in a loop": _in_a_loop, "withdrawn": _withdrawn,
         "with the applicant": _with_the_applicant, "rejected": _rejected,
         "started by an admin": _started_by_an_admin, "failed": _failed,
         "finished": _finished}


def _view(db: Database, instance_id: str) -> dict[str, Any]:
    with db.read() as session:
        return queries.instance_view(session, session.get_one(Instance, instance_id))


@pytest.mark.parametrize("kind", list(KINDS))
def test_a_prebuilt_view_is_what_the_schema_writes(app: Flask, parks: Database,
                                                   kind: str) -> None:
    view = _view(parks, KINDS[kind](parks))

    with app.app_context():
        answer = prebuilt(view)
        through_schema = app.json.response(InstanceViewSchema().dump(view))

    assert answer.get_data() == through_schema.get_data()
    assert answer.mimetype == "application/json"
    assert (view["status"], view["result"], view["status_detail"]) == {
        "new": ("active", None, None), "in a loop": ("active", None, None),
        "withdrawn": ("cancelled", "cancelled", None),
        "with the applicant": ("active", None, "with_applicant"),
        "rejected": ("completed", "rejected", None),
        "started by an admin": ("active", None, None), "failed": ("error", None, None),
        "finished": ("completed", None, None)}[kind]


def test_an_overdue_view_is_what_the_schema_writes(app: Flask, parks: Database) -> None:
    instance_id = start(parks)
    with time_machine.travel(utcnow() + timedelta(days=60)):
        view = _view(parks, instance_id)
        with app.app_context():
            answer, through_schema = (
                prebuilt(view, 201), app.json.response(InstanceViewSchema().dump(view)))

    assert view["current_steps"][0]["overdue"] is True
    assert answer.status_code == 201
    assert answer.get_data() == through_schema.get_data()


def test_history_leaves_routing_out(parks: Database) -> None:
    instance_id = _in_a_loop(parks)
    complete(parks, instance_id, "preliminary_review", APPROVE, "zhang.wei")
    stored = [(row.element_id, row.kind) for row in history(parks, instance_id)]

    shown = [(entry["element_id"], entry["kind"]) for entry in _view(parks, instance_id)["history"]]

    assert any(kind.endswith("Gateway") for _, kind in stored)  # there is routing to leave out
    assert shown == [(element_id, kind) for element_id, kind in stored
                     if not kind.endswith("Gateway") and not kind.startswith("_")]
    assert ("preliminary_review", "UserTask") in shown


@pytest.mark.parametrize("at", [
    datetime(2026, 3, 2, 9, 30, tzinfo=UTC),
    datetime(2026, 3, 2, 9, 30, 5, 120, tzinfo=UTC),
    datetime(2026, 3, 2, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai")),
])
def test_timestamps_are_written_as_the_schema_writes_them(app: Flask, at: datetime) -> None:
    with app.app_context():
        answer = prebuilt({"at": at, "big": 2**70})
        through_schema = app.json.response({"at": fields.DateTime().serialize("at", {"at": at}),
                                            "big": 2**70})

    assert answer.get_data() == through_schema.get_data()
    assert json.loads(answer.get_data())["at"] == at.isoformat()


def test_other_values_are_refused(app: Flask) -> None:
    with app.app_context(), pytest.raises(TypeError):
        prebuilt({"amount": Decimal("1.5")})
