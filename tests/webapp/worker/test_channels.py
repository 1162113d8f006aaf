"""Notification channels: e-mail over a real SMTP server, webhooks over a real HTTP server."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import time_machine
from aiosmtpd.controller import Controller
from sqlalchemy import select

from tests.webapp.fixtures import load_instance, open_tasks, start
from webapp.config import SmtpSettings
from webapp.db import Database
from webapp.models import Job, Park, User
from webapp.worker import Worker


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Mailbox:
    """An aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.content, policy=default_policy)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    mailbox = Mailbox()
    controller = Controller(mailbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    yield mailbox, controller.port
    controller.stop()


class Hooks:
    """What a local HTTP server received, and what it answers next (per path)."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.answers: dict[str, list[tuple[int, bytes]]] = {}
        self.base = ""


@pytest.fixture
def hook_server() -> Iterator[Hooks]:
    hooks = Hooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            hooks.received.append((self.path, json.loads(self.rfile.read(length))))
            queued = hooks.answers.get(self.path) or []
            status, body = queued.pop(0) if queued else (200, b'{"errcode": 0}')
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hooks.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield hooks
    server.shutdown()
    server.server_close()


def set_webhooks(db: Database, hooks: list[dict[str, str]]) -> None:
    with db.write() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        park.settings = {**park.settings, "webhooks": hooks}


def test_email_reaches_reviewers_with_an_address_once(
        demo_db: Database, clock: time_machine.Traveller,
        smtp_server: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp_server
    with demo_db.write() as session:
        session.scalars(select(User).where(User.username == "zhang.wei")).one().email = \
            "zhang.wei@park.example.cn"
    worker = Worker(demo_db, smtp=SmtpSettings(host="127.0.0.1", port=port,
                                               sender="parkflow@park.example.cn"))
    instance_id = start(demo_db)
    reference = load_instance(demo_db, instance_id).reference

    worker.run_until_idle()
    assert len(mailbox.messages) == 1
    message = mailbox.messages[0]
    assert message["To"] == "zhang.wei@park.example.cn"
    assert message["From"] == "parkflow@park.example.cn"
    assert message["Subject"] == f"待办：初审（{reference}）"
    text = message.get_content()
    assert "初审" in text and reference in text
    with demo_db.read() as session:
        email_jobs = session.scalars(select(Job).where(Job.kind == "notify")).all()
        assert [(job.payload["channel"], job.status) for job in email_jobs] == [("email", "done")]

    # the same event once more (as an at-least-once queue may hand it out): no second e-mail
    with demo_db.write() as session:
        event = session.scalars(select(Job).where(Job.kind == "event")).one()
        event.status = "pending"
    worker.run_until_idle()
    assert len(mailbox.messages) == 1
    assert "preliminary_review" in open_tasks(demo_db, instance_id)


def test_webhooks_post_json_wecom_and_dingtalk_formats(
        demo_db: Database, worker: Worker, clock: time_machine.Traveller,
        hook_server: Hooks) -> None:
    base = hook_server.base
    set_webhooks(demo_db, [{"url": f"{base}/json", "format": "json"},
                           {"url": f"{base}/wecom", "format": "wecom"},
                           {"url": f"{base}/dingtalk", "format": "dingtalk"}])
    instance_id = start(demo_db)
    reference = load_instance(demo_db, instance_id).reference
    title = f"待办：初审（{reference}）"

    worker.run_until_idle()
    received = dict(hook_server.received)
    assert len(hook_server.received) == 3
    plain = received["/json"]
    assert (plain["event"], plain["title"], plain["reference"], plain["park"]) == (
        "task_waiting", title, reference, "demo")
    assert plain["instance_id"] == instance_id and "初审" in plain["text"]
    wecom = received["/wecom"]
    assert wecom["msgtype"] == "markdown" and set(wecom["markdown"]) == {"content"}
    assert wecom["markdown"]["content"].startswith(f"**{title}**\n")
    dingtalk = received["/dingtalk"]
    assert dingtalk["msgtype"] == "markdown"
    assert dingtalk["markdown"]["title"] == title
    assert dingtalk["markdown"]["text"].startswith(f"#### {title}\n")

    worker.run_until_idle()  # every event is posted once per webhook
    assert len(hook_server.received) == 3


def test_a_failing_webhook_is_retried_until_it_answers(
        demo_db: Database, worker: Worker, clock: time_machine.Traveller,
        hook_server: Hooks) -> None:
    set_webhooks(demo_db, [{"url": f"{hook_server.base}/robot", "format": "wecom"}])
    hook_server.answers["/robot"] = [
        (500, b"busy"),
        (200, json.dumps({"errcode": 45009, "errmsg": "api freq out of limit"}).encode()),
    ]
    start(demo_db)

    worker.run_until_idle()
    job = notify_job(demo_db)
    assert (job.status, job.attempts) == ("pending", 1)
    assert "500" in (job.last_error or "")

    clock.shift(timedelta(seconds=10))
    worker.run_until_idle()
    job = notify_job(demo_db)
    assert (job.status, job.attempts) == ("pending", 2)
    assert "errcode 45009" in (job.last_error or "")

    clock.shift(timedelta(seconds=20))
    worker.run_until_idle()
    assert notify_job(demo_db).status == "done"
    assert len(hook_server.received) == 3
    assert len({json.dumps(body, sort_keys=True) for _, body in hook_server.received}) == 1


def notify_job(db: Database) -> Job:
    with db.read() as session:
        job = session.scalars(select(Job).where(Job.kind == "notify")).one()
        session.expunge(job)
        return job


def test_the_park_sender_set_by_its_administrator_signs_the_email(
        demo_db: Database, clock: time_machine.Traveller,
        smtp_server: tuple[Mailbox, int]) -> None:
    mailbox, port = smtp_server
    with demo_db.write() as session:
        session.scalars(select(User).where(User.username == "zhang.wei")).one().email = \
            "zhang.wei@park.example.cn"
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        park.settings = {**park.settings, "email_sender": "示范产业园 <service@demo-park.cn>"}
    worker = Worker(demo_db, smtp=SmtpSettings(host="127.0.0.1", port=port,
                                               sender="parkflow@park.example.cn"))
    start(demo_db)
    worker.run_until_idle()
    assert [message["From"] for message in mailbox.messages] == [
        "示范产业园 <service@demo-park.cn>"]
