"""The task page's hand-offs, the 我的委托 page and the timeline's approval actions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import open_tasks, start
from webapp.db import Database, utcnow
from webapp.models import HumanTask
from webapp.pages.timeline import ACTIONS, ON_TIMELINE, describe
from webapp.services import substitutes
from webapp.services.applications import complete_task

OpenBrowser = Callable[..., Browser]
# the audit actions of the shared contract, every one of which the timeline must know
CONTRACT = (
    "task.transferred",
    "task.delegated",
    "task.delegation_resolved",
    "task.signers_added",
    "task.signers_removed",
    "task.substituted",
    "substitute.set",
    "substitute.ended",
    "instance.withdrawn",
    "instance.urged",
    "instance.cc",
    "task.returned",
    "task.completed",
    "task.reminded",
    "task.auto_approved",
    "task.auto_returned",
    "task.timeout_transferred",
    "task.skipped",
    "task.to_admins",
    "task.auto_rejected",
    "task.closed_by_mode",
    "task.closed_by_return",
)


def _review(db: Database) -> tuple[str, str]:
    instance_id = start(db)
    return instance_id, open_tasks(db, instance_id)["preliminary_review"].id


def _rows(db: Database, instance_id: str) -> list[HumanTask]:
    with db.read() as session:
        rows = list(
            session.scalars(
                select(HumanTask).where(
                    HumanTask.instance_id == instance_id, HumanTask.status == "open"
                )
            )
        )
        session.expunge_all()
        return rows


def test_every_contract_action_has_a_label() -> None:
    assert set(CONTRACT) <= set(ACTIONS)
    for name in CONTRACT:
        assert str(ACTIONS[name].label), name
    # completions are shown by their steps, user-level substitutions on 我的委托
    assert {"task.completed", "substitute.set", "substitute.ended"}.isdisjoint(ON_TIMELINE)


def test_the_holder_sees_the_dialogs_and_a_picker(parks: Database, browser: OpenBrowser) -> None:
    _, task = _review(parks)

    html = text_of(browser("zhang.wei").get(f"/tasks/{task}"))

    for dialog in ("dialog-transfer", "dialog-delegate", "dialog-add-signers"):
        assert f'id="{dialog}"' in html
    assert 'id="dialog-remove-signers"' not in html  # nobody to remove yet
    assert '<option value="li.na">李娜（部门负责人）' in html
    assert '<option value="xinghe">' not in html  # enterprise users are not offered
    assert text_of(browser("xinghe").get(f"/tasks/{task}")).count("dialog-transfer") == 0


def test_transfer_from_the_page(parks: Database, browser: OpenBrowser) -> None:
    instance_id, task = _review(parks)
    reviewer = browser("zhang.wei")
    page = reviewer.get(f"/tasks/{task}")
    assert page.status_code == 200

    done = reviewer.post(f"/tasks/{task}/transfer", {"username": "li.na", "comment": "请办理"})

    assert done.status_code == 302
    [row] = _rows(parks, instance_id)
    assert row.assignee == "li.na"
    html = text_of(browser("li.na").get(f"/tasks/{task}"))
    assert "dialog-transfer" in html
    timeline = html.split('id="timeline-title"')[1]
    assert "转办" in timeline and "请办理" in timeline and "李娜（部门负责人）" in timeline


def test_a_refusal_is_shown_on_the_task_page(parks: Database, browser: OpenBrowser) -> None:
    _, task = _review(parks)
    reviewer = browser("zhang.wei")

    refused = reviewer.post(f"/tasks/{task}/transfer", {"username": "xinghe"})
    page = text_of(reviewer.get(f"/tasks/{task}"))

    assert refused.status_code == 302
    assert "is an enterprise user" in page


def test_delegation_and_signers_on_the_page(parks: Database, browser: OpenBrowser) -> None:
    instance_id, task = _review(parks)
    reviewer = browser("zhang.wei")
    assert reviewer.post(f"/tasks/{task}/delegate", {"username": "li.na"}).status_code == 302

    html = text_of(reviewer.get(f"/tasks/{task}"))
    assert "委派给 李娜（部门负责人） 处理中" in html
    [extra] = [r for r in _rows(parks, instance_id) if r.parent_id == task]
    delegate_page = text_of(browser("li.na").get(f"/tasks/{extra.id}"))
    assert "dialog-transfer" not in delegate_page  # a delegation is not handed on
    done = browser("li.na").post(
        f"/tasks/{extra.id}", {"outcome": "approve", "comment": "材料齐全"}
    )
    assert done.status_code == 302
    back = text_of(reviewer.get(f"/tasks/{task}"))
    assert "李娜（部门负责人） 已处理，待你确认" in back
    assert (
        reviewer.post(
            f"/tasks/{task}/add-signers", {"usernames": ["wang.qiang", ""], "position": "before"}
        ).status_code
        == 302
    )
    signers = text_of(reviewer.get(f"/tasks/{task}"))
    assert 'id="dialog-remove-signers"' in signers and "前加签" in signers
    timeline = signers.split('id="timeline-title"')[1]
    for label in ("委派", "委派处理完毕", "加签"):
        assert label in timeline, label
    assert (
        reviewer.post(f"/tasks/{task}/remove-signers", {"usernames": "wang.qiang"}).status_code
        == 302
    )
    assert [r.assignee for r in _rows(parks, instance_id)] == ["zhang.wei"]


def test_substitute_page_and_routing(parks: Database, browser: OpenBrowser) -> None:
    leader = browser("li.na")
    today = (utcnow() + timedelta(hours=8)).date()
    saved = leader.post(
        "/me/substitute",
        {
            "username": "wang.qiang",
            "from": today.isoformat(),
            "until": (today + timedelta(days=2)).isoformat(),
        },
    )
    assert saved.status_code == 302
    page = text_of(leader.get("/me/substitute"))
    assert "王强（园区领导）" in page and 'id="no-substitution"' not in page
    admin_page = text_of(browser("admin").get("/me/substitute"))
    assert 'id="park-substitutions"' in admin_page and "李娜（部门负责人）" in admin_page

    # a transfer to someone away reaches their substitute, on their behalf
    instance_id, task = _review(parks)
    reviewer = browser("zhang.wei")
    assert reviewer.post(f"/tasks/{task}/transfer", {"username": "li.na"}).status_code == 302
    [row] = _rows(parks, instance_id)
    assert (row.assignee, row.on_behalf_of) == ("wang.qiang", "li.na")
    html = text_of(browser("wang.qiang").get(f"/tasks/{task}"))
    assert "代 李娜（部门负责人） 办理" in html
    inbox = text_of(browser("wang.qiang").get("/inbox"))
    assert "代 li.na 办理" in inbox
    complete_task(
        parks, task_id=task, data={"outcome": "approve", "comment": "同意"}, actor="wang.qiang"
    )
    timeline = text_of(browser("admin").get(f"/applications/{instance_id}")).split(
        'id="timeline-title"'
    )[1]
    assert "王强（园区领导）（代 李娜（部门负责人））" in timeline
    assert "王强（园区领导） 代 李娜（部门负责人） 办理" in timeline

    with parks.read() as session:
        [mine] = substitutes.mine(session, "li.na")
    assert mine.active
    ended = browser("admin").post("/me/substitute/end", {"id": mine.id})
    assert ended.status_code == 302
    with parks.read() as session:
        assert substitutes.mine(session, "li.na") == []
    assert 'id="no-substitution"' in text_of(leader.get("/me/substitute"))


def test_substitute_form_refusals(parks: Database, browser: OpenBrowser) -> None:
    reviewer = browser("zhang.wei")
    for form in (
        {"username": "zhang.wei", "from": "2026-03-02", "until": "2026-03-03"},
        {"username": "li.na", "from": "someday", "until": "2026-03-03"},
        {"username": "li.na", "from": "2026-03-05", "until": "2026-03-03"},
        {"username": "xinghe", "from": "2026-03-02", "until": "2099-03-03"},
    ):
        assert reviewer.post("/me/substitute", form).status_code == 422, form


def test_describe_names_people_and_positions() -> None:
    names = {"li.na": "李娜", "zhang.wei": "张伟"}

    added = describe(
        "task.signers_added",
        "zhang.wei",
        {"name": "初审", "usernames": ["li.na"], "position": "before", "comment": " 请会签 "},
        names,
    )
    substituted = describe(
        "task.substituted",
        None,
        {"name": "初审", "for_user": "zhang.wei", "substitute": "li.na"},
        names,
    )

    assert added is not None and substituted is not None
    assert (added.actor, added.name, added.comment) == ("张伟", "初审", " 请会签 ")
    assert "李娜" in added.note
    assert "李娜" in substituted.note and "张伟" in substituted.note
    assert describe("task.completed", "zhang.wei", {}, names) is None
    assert describe("no.such.action", "zhang.wei", {}, names) is None
