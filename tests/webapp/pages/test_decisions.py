"""The task and application pages: each form its own, earlier decisions beside it, and only
the form's own fields taken."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import complete, open_tasks, start
from tests.webapp.pages.conftest import PDF
from tests.webapp.pages.test_applications import FORM
from tests.webapp.pages.test_tasks import returned_application
from webapp.db import Database

OpenBrowser = Callable[..., Browser]
ACCEPTED = {"outcome": "approve", "comment": "材料齐全，同意受理。"}


def _form(html: str) -> str:
    """The task's form card."""
    return html[html.index('id="form-title"') : html.index('id="now-title"')]


def _checked(html: str) -> list[str]:
    """The inputs shown ticked or chosen."""
    return re.findall(r"<input[^>]*\bchecked\b[^>]*>", html)


def test_the_director_sees_the_first_decision_beside_a_blank_form(
    parks: Database, browser: OpenBrowser
) -> None:
    instance_id = start(parks)
    complete(parks, instance_id, "preliminary_review", ACCEPTED, "zhang.wei")
    task = open_tasks(parks, instance_id)["director_review"]

    html = text_of(browser("li.na").get(f"/tasks/{task.id}"))

    decisions = html[html.index('id="decisions-title"') : html.index('id="form-title"')]
    assert "初审" in decisions and "张伟（政策审核）" in decisions and "通过" in decisions
    assert ACCEPTED["comment"] in decisions
    form = _form(html)
    assert _checked(form) == []
    assert ACCEPTED["comment"] not in form
    # the award the eligibility table fixed is shown in the form, read-only
    assert "核定金额（元）" in form


def test_a_second_round_of_review_opens_blank(parks: Database, browser: OpenBrowser) -> None:
    instance_id = returned_application(parks)
    complete(
        parks,
        instance_id,
        "correction",
        {"correction_note": "已补充审计报告", "attachments": ["a"]},
        "xinghe",
    )
    task = open_tasks(parks, instance_id)["preliminary_review"]

    html = text_of(browser("zhang.wei").get(f"/tasks/{task.id}"))

    form = _form(html)
    assert _checked(form) == [] and "请一次补齐" not in form
    decisions = html[html.index('id="decisions-title"') : html.index('id="form-title"')]
    assert "退回补正" in decisions and "已补充审计报告" in decisions


def test_the_correction_opens_with_the_application_to_correct(
    parks: Database, browser: OpenBrowser
) -> None:
    instance_id = returned_application(parks)
    task = open_tasks(parks, instance_id)["correction"]

    html = text_of(browser("xinghe").get(f"/tasks/{task.id}"))

    # the form declares these prefilled from the application (x-prefill)
    assert re.search(r'name="requested_amount"[^>]*value="800000"', html)
    assert re.search(r'name="correction_note"[^>]*>\s*</textarea>', html)


def test_a_task_page_refuses_a_field_its_form_does_not_define(
    parks: Database, browser: OpenBrowser
) -> None:
    instance_id = start(parks)
    task = open_tasks(parks, instance_id)["preliminary_review"]

    answer = browser("zhang.wei").post(f"/tasks/{task.id}", {**ACCEPTED, "amount": "1"})

    assert answer.status_code == 422
    assert "此表单未定义的字段：amount" in text_of(answer)
    assert "preliminary_review" in open_tasks(parks, instance_id)


def test_an_application_with_an_extra_field_is_refused(
    parks: Database, browser: OpenBrowser
) -> None:
    answer = browser("xinghe").post(
        "/applications/new/policy_subsidy",
        {**FORM, "outcome": "approve", "attachments__upload": (io.BytesIO(PDF), "营业执照.pdf")},
    )

    assert answer.status_code == 422
    assert "此表单未定义的字段：outcome" in text_of(answer)


def test_the_enterprise_name_typed_on_the_page_is_not_taken(
    parks: Database, browser: OpenBrowser
) -> None:
    answer = browser("xinghe").post(
        "/applications/new/policy_subsidy",
        {
            **FORM,
            "company_name": "别家公司",
            "attachments__upload": (io.BytesIO(PDF), "营业执照.pdf"),
        },
    )

    assert answer.status_code == 302
    instance_id = answer.location.rsplit("/", 1)[1]
    page = text_of(
        browser("zhang.wei").get(
            f"/tasks/{open_tasks(parks, instance_id)['preliminary_review'].id}"
        )
    )
    assert "星河科技有限公司" in page and "别家公司" not in page
