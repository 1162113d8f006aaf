"""暂存: an application form saved unfinished, resumed from 我的申请, sent or deleted."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from sqlalchemy import func, select

from tests.webapp.apptools import Browser, text_of
from tests.webapp.pages.conftest import PDF
from tests.webapp.pages.test_applications import FORM
from webapp.db import Database
from webapp.models import Attachment, Draft, Instance

OpenBrowser = Callable[..., Browser]
NEW = "/applications/new/policy_subsidy"


def count(db: Database, model: type) -> int:
    with db.read() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_a_draft_keeps_fields_and_files_and_becomes_an_application(
    parks: Database, browser: OpenBrowser
) -> None:
    enterprise = browser("xinghe")
    saved = enterprise.post(
        NEW,
        {
            "credit_code": "91320594MA1W2X3Y4K",
            "requested_amount": "800,000",
            "attachments__upload": (io.BytesIO(PDF), "营业执照.pdf"),
            "save_draft": "1",
        },
    )
    assert saved.status_code == 302 and saved.location.endswith("/applications#drafts-title")
    # no application: no reference, no clock, nothing the park sees
    assert count(parks, Instance) == 0 and count(parks, Draft) == 1
    with parks.read() as session:
        draft_id, values = session.execute(select(Draft.id, Draft.values)).one()
        upload_id, linked = session.execute(select(Attachment.id, Attachment.instance_id)).one()
    assert linked is None and values["attachments"] == [upload_id]
    listing = text_of(enterprise.get("/applications"))
    assert 'id="drafts-title"' in listing and "政策扶持资金申请" in listing
    assert f'href="{NEW}?draft={draft_id}"' in listing
    assert "暂存的申请" in listing and "尚未提交" in listing
    assert 'id="drafts-title"' not in text_of(browser("zhang.wei").get("/applications"))

    form = text_of(enterprise.get(f"{NEW}?draft={draft_id}"))
    assert 'value="91320594MA1W2X3Y4K"' in form and 'value="800,000"' in form
    assert "营业执照.pdf" in form and f'value="{upload_id}" checked' in form
    assert f'name="draft_id" value="{draft_id}"' in form

    # saved again: the same draft, not a second one
    again = enterprise.post(
        NEW,
        {
            "draft_id": draft_id,
            "credit_code": "91320594MA1W2X3Y4K",
            "attachments": upload_id,
            "save_draft": "1",
        },
    )
    assert again.status_code == 302 and count(parks, Draft) == 1

    sent = enterprise.post(NEW, {**FORM, "attachments": upload_id, "draft_id": draft_id})
    assert sent.status_code == 302 and re.search(r"/applications/[0-9a-f-]{36}$", sent.location)
    assert count(parks, Draft) == 0 and count(parks, Instance) == 1
    with parks.read() as session:
        assert session.get_one(Attachment, upload_id).instance_id is not None


def test_a_draft_is_its_owners_alone_and_can_be_deleted(
    parks: Database, browser: OpenBrowser
) -> None:
    enterprise = browser("xinghe")
    enterprise.post(NEW, {"credit_code": "9132", "save_draft": "1"})
    with parks.read() as session:
        draft_id = session.scalars(select(Draft.id)).one()
    for outsider in ("lanhai", "other.ent", "zhang.wei"):
        visitor = browser(outsider)
        answer = visitor.get(f"{NEW}?draft={draft_id}")
        assert answer.status_code in (403, 404) or "9132" not in text_of(answer), outsider
        assert visitor.post(f"/drafts/{draft_id}/delete").status_code in (403, 404), outsider
    assert count(parks, Draft) == 1
    assert enterprise.post(f"/drafts/{draft_id}/delete").status_code == 302
    assert count(parks, Draft) == 0
    assert enterprise.get(f"{NEW}?draft={draft_id}").status_code == 404
