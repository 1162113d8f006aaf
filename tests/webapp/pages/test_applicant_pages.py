"""The applicant's and the reader's pages: 撤回 and 催办 in 我的申请, the inbox's 已办 and 抄送我
tabs, 催办 marks, the phrase picker beside the comment box, and the park's rules."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import complete, load_instance, open_tasks, start
from webapp.db import Database

OpenBrowser = Callable[..., Browser]


def test_my_applications_offer_withdraw_and_urge_until_a_reviewer_acted(
    parks: Database, browser: OpenBrowser
) -> None:
    fresh = start(parks)
    handled = start(parks)
    complete(parks, handled, "preliminary_review", {"outcome": "approve"}, "zhang.wei")

    html = text_of(browser("xinghe").get("/applications"))

    assert f'action="/applications/{fresh}/withdraw"' in html
    assert f'action="/applications/{fresh}/urge"' in html
    assert f'action="/applications/{handled}/withdraw"' not in html
    assert f'action="/applications/{handled}/urge"' in html  # the director's review waits
    assert html.count('data-refused="withdraw"') == 1
    assert "初审" in html.split('data-refused="withdraw">', 1)[1].split("</span>", 1)[0]
    # a reviewer following the same applications is offered neither
    staff = text_of(browser("zhang.wei").get("/applications"))
    assert "/withdraw" not in staff and "/urge" not in staff


def test_withdraw_and_urge_from_the_page(parks: Database, browser: OpenBrowser) -> None:
    withdrawn = start(parks)
    urged = start(parks)
    applicant = browser("xinghe")

    gone = applicant.post(f"/applications/{withdrawn}/withdraw", {"next": "/applications"})
    first = applicant.post(f"/applications/{urged}/urge")
    again = applicant.post(f"/applications/{urged}/urge", follow_redirects=True)

    assert gone.status_code == 302 and gone.headers["Location"] == "/applications"
    assert load_instance(parks, withdrawn).result == "withdrawn"
    assert first.status_code == 302
    assert 'class="flash flash-error"' in text_of(again)
    listed = text_of(applicant.get("/applications"))
    assert f'action="/applications/{urged}/urge"' not in listed
    assert f'action="/applications/{withdrawn}/withdraw"' not in listed
    # someone else's application is not there to withdraw
    assert browser("lanhai").post(f"/applications/{urged}/withdraw").status_code == 404
    assert browser("zhang.wei").post(f"/applications/{urged}/withdraw").status_code == 302
    assert load_instance(parks, urged).status == "active"


def test_the_holder_sees_the_urge_in_the_inbox_and_on_the_task(
    parks: Database, browser: OpenBrowser
) -> None:
    instance_id = start(parks)
    task = open_tasks(parks, instance_id)["preliminary_review"]
    reviewer = browser("zhang.wei")
    before = text_of(reviewer.get("/inbox"))
    browser("xinghe").post(f"/applications/{instance_id}/urge", {"comment": "请尽快"})

    inbox = text_of(reviewer.get("/inbox"))
    page = text_of(reviewer.get(f"/tasks/{task.id}"))

    assert "data-urged" not in before
    assert 'data-urged="1"' in inbox
    assert 'id="urged" data-urged="1"' in page


def test_the_done_tab_lists_what_i_completed(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    reference = load_instance(parks, instance_id).reference
    task_id = complete(
        parks, instance_id, "preliminary_review", {"outcome": "approve"}, "zhang.wei"
    )

    mine = text_of(browser("zhang.wei").get("/inbox/done"))
    theirs = text_of(browser("li.na").get("/inbox/done"))

    assert f'<a href="/tasks/{task_id}">{reference}</a>' in mine
    assert 'aria-current="page">' in mine
    assert reference not in theirs
    assert browser("zhang.wei").get("/inbox/done?after=nonsense").status_code == 400


def test_a_copy_is_unread_until_opened(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    reference = load_instance(parks, instance_id).reference
    reviewer = browser("zhang.wei")
    leader = browser("wang.qiang")
    assert leader.get(f"/applications/{instance_id}").status_code == 404

    copied = reviewer.post(f"/applications/{instance_id}/cc", {"usernames": "wang.qiang，"})
    unread = text_of(leader.get("/inbox/cc"))
    shown = leader.get(f"/applications/{instance_id}")
    read = text_of(leader.get("/inbox/cc"))

    assert copied.status_code == 302
    assert re.search(
        rf'<tr class="row-unread">\s*<td[^>]*><a href="/applications/'
        rf'{instance_id}">{reference}</a>',
        unread,
    )
    assert '<span class="badge"' in unread
    assert "张伟（政策审核）" in unread  # who copied it, by name
    assert shown.status_code == 200
    assert reference in read and "row-unread" not in read
    task = open_tasks(parks, instance_id)["preliminary_review"]
    assert leader.get(f"/tasks/{task.id}").status_code == 403


def test_copying_refusals_are_said(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)

    bad = browser("zhang.wei").post(
        f"/applications/{instance_id}/cc", {"usernames": "nobody"}, follow_redirects=True
    )
    forbidden = browser("xinghe").post(
        f"/applications/{instance_id}/cc", {"usernames": "li.na"}, follow_redirects=True
    )

    assert 'class="flash flash-error"' in text_of(bad)
    assert "nobody" in text_of(bad)
    assert 'class="flash flash-error"' in text_of(forbidden)


def test_the_phrase_picker_beside_the_comment_box(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    task = open_tasks(parks, instance_id)["preliminary_review"]
    reviewer = browser("zhang.wei")
    page = f"/tasks/{task.id}"

    kept = reviewer.post("/phrases", {"text": "情况属实。", "next": page})
    html = text_of(reviewer.get(page))
    phrase_id = re.search(r'action="/phrases/(\d+)/delete"', html)

    assert kept.status_code == 302 and kept.headers["Location"] == page
    assert 'data-phrase-target="f-comment"' in html
    assert 'data-phrase="同意。"' in html and 'data-phrase="情况属实。"' in html
    assert phrase_id is not None
    removed = reviewer.post(f"/phrases/{phrase_id.group(1)}/delete", {"next": page})
    assert removed.status_code == 302
    assert 'data-phrase="情况属实。"' not in text_of(reviewer.get(page))
    refused = reviewer.post("/phrases", {"text": "  ", "next": page}, follow_redirects=True)
    assert 'class="flash flash-error"' in text_of(refused)


def test_the_park_sets_its_rules_on_the_settings_page(
    parks: Database, browser: OpenBrowser
) -> None:
    admin = browser("admin")

    saved = admin.post(
        "/admin/settings/applicant",
        {"withdraw_kind": "within_hours", "withdraw_hours": "6", "urge_interval_hours": "12"},
    )
    page = text_of(admin.get("/admin/settings"))
    refused = admin.post(
        "/admin/settings/applicant",
        {"withdraw_kind": "within_hours", "withdraw_hours": "0", "urge_interval_hours": "12"},
    )

    assert saved.status_code == 302
    assert (
        'id="f-withdraw_kind-within_hours" name="withdraw_kind" value="within_hours" checked'
        in page
    )
    assert 'name="withdraw_hours" min="1" max="8784" value="6"' in page
    assert 'name="urge_interval_hours" min="1" max="8784" value="12"' in page
    assert refused.status_code == 422
    assert browser("zhang.wei").post(
        "/admin/settings/applicant", {"withdraw_kind": "never", "urge_interval_hours": "1"}
    ).status_code in (403, 404)
