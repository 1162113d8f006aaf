"""The task page: the application, its form checked on the server, claim and give back."""

from __future__ import annotations

import io
import re
from collections.abc import Callable

from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import (
    APPLICATION,
    REASONS,
    complete,
    history,
    open_tasks,
    start,
)
from tests.webapp.pages.conftest import PDF
from webapp.db import Database

OpenBrowser = Callable[..., Browser]


def returned_application(db: Database) -> str:
    """A subsidy application the reviewer returned with the two example reasons."""
    instance_id = start(db)
    complete(db, instance_id, "preliminary_review",
             {"outcome": "return", "return_reasons": REASONS, "comment": "请一次补齐"},
             "zhang.wei")
    return instance_id


def field_errors(html: str, name: str) -> list[str]:
    """The messages shown beside one field."""
    block = re.search(rf'id="f-{name}-error">(.*?)</div>', html, re.S)
    return re.findall(r"<p>(.*?)</p>", block.group(1), re.S) if block else []


def test_the_reviewer_sees_the_application_and_the_form(parks: Database,
                                                        browser: OpenBrowser) -> None:
    instance_id = start(parks)
    task = open_tasks(parks, instance_id)["preliminary_review"]
    html = text_of(browser("zhang.wei").get(f"/tasks/{task.id}"))
    assert "初审" in html and "DEMO-2026-000001" in html
    assert APPLICATION["credit_code"] in html and "12,000,000" in html  # the application
    # the outcome as labelled radio buttons, reasons as one-per-line text
    # a refusal cannot be undone: the page asks again before sending it (data-final)
    for value, label, final in (("approve", "通过", ""), ("return", "退回补正", ""),
                                ("reject", "不予受理", " data-final")):
        assert re.search(rf'<input type="radio" id="f-outcome-\d" name="outcome" '
                         rf'value="{value}"\s*{final}>\s*<span>{label}</span>', html)
    question = html.split('data-confirm="')[1].split('"')[0]
    assert "DEMO-2026-000001" in question and "政策扶持资金申请" in question
    assert '<textarea id="f-return_reasons" name="return_reasons"' in html
    assert '<label for="f-comment">' in html
    assert '"current": ["preliminary_review"]' in html.replace("&#34;", '"')
    assert f'data-bpmn-url="/applications/{instance_id}/diagram.bpmn"' in html
    assert 'enctype="multipart/form-data"' in html and 'name="csrf_token"' in html


def test_a_return_without_reasons_is_shown_beside_the_field(parks: Database,
                                                           browser: OpenBrowser) -> None:
    instance_id = start(parks)
    task = open_tasks(parks, instance_id)["preliminary_review"]
    reviewer = browser("zhang.wei")
    answer = reviewer.post(f"/tasks/{task.id}", {"outcome": "return", "return_reasons": "\n \n"})
    assert answer.status_code == 422
    html = text_of(answer)
    assert field_errors(html, "return_reasons") == ["此项为必填项。"]
    assert 'aria-invalid="true"' in html and 'class="error-summary"' in html
    assert 'value="return" checked' in html  # what was chosen stays chosen
    rejected = reviewer.post(f"/tasks/{task.id}", {"outcome": "reject"})
    assert rejected.status_code == 422
    assert field_errors(text_of(rejected), "comment") == ["此项为必填项。"]
    nothing = reviewer.post(f"/tasks/{task.id}", {})
    assert field_errors(text_of(nothing), "outcome") == ["此项为必填项。"]
    wrong = reviewer.post(f"/tasks/{task.id}", {"outcome": "maybe"})
    assert field_errors(text_of(wrong), "outcome") == ["请从给出的选项中选择。"]
    assert "preliminary_review" in open_tasks(parks, instance_id)


