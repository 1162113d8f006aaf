"""Property-based fuzzing of every operation in the generated OpenAPI document.

Schemathesis generates valid and invalid requests for each operation and sends them through
the WSGI app, signed in as the demo park's administrator; any 5xx answer fails the test. Half
of the cases aim at objects that exist (the demo park, an application and its open task), so
that the generated bodies reach the services and not only the 404 path.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from sqlalchemy import select

from tests.webapp.api.helpers import start, step
from tests.webapp.apptools import bearer
from webapp.db import Database
from webapp.models import Notification, Park, User

EXAMPLES_PER_OPERATION = 25
# cancelling closes the task the other operations aim at; signing out ends their session
LAST = ("POST /api/v1/instances/{instance_id}/cancel", "DELETE /api/v1/auth/token")


@pytest.fixture
def admin_headers(app: Flask) -> dict[str, str]:
    """A bearer token of the demo park's administrator."""
    return bearer(app.test_client(), "admin")


@pytest.fixture
def targets(app: Flask, admin_headers: dict[str, str], parks: Database) -> dict[str, Any]:
    """Path parameters naming objects that exist."""
    view = start(app.test_client(), admin_headers, enterprise="星河科技有限公司")
    with parks.write() as session:
        admin = session.scalars(select(User).where(User.username == "admin")).one()
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        notification = Notification(user_id=admin.id, park_id=park.id, kind="overdue",
                                    title="overdue")
        session.add(notification)
        session.flush()
        notification_id = notification.id
    return {"park": "demo", "instance_id": view["id"], "task_id": step(view, "probe_review"),
            "key": "api_probe", "version": 1, "message_name": "payment_received",
            "notification_id": notification_id}


def _operations(app: Flask) -> list[Any]:
    loaded = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    found = [result.ok() for result in loaded.get_all_operations()]
    return sorted(found, key=lambda op: LAST.index(op.label) + 1 if op.label in LAST else 0)


def _fuzz(operation: Any, headers: dict[str, str], targets: dict[str, Any]) -> None:
    cases = st.one_of(operation.as_strategy(generation_mode=GenerationMode.POSITIVE),
                      operation.as_strategy(generation_mode=GenerationMode.NEGATIVE))

    @given(case=cases, aim=st.booleans())
    @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    def run(case: Any, aim: bool) -> None:
        if aim and case.path_parameters:
            case.path_parameters = {name: targets.get(name, value)
                                    for name, value in case.path_parameters.items()}
        case.call_and_validate(headers=headers, checks=[not_a_server_error])

    run()


def test_no_input_makes_the_server_fail(app: Flask, admin_headers: dict[str, str],
                                        targets: dict[str, Any]) -> None:
    operations = _operations(app)
    assert len(operations) >= 18
    failures = []
    for operation in operations:
        try:
            _fuzz(operation, admin_headers, targets)
        except Exception as exc:  # noqa: BLE001 -- collect every operation's failure
            failures.append(f"{operation.label}: {exc}")
    assert not failures, "\n\n".join(failures)
