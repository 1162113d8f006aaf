"""The 审批单 is kept when the application finishes, by the worker, once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from flask import Flask
from sqlalchemy import select

from tests.webapp.apptools import Browser
from tests.webapp.fixtures import complete, load_instance, start
from tests.webapp.pages.test_applications import completed_application
from tests.webapp.pages.test_printout import kept_records, pdf_text
from webapp.db import Database
from webapp.models import Job
from webapp.pages.printout import archive_on_finish
from webapp.services import jobs
from webapp.services.applicant_actions import withdraw_application
from webapp.services.printout import ARCHIVE_JOB
from webapp.worker import HANDLERS, Worker

OpenBrowser = Callable[..., Browser]


def archive_jobs(db: Database, instance_id: str) -> list[str]:
    with db.read() as session:
        return list(
            session.scalars(
                select(Job.status).where(Job.instance_id == instance_id, Job.kind == ARCHIVE_JOB)
            )
        )


def drawing_worker(db: Database, app: Flask) -> Worker:
    """The worker as ``parkflow worker`` runs it: with the pages to draw the record."""
    return Worker(
        db,
        worker_id="test-worker",
        handlers={**HANDLERS, ARCHIVE_JOB: jobs.standalone(archive_on_finish(app))},
    )


def test_finishing_queues_the_record_and_the_worker_keeps_it_once(
    parks: Database, browser: OpenBrowser, app: Flask
) -> None:
    running = start(parks)
    instance_id = completed_application(parks)
    # queued by the step that finished it, and by nothing before
    assert archive_jobs(parks, running) == []
    assert archive_jobs(parks, instance_id) == ["pending"]
    assert kept_records(browser("xinghe"), instance_id) == []

    drawing_worker(parks, app).run_until_idle()

    assert archive_jobs(parks, instance_id) == ["done"]
    [kept] = kept_records(browser("xinghe"), instance_id)
    stored = kept.read_bytes()
    text = pdf_text(stored)
    assert load_instance(parks, instance_id).reference in text
    assert "审批单" in text and "李娜" in text  # in Chinese, with the director's decision
    # every download hands out the stored file, whoever asks in whatever language
    for viewer, language in (("zhang.wei", "zh-CN"), ("xinghe", "en")):
        answer = browser(viewer).get(
            f"/applications/{instance_id}/print", headers={"Accept-Language": language}
        )
        assert answer.status_code == 200 and answer.data == stored
    # a second run (a retried job) leaves the kept record as it is
    now = datetime.now(UTC)
    job = jobs.ClaimedJob(
        id=0,
        kind=ARCHIVE_JOB,
        park_id=load_instance(parks, instance_id).park_id,
        instance_id=instance_id,
        task_id=None,
        due_at=now,
        payload={},
        attempts=1,
    )
    archive_on_finish(app)(drawing_worker(parks, app).context, job, now)
    assert kept.read_bytes() == stored and len(kept_records(browser("xinghe"), instance_id)) == 1


def test_a_record_printed_first_is_the_one_kept(
    parks: Database, browser: OpenBrowser, app: Flask
) -> None:
    instance_id = completed_application(parks)
    printed = (
        browser("xinghe")
        .get(f"/applications/{instance_id}/print", headers={"Accept-Language": "en"})
        .data
    )

    drawing_worker(parks, app).run_until_idle()

    [kept] = kept_records(browser("xinghe"), instance_id)
    assert kept.read_bytes() == printed


def test_refused_and_withdrawn_applications_are_kept_too(
    parks: Database, browser: OpenBrowser, app: Flask
) -> None:
    rejected = start(parks)
    complete(
        parks,
        rejected,
        "preliminary_review",
        {"outcome": "reject", "comment": "不符合"},
        "zhang.wei",
    )
    withdrawn = start(parks)
    withdraw_application(parks, instance_id=withdrawn, actor="xinghe", reason="材料有误")

    drawing_worker(parks, app).run_until_idle()

    for instance_id in (rejected, withdrawn):
        [kept] = kept_records(browser("xinghe"), instance_id)
        assert load_instance(parks, instance_id).reference in pdf_text(kept.read_bytes())


def test_a_worker_that_draws_no_pages_leaves_the_record_to_the_first_print(
    parks: Database, browser: OpenBrowser
) -> None:
    instance_id = completed_application(parks)

    Worker(parks, worker_id="test-worker").run_until_idle()

    assert archive_jobs(parks, instance_id) == ["done"]
    assert kept_records(browser("xinghe"), instance_id) == []
    first = browser("xinghe").get(f"/applications/{instance_id}/print")
    assert [Path(p).read_bytes() for p in kept_records(browser("xinghe"), instance_id)] == [
        first.data
    ]