def test_a_return_lists_every_reason_at_once(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    task = open_tasks(parks, instance_id)["preliminary_review"]
    answer = browser("zhang.wei").post(f"/tasks/{task.id}", {
        "outcome": "return", "return_reasons": f" {REASONS[0]} \r\n\r\n{REASONS[1]}\r\n"})
    assert answer.status_code == 302 and answer.location == "/inbox"
    step = [s for s in history(parks, instance_id) if s.element_id == "preliminary_review"][0]
    assert step.outcome == "return" and step.data == {"outcome": "return",
                                                      "return_reasons": REASONS}


def test_the_enterprise_answers_a_correction_with_new_files(parks: Database,
                                                          browser: OpenBrowser) -> None:
    instance_id = returned_application(parks)
    correction = open_tasks(parks, instance_id)["correction"]
    enterprise = browser("xinghe")
    page = text_of(enterprise.get(f"/tasks/{correction.id}"))
    assert all(reason in page for reason in REASONS)
    assert "认领" not in page  # enterprises do not claim
    empty = enterprise.post(f"/tasks/{correction.id}", {"correction_note": ""})
    assert empty.status_code == 422
    assert field_errors(text_of(empty), "correction_note") == ["此项为必填项。"]
    assert field_errors(text_of(empty), "attachments") == ["此项为必填项。"]

    # the whole application is open to correction: the browser sends back the commitment
    # the form opened with, ticked
    answer = enterprise.post(f"/tasks/{correction.id}", {
        "correction_note": "已补充审计报告", "requested_amount": "900,000", "commitment": "on",
        "attachments__upload": [(_pdf(), "审计报告.pdf"), (_pdf(), "营业执照(盖章).pdf")]})
    assert answer.status_code == 302
    assert answer.location == f"/applications/{instance_id}"
    step = [s for s in history(parks, instance_id) if s.element_id == "correction"][0]
    assert step.data is not None and step.data["requested_amount"] == 900000
    assert len(step.data["attachments"]) == 2
    files = text_of(enterprise.get(f"/applications/{instance_id}"))
    assert "审计报告.pdf" in files and "营业执照(盖章).pdf" in files


def test_a_refused_file_is_named_beside_the_field(parks: Database, browser: OpenBrowser) -> None:
    instance_id = returned_application(parks)
    correction = open_tasks(parks, instance_id)["correction"]
    answer = browser("xinghe").post(f"/tasks/{correction.id}", {
        "correction_note": "见附件", "commitment": "on",
        "attachments__upload": [(_bytes(b"MZ\x90\x00 not a document"), "报告.pdf")]})
    assert answer.status_code == 422
    assert "报告.pdf 未被接受" in field_errors(text_of(answer), "attachments")[0]
    assert "correction" in open_tasks(parks, instance_id)


def test_claiming_and_giving_back(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    task = open_tasks(parks, instance_id)["preliminary_review"]
    reviewer = browser("zhang.wei")
    assert reviewer.post(f"/tasks/{task.id}/claim").status_code == 302
    assert open_tasks(parks, instance_id)["preliminary_review"].assignee == "zhang.wei"
    page = text_of(reviewer.get(f"/tasks/{task.id}"))
    assert f'action="/tasks/{task.id}/unclaim"' in page
    assert reviewer.post(f"/tasks/{task.id}/unclaim").status_code == 302
    assert open_tasks(parks, instance_id)["preliminary_review"].assignee is None
    assert reviewer.post(f"/tasks/{task.id}/unclaim").status_code == 409


def test_only_candidates_may_work_on_a_task(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    task = open_tasks(parks, instance_id)["preliminary_review"]
    admin = browser("admin")
    page = text_of(admin.get(f"/tasks/{task.id}"))
    assert "此任务由他人办理" in page and 'name="outcome"' not in page
    assert admin.post(f"/tasks/{task.id}", {"outcome": "approve"}).status_code == 403
    assert admin.post(f"/tasks/{task.id}/claim").status_code == 403
    assert "preliminary_review" in open_tasks(parks, instance_id)


def test_other_parks_and_enterprises_see_nothing(parks: Database, browser: OpenBrowser) -> None:
    instance_id = returned_application(parks)
    correction = open_tasks(parks, instance_id)["correction"].id
    review = [s for s in history(parks, instance_id) if s.element_id == "preliminary_review"][0]
    for username in ("other.reviewer", "other.ent", "lanhai", "li.na"):
        visitor = browser(username)
        for url in (f"/tasks/{correction}", f"/tasks/{review.task_id}"):
            assert visitor.get(url).status_code == 404, (username, url)
        assert visitor.post(f"/tasks/{correction}", {"correction_note": "x"}).status_code == 404
        assert visitor.post(f"/tasks/{correction}/claim").status_code == 404
    # the reviewer sees the correction task but may not do it
    assert browser("zhang.wei").post(f"/tasks/{correction}",
                                     {"correction_note": "x"}).status_code == 403
    assert browser("zhang.wei").get("/tasks/" + "x" * 300).status_code == 404


def test_a_finished_task_shows_what_was_decided(parks: Database, browser: OpenBrowser) -> None:
    instance_id = returned_application(parks)
    review = [s for s in history(parks, instance_id) if s.element_id == "preliminary_review"][0]
    reviewer = browser("zhang.wei")
    page = text_of(reviewer.get(f"/tasks/{review.task_id}"))
    assert "已完成" in page and REASONS[0] in page and "<form method=\"post\" action=\"/tasks" \
        not in page
    answer = reviewer.post(f"/tasks/{review.task_id}", {"outcome": "approve"})
    assert answer.status_code == 409


def test_completing_needs_the_csrf_token(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    task = open_tasks(parks, instance_id)["preliminary_review"]
    reviewer = browser("zhang.wei")
    assert reviewer.post(f"/tasks/{task.id}", {"outcome": "approve"},
                         csrf=False).status_code == 400
    assert "preliminary_review" in open_tasks(parks, instance_id)


def test_the_english_page_keeps_the_park_words_and_translates_the_rest(
        parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    task = open_tasks(parks, instance_id)["preliminary_review"]
    reviewer = browser("zhang.wei")
    reviewer.post("/language", {"locale": "en"})
    answer = reviewer.post(f"/tasks/{task.id}", {"outcome": "return"})
    html = text_of(answer)
    assert '<html lang="en">' in html and "初审" in html
    assert field_errors(html, "return_reasons") == ["This field is required."]
    assert "Please correct the following" in html


def _pdf() -> io.BytesIO:
    return io.BytesIO(PDF)


def _bytes(content: bytes) -> io.BytesIO:
    return io.BytesIO(content)
