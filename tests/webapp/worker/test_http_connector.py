"""The HTTP connector end to end: the worker calls a local stub server, then runs on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
import time_machine
from sqlalchemy import select

from tests.engine.test_http_connector import PAY, diagram
from tests.webapp.fixtures import audit_events, load_instance, open_tasks
from tests.webapp.worker.stub_http import Stub, stub_server
from webapp.db import Database
from webapp.models import ExternalTask, Job, Park
from webapp.services import admin_park, http_connector, jobs, processes
from webapp.services.accounts import get_park
from webapp.services.applications import start_application
from webapp.services.errors import Invalid
from webapp.worker import Worker


@pytest.fixture
def stub() -> Iterator[Stub]:
    with stub_server() as server:
        yield server


def deploy(db: Database, properties: dict[str, str]) -> None:
    bpmn = diagram(properties).replace(
        'camunda:candidateGroups="reviewers"', 'camunda:candidateGroups="政策审核组"'
    )
    with db.write() as session:
        processes.deploy(
            session, park=get_park(session, "demo"), actor="test", bpmn={"pay.bpmn": bpmn.encode()}
        )


def configure(db: Database, allowlist: list[str], secrets: dict[str, str]) -> None:
    with db.write() as session:
        park = get_park(session, "demo")
        http_connector.set_allowlist(session, park, actor="admin", entries=allowlist)
        for name, value in secrets.items():
            http_connector.set_secret(session, park, actor="admin", name=name, value=value)


def pay(stub: Stub, **changes: str) -> dict[str, str]:
    return {**PAY, "url": f"{stub.base}/pay/${{enterprise}}", "retryBackoff": "10", **changes}


def start(db: Database) -> str:
    return start_application(
        db,
        park_slug="demo",
        process_key="pay",
        data={"amount": 500, "enterprise": "xinghe"},
        actor="xinghe",
    )


def connector_row(db: Database, instance_id: str) -> ExternalTask:
    with db.read() as session:
        row = session.scalars(
            select(ExternalTask).where(ExternalTask.instance_id == instance_id)
        ).one()
        session.expunge(row)
        return row


def test_the_worker_calls_and_the_application_runs_on_with_the_mapped_answer(
    demo_db: Database, clock: time_machine.Traveller, stub: Stub
) -> None:
    deploy(demo_db, pay(stub))
    configure(demo_db, [f"{stub.base}/pay"], {"bank_token": "tok-1"})
    instance_id = start(demo_db)
    assert stub.received == []  # nothing is called inside the request that started it

    Worker(demo_db, worker_id="w").run_until_idle()

    (call,) = stub.received
    assert (call.method, call.path) == ("POST", "/pay/xinghe")
    assert call.headers["Authorization"] == "Bearer tok-1"
    assert call.json() == {"amount": 500, "currency": "CNY"}
    assert call.headers["Idempotency-Key"] == connector_row(demo_db, instance_id).id
    assert list(open_tasks(demo_db, instance_id)) == ["check"]
    instance = load_instance(demo_db, instance_id)
    assert instance.data_summary["payment_id"] == "P-1"
    assert instance.data_summary["paid_status"] == 200
    assert connector_row(demo_db, instance_id).status == "completed"
    actions = [event.action for event in audit_events(demo_db, instance_id)]
    assert "connector.http_called" in actions
    # the secret's value is nowhere in the audit log
    assert all("tok-1" not in str(event.details) for event in audit_events(demo_db, instance_id))


def test_a_timeout_and_a_5xx_are_retried_with_one_key_and_pay_once(
    demo_db: Database, clock: time_machine.Traveller, stub: Stub
) -> None:
    deploy(demo_db, pay(stub, timeout="1", retries="3"))
    configure(demo_db, [stub.base], {"bank_token": "t"})
    # the first call pays but answers too late, the second meets a failing bank
    stub.plan = [(200, 2.5), (503, 0.0)]
    instance_id = start(demo_db)
    worker = Worker(demo_db, worker_id="w")

    worker.run_until_idle()
    assert len(stub.received) == 1
    row = connector_row(demo_db, instance_id)
    assert (row.status, row.retries) == ("open", 2)
    assert "no answer within 1 s" in (row.error or "")
    clock.shift(timedelta(seconds=11))  # the first backoff: 10 s
    worker.run_until_idle()
    assert len(stub.received) == 2
    assert "answered 503" in (connector_row(demo_db, instance_id).error or "")
    clock.shift(timedelta(seconds=11))
    worker.run_until_idle()
    assert len(stub.received) == 2  # the second backoff doubled: 20 s
    clock.shift(timedelta(seconds=10))
    worker.run_until_idle()

    assert len(stub.received) == 3
    assert len(stub.keys) == 1  # every attempt sent the same idempotency key
    assert len(stub.payments) == 1  # so the bank paid once
    assert list(open_tasks(demo_db, instance_id)) == ["check"]
    assert load_instance(demo_db, instance_id).data_summary["payment_id"] == "P-1"
    failed = [
        event
        for event in audit_events(demo_db, instance_id)
        if event.action == "connector.http_failed"
    ]
    assert [event.details["retries_left"] for event in failed] == [2, 1]


def test_no_retries_left_is_an_incident_that_an_admin_retries(
    demo_db: Database, clock: time_machine.Traveller, stub: Stub
) -> None:
    deploy(demo_db, pay(stub, retries="1"))
    configure(demo_db, [stub.base], {"bank_token": "t"})
    stub.plan = [(500, 0.0), (502, 0.0)]
    instance_id = start(demo_db)
    worker = Worker(demo_db, worker_id="w")
    worker.run_until_idle()
    clock.shift(timedelta(seconds=11))
    worker.run_until_idle()

    assert len(stub.received) == 2
    assert connector_row(demo_db, instance_id).status == "failed"
    with demo_db.read() as session:
        (incident,) = jobs.incidents(session)
    assert incident.kind == http_connector.JOB
    assert "answered 502" in incident.reason

    with demo_db.write() as session:
        admin_park.retry_incident(
            session, get_park(session, "demo"), actor="admin", job_id=incident.id
        )
    worker.run_until_idle()
    assert len(stub.received) == 3
    assert list(open_tasks(demo_db, instance_id)) == ["check"]
    with demo_db.read() as session:
        assert jobs.incidents(session) == []


def test_an_address_outside_the_allow_list_is_refused_without_a_call(
    demo_db: Database, clock: time_machine.Traveller, stub: Stub
) -> None:
    deploy(demo_db, pay(stub))
    # the same host under another path, and a look-alike host: neither is allowed
    configure(demo_db, [f"{stub.base}/refunds", "https://bank.example"], {"bank_token": "t"})
    instance_id = start(demo_db)
    Worker(demo_db, worker_id="w").run_until_idle()

    assert stub.received == []
    row = connector_row(demo_db, instance_id)
    assert row.status == "failed"
    assert "allow-list" in (row.error or "")
    with demo_db.read() as session:
        (incident,) = jobs.incidents(session)
    assert incident.task_id == row.id


def test_a_4xx_answer_is_final_at_once(
    demo_db: Database, clock: time_machine.Traveller, stub: Stub
) -> None:
    deploy(demo_db, pay(stub, retries="5"))
    configure(demo_db, [stub.base], {"bank_token": "t"})
    stub.plan = [(400, 0.0)]
    instance_id = start(demo_db)
    Worker(demo_db, worker_id="w").run_until_idle()
    assert len(stub.received) == 1
    assert connector_row(demo_db, instance_id).status == "failed"


def test_a_missing_secret_is_an_incident_naming_it(
    demo_db: Database, clock: time_machine.Traveller, stub: Stub
) -> None:
    deploy(demo_db, pay(stub))
    configure(demo_db, [stub.base], {})
    instance_id = start(demo_db)
    Worker(demo_db, worker_id="w").run_until_idle()
    assert stub.received == []
    assert "no secret named 'bank_token'" in (connector_row(demo_db, instance_id).error or "")


def test_allowed_matches_scheme_host_and_path_prefix() -> None:
    allow = ["https://bank.example/api", "http://10.0.0.5:8080/"]
    assert http_connector.allowed("https://bank.example/api/pay", allow)
    assert http_connector.allowed("https://BANK.example/api", allow)
    assert http_connector.allowed("http://10.0.0.5:8080/x", allow)
    assert not http_connector.allowed("https://bank.example/apix", allow)
    assert not http_connector.allowed("https://bank.example.evil.cn/api/pay", allow)
    assert not http_connector.allowed("http://bank.example/api/pay", allow)
    assert not http_connector.allowed("https://bank.example/api/pay", [])


def test_settings_refuse_bad_entries_and_never_keep_a_secret_in_the_audit(
    demo_db: Database,
) -> None:
    with demo_db.write() as session:
        park = get_park(session, "demo")
        with pytest.raises(Invalid):
            http_connector.set_allowlist(session, park, actor="admin", entries=["ftp://x"])
        with pytest.raises(Invalid):
            http_connector.set_secret(session, park, actor="admin", name="1bad", value="v")
        with pytest.raises(Invalid):
            http_connector.set_secret(session, park, actor="admin", name="ok", value="a\nb")
        http_connector.set_secret(session, park, actor="admin", name="bank", value="s3cr3t")
        assert http_connector.connector_settings(park)["secrets"] == ["bank"]
    with demo_db.read() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        assert park.settings["secrets"] == {"bank": "s3cr3t"}


def test_workers_never_fetch_the_connector_topic(
    demo_db: Database, clock: time_machine.Traveller, stub: Stub
) -> None:
    from datetime import UTC, datetime

    from webapp.services.external_tasks import Topic, WorkerCall, fetch_and_lock

    deploy(demo_db, pay(stub))
    start(demo_db)
    with demo_db.read() as session:
        park_id = get_park(session, "demo").id
    got = fetch_and_lock(
        demo_db,
        WorkerCall("w", frozenset({park_id}), "w"),
        topics=[Topic("parkflow:http", 30)],
        max_tasks=5,
        now=datetime.now(UTC),
    )
    assert got == []
    with demo_db.read() as session:
        assert session.scalars(select(Job.kind).where(Job.kind == "http_call")).all() == [
            "http_call"
        ]


def _with_boundary(properties: dict[str, str]) -> str:
    """The external-task diagram, its task calling the connector, TAX_REFUSED caught."""
    from tests.engine.test_external_tasks import DIAGRAM as CAUGHT

    props = "".join(
        f'<camunda:property name="{name}" value="{value}"/>' for name, value in properties.items()
    )
    return (
        CAUGHT.format(attributes="")
        .replace(
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>",
            "<bpmn:extensionElements><camunda:properties>"
            f"{props}</camunda:properties></bpmn:extensionElements>"
            "<bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>",
            1,
        )
        .replace('camunda:candidateGroups="reviewers"', 'camunda:candidateGroups="政策审核组"')
    )


def test_a_refusal_throws_the_error_code_to_the_boundary_event(
    demo_db: Database, clock: time_machine.Traveller, stub: Stub
) -> None:
    properties = {
        "service": "http",
        "method": "GET",
        "url": f"{stub.base}/tax/${{amount}}",
        "errorCode": "TAX_REFUSED",
        "retries": "3",
    }
    with demo_db.write() as session:
        processes.deploy(
            session,
            park=get_park(session, "demo"),
            actor="test",
            bpmn={"ext.bpmn": _with_boundary(properties).encode()},
        )
    configure(demo_db, [stub.base], {})
    stub.plan = [(403, 0.0)]
    instance_id = start_application(
        demo_db, park_slug="demo", process_key="ext", data={"amount": 3}, actor="xinghe"
    )
    Worker(demo_db, worker_id="w").run_until_idle()

    assert len(stub.received) == 1  # refused: not retried
    assert list(open_tasks(demo_db, instance_id)) == ["fix"]
    assert load_instance(demo_db, instance_id).data_summary["http_status"] == 403
    assert connector_row(demo_db, instance_id).status == "bpmn_error"
    assert "connector.http_refused" in [e.action for e in audit_events(demo_db, instance_id)]
    with demo_db.read() as session:
        assert jobs.incidents(session) == []
