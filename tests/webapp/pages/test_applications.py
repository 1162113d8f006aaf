"""Applying from the catalogue, following an application, its files and its rating."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable

import time_machine
from sqlalchemy import select

from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import (
    CORRECTION,
    HANDOVER,
    MONDAY,
    REASONS,
    complete,
    load_instance,
    local,
    open_tasks,
    start,
)
from tests.webapp.pages.conftest import PDF
from webapp.db import Database
from webapp.models import Attachment, Rating
from webapp.pages.dossier import LATEST_RETURNS, LATEST_STEPS
from webapp.services.applications import fire_timers
from webapp.services.attachments import MAX_FILE_BYTES

OpenBrowser = Callable[..., Browser]
FORM = {
    "company_name": "星河科技有限公司", "credit_code": "91320594MA1W2X3Y4K",
    "enterprise_type": "高新技术企业", "policy_item": "研发投入补助",
    "requested_amount": "800,000", "rd_spend": "12000000", "revenue": "200000000",
    "employee_count": "120", "contact_name": "李娜", "contact_phone": "13812345678",
    "commitment": "on",
}


def completed_application(db: Database) -> str:
    """A subsidy application approved, published and handed over: completed."""
    with time_machine.travel(MONDAY, tick=False) as clock:
        instance_id = start(db)
        complete(db, instance_id, "preliminary_review", {"outcome": "approve"}, "zhang.wei")
        complete(db, instance_id, "director_review", {"outcome": "approve"}, "li.na")
        clock.move_to(local(9, second=1))
        fire_timers(db, instance_id=instance_id)
        complete(db, instance_id, "disbursement_handover", HANDOVER, "zhao.min")
    assert load_instance(db, instance_id).status == "completed"
    return instance_id


def field_errors(html: str, name: str) -> list[str]:
    block = re.search(rf'id="f-{name}-error">(.*?)</div>', html, re.S)
    return re.findall(r"<p>(.*?)</p>", block.group(1), re.S) if block else []


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<document/>")
    return buffer.getvalue()


def test_the_catalogue_lists_the_park_services(browser: OpenBrowser) -> None:
    enterprise = text_of(browser("xinghe").get("/applications"))
    for name in ("政策扶持资金申请", "企业入驻登记", "税务对接", "资金拨付"):
        assert name in enterprise
    assert "政策扶持资金申请：园区的重点服务事项" in enterprise  # bpmn:documentation, in Chinese
    assert "Policy subsidy application, the park" not in enterprise
    assert "20 个工作日" in enterprise
    assert 'href="/applications/new/policy_subsidy"' in enterprise
    # the park itself starts fund disbursement: no button for enterprises
    assert 'href="/applications/new/fund_disbursement"' not in enterprise
    reviewer = text_of(browser("zhang.wei").get("/applications"))
    assert "政策扶持资金申请" in reviewer and "/applications/new/" not in reviewer


def test_the_lists_show_status_step_holder_and_promise(parks: Database,
                                                      browser: OpenBrowser) -> None:
    instance_id = start(parks)
    start(parks, actor="lanhai")
    html = text_of(browser("xinghe").get("/applications"))
    assert html.count('href="/applications/') - html.count('/applications/new/') == 1
    assert f'href="/applications/{instance_id}"' in html
    assert "初审" in html and "政策审核组" in html and "办理中" in html
    promised = load_instance(parks, instance_id).promised_at
    assert promised is not None and "2026-" in html
    assert len(re.findall(r'href="/applications/[0-9a-f-]{36}"',
                          text_of(browser("admin").get("/applications")))) == 2
    assert browser("xinghe").get("/applications?status=lost").status_code == 400
    assert browser("xinghe").get("/applications?after=garbage").status_code == 400


def test_every_list_filter_value_answers(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    enterprise = browser("xinghe")
    for query in ("", "?status=all", "?status=", "?status=active", "?result=all",
                  "?status=all&result=all"):
        answer = enterprise.get(f"/applications{query}")
        assert answer.status_code == 200, query
        assert f'href="/applications/{instance_id}"' in text_of(answer), query
    for query in ("?status=completed", "?result=approved"):
        answer = enterprise.get(f"/applications{query}")
        assert answer.status_code == 200
        assert f'href="/applications/{instance_id}"' not in text_of(answer)
    assert 'value="all"' in text_of(enterprise.get("/applications"))
    refused = enterprise.get("/applications?status=lost")
    assert refused.status_code == 400 and "active" in text_of(refused)
    admin = browser("admin")
    for query in ("?status=all", "?status=", "?status=active"):
        assert admin.get(f"/admin/applications{query}").status_code == 200, query
    assert admin.get("/admin/applications?status=lost").status_code == 400


def test_limits_in_working_days_are_shown_by_their_day(
        parks: Database, browser: OpenBrowser, clock: time_machine.Traveller) -> None:
    instance_id = start(parks)  # Monday 2 March 2026, 09:00: 20 working days
    enterprise = browser("xinghe")
    html = text_of(enterprise.get(f"/applications/{instance_id}"))
    assert "3月30日（周一）" in html and "20个工作日后" in html
    assert "2026年3月2日 09:00" in html  # a moment keeps its minute
    enterprise.post("/language", {"locale": "en"})
    html = text_of(enterprise.get(f"/applications/{instance_id}"))
    assert "Mon 30 Mar" in html and "in 20 working days" in html
    assert "2 Mar 2026, 09:00" in html
    task = open_tasks(parks, instance_id)["preliminary_review"]
    reviewer = text_of(browser("zhang.wei").get(f"/tasks/{task.id}"))
    assert "3月5日（周四）" in reviewer


def test_applying_with_a_file(parks: Database, browser: OpenBrowser) -> None:
    enterprise = browser("xinghe")
    form = text_of(enterprise.get("/applications/new/policy_subsidy"))
    assert 'type="file"' in form
    # the enterprise's name is its record's, shown and not typed
    assert '<label for="f-company_name">' not in form and "星河科技有限公司" in form
    answer = enterprise.post("/applications/new/policy_subsidy", {
        **FORM, "attachments__upload": (io.BytesIO(PDF), "营业执照.pdf")})
    assert answer.status_code == 302
    instance_id = answer.location.rsplit("/", 1)[1]
    instance = load_instance(parks, instance_id)
    assert instance.enterprise is not None and instance.enterprise.name == "星河科技有限公司"
    with parks.read() as session:
        files = session.execute(select(Attachment.id, Attachment.filename,
                                       Attachment.content_type, Attachment.storage_path)
                                .where(Attachment.instance_id == instance_id)).all()
    assert [(f.filename, f.content_type) for f in files] == [("营业执照.pdf", "application/pdf")]
    assert files[0].storage_path == f"uploads/demo/{instance_id}/{files[0].id}"
    page = text_of(enterprise.get(answer.location))
    assert "营业执照.pdf" in page and "您的申请已提交" in page
    download = enterprise.get(f"/attachments/{files[0].id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    reviewer = browser("zhang.wei")
    assert reviewer.get(f"/attachments/{files[0].id}").status_code == 200
    for outsider in ("lanhai", "other.ent", "other.reviewer", "li.na"):
        assert browser(outsider).get(f"/attachments/{files[0].id}").status_code == 404


def test_every_problem_of_the_form_is_shown_at_once(parks: Database,
                                                    browser: OpenBrowser) -> None:
    enterprise = browser("xinghe")
    answer = enterprise.post("/applications/new/policy_subsidy", {
        **FORM, "credit_code": "123", "requested_amount": "很多", "employee_count": "1.5",
        "commitment": "", "contact_phone": "12345",
        "attachments__upload": (io.BytesIO(PDF), "营业执照.pdf")})
    assert answer.status_code == 422
    html = text_of(answer)
    assert field_errors(html, "credit_code") == ["格式不正确，请参照下方的填写说明。"]
    assert field_errors(html, "requested_amount") == ["请输入数字。"]
    assert field_errors(html, "employee_count") == ["请输入整数。"]
    assert field_errors(html, "commitment") == ["请勾选此项。"]
    assert field_errors(html, "contact_phone") == ["格式不正确，请参照下方的填写说明。"]
    assert field_errors(html, "company_name") == []
    assert 'value="很多"' in html  # what was typed is kept
    # the file just sent is kept, ticked, for the next try
    pending = re.search(r'name="attachments" value="([0-9a-f-]{36})" checked', html)
    assert pending is not None
    again = enterprise.post("/applications/new/policy_subsidy", {
        **FORM, "attachments": pending.group(1)})
    assert again.status_code == 302
    instance_id = again.location.rsplit("/", 1)[1]
    with parks.read() as session:
        assert session.get_one(Attachment, pending.group(1)).instance_id == instance_id


def test_files_are_judged_by_their_content(parks: Database, browser: OpenBrowser) -> None:
    enterprise = browser("xinghe")
    refused = enterprise.post("/applications/new/policy_subsidy", {
        **FORM, "attachments__upload": [(io.BytesIO(b"<html><script>x</script>"), "a.pdf"),
                                        (io.BytesIO(b""), "empty.pdf")]})
    assert refused.status_code == 422
    messages = field_errors(text_of(refused), "attachments")
    assert messages[0].startswith("a.pdf 未被接受") and messages[1] == "empty.pdf 是空文件。"
    accepted = enterprise.post("/applications/new/policy_subsidy", {
        **FORM, "attachments__upload": (io.BytesIO(docx()), "审计报告")})
    assert accepted.status_code == 302
    with parks.read() as session:
        names = list(session.scalars(select(Attachment.filename).where(
            Attachment.instance_id == accepted.location.rsplit("/", 1)[1])))
    assert names == ["审计报告.docx"]


def test_too_large_a_file_costs_nothing_of_the_form(browser: OpenBrowser) -> None:
    enterprise = browser("xinghe")
    big = io.BytesIO(PDF + b"0" * MAX_FILE_BYTES)
    answer = enterprise.post("/applications/new/policy_subsidy",
                             {**FORM, "attachments__upload": (big, "big.pdf")})
    # the same form comes back with what was typed, the file field saying why
    assert answer.status_code == 422
    assert field_errors(text_of(answer), "attachments") == [
        "big.pdf 超过 10 MB：每个文件最大 10 MB。"]
    page = answer.get_data(as_text=True)
    assert 'value="12000000"' in page and "研发投入补助" in page
    # and the browser is told the limit, to refuse such a file before sending it
    assert 'data-max-bytes="10485760"' in page
    assert 'data-too-large="%(name)s 超过 10 MB：每个文件最大 10 MB。"' in page

    # a request larger than a whole form with its files may be is refused before it is read
    huge = io.BytesIO(b"0" * (4 * MAX_FILE_BYTES))
    assert enterprise.post("/applications/new/policy_subsidy",
                           {**FORM, "attachments__upload": (huge, "huge.pdf")}).status_code == 413


def test_only_enterprises_apply_and_only_for_what_exists(browser: OpenBrowser) -> None:
    assert browser("zhang.wei").get("/applications/new/policy_subsidy").status_code == 403
    assert browser("zhang.wei").post("/applications/new/policy_subsidy",
                                     FORM).status_code == 403
    enterprise = browser("xinghe")
    assert enterprise.get("/applications/new/nothing").status_code == 404
    assert enterprise.get("/applications/new/fund_disbursement").status_code == 403
    assert enterprise.post("/applications/new/policy_subsidy", FORM,
                           csrf=False).status_code == 400


def test_the_application_page_shows_where_it_stands(parks: Database,
                                                    browser: OpenBrowser) -> None:
    instance_id = start(parks)
    complete(parks, instance_id, "preliminary_review",
             {"outcome": "return", "return_reasons": REASONS, "comment": "请一次补齐"},
             "zhang.wei")
    correction = open_tasks(parks, instance_id)["correction"]
    enterprise = browser("xinghe")
    html = text_of(enterprise.get(f"/applications/{instance_id}"))
    latest = re.search(r'<ol class="reasons" id="latest-reasons">(.*?)</ol>', html, re.S)
    assert latest is not None
    assert re.findall(r"<li>(.*?)</li>", latest.group(1)) == REASONS
    assert f'href="/tasks/{correction.id}"' in html
    assert "张伟（政策审核）" in html and "星河科技 经办人" in html  # the actors
    assert "承诺办结时间" in html
    marks = html.replace("&#34;", '"')
    assert '"current": ["correction"]' in marks
    assert '"preliminary_review"' in marks.split('"completed":')[1].split("]")[0]
    diagram = enterprise.get(f"/applications/{instance_id}/diagram.bpmn")
    assert diagram.status_code == 200 and b"policy_subsidy" in diagram.data
    reviewer = text_of(browser("zhang.wei").get(f"/applications/{instance_id}"))
    assert REASONS[1] in reviewer and 'id="latest-reasons"' not in reviewer
    for outsider in ("lanhai", "other.ent", "other.reviewer", "li.na"):
        visitor = browser(outsider)
        assert visitor.get(f"/applications/{instance_id}").status_code == 404
        assert visitor.get(f"/applications/{instance_id}/diagram.bpmn").status_code == 404


def test_a_completed_application_is_rated_once(parks: Database, browser: OpenBrowser) -> None:
    instance_id = completed_application(parks)
    enterprise = browser("xinghe")
    page = text_of(enterprise.get(f"/applications/{instance_id}"))
    for label in ("非常满意", "满意", "基本满意", "不满意", "非常不满意"):
        assert f"<span>{label}</span>" in page
    assert "已办结" in page
    bad = enterprise.post(f"/applications/{instance_id}/rating", {"grade": "9"})
    assert bad.status_code == 422 and "请选择五个评价等级之一" in text_of(bad)
    long = enterprise.post(f"/applications/{instance_id}/rating",
                           {"grade": "5", "comment": "好" * 1001})
    assert long.status_code == 422
    assert enterprise.post(f"/applications/{instance_id}/rating",
                           {"grade": "4", "comment": "办理及时"}).status_code == 302
    with parks.read() as session:
        rating = session.get_one(Rating, instance_id)
        assert (rating.grade, rating.comment) == (4, "办理及时")
    shown = text_of(enterprise.get(f"/applications/{instance_id}"))
    assert "办理及时" in shown and 'name="grade"' not in shown
    assert enterprise.post(f"/applications/{instance_id}/rating",
                           {"grade": "1"}).status_code == 409
    assert browser("zhang.wei").post(f"/applications/{instance_id}/rating",
                                     {"grade": "1"}).status_code == 403
    assert browser("lanhai").post(f"/applications/{instance_id}/rating",
                                  {"grade": "1"}).status_code == 404


def test_an_open_application_cannot_be_rated(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    enterprise = browser("xinghe")
    assert 'name="grade"' not in text_of(enterprise.get(f"/applications/{instance_id}"))
    assert enterprise.post(f"/applications/{instance_id}/rating",
                           {"grade": "5"}).status_code == 409


def test_a_long_history_shows_its_latest_steps_and_links_to_all(parks: Database,
                                                                browser: OpenBrowser) -> None:
    rounds = 12
    instance_id = start(parks)
    for number in range(1, rounds + 1):
        complete(parks, instance_id, "preliminary_review",
                 {"outcome": "return", "return_reasons": [f"第{number}轮：{REASONS[0]}"]},
                 "zhang.wei")
        complete(parks, instance_id, "correction", CORRECTION, "xinghe")
    review = open_tasks(parks, instance_id)["preliminary_review"]
    # the submission and two steps a round; the latest LATEST_STEPS of them are shown
    taken = 1 + 2 * rounds
    for page, anchor in ((f"/applications/{instance_id}", "xinghe"),
                         (f"/tasks/{review.id}", "zhang.wei")):
        visitor = browser(anchor)
        html = text_of(visitor.get(page))
        assert html.count('<li class="timeline-item') == LATEST_STEPS
        earlier = re.search(r'id="earlier-steps">(.*?)</p>', html, re.S)
        assert earlier is not None and f"{taken - LATEST_STEPS} 个较早的步骤" in earlier.group(1)
        assert f'href="{page}?history=all#timeline-title"' in earlier.group(1)
        returns = html.split('id="returns-title"')[1].split("</section>")[0]
        shown_returns = re.findall(r"<li>第(\d+)轮", returns)
        assert shown_returns == [str(n) for n in range(rounds, rounds - LATEST_RETURNS, -1)]
        assert f"{rounds - LATEST_RETURNS} 次较早的退回" in returns
        assert "星河科技 经办人" in html  # the actors of the steps shown are named

        whole = text_of(visitor.get(f"{page}?history=all"))
        assert whole.count('<li class="timeline-item') == taken
        assert 'id="earlier-steps"' not in whole and 'id="earlier-returns"' not in whole
        assert whole.count('class="return-round"') == rounds
        # the submission, by the enterprise's applicant, comes first
        first = whole.split('<li class="timeline-item')[1]
        assert "星河科技 经办人" in first


def test_a_short_history_is_shown_whole(parks: Database, browser: OpenBrowser) -> None:
    instance_id = start(parks)
    complete(parks, instance_id, "preliminary_review",
             {"outcome": "return", "return_reasons": REASONS}, "zhang.wei")

    html = text_of(browser("xinghe").get(f"/applications/{instance_id}"))

    assert html.count('<li class="timeline-item') == 2
    assert 'id="earlier-steps"' not in html and 'id="earlier-returns"' not in html
    # the reasons are written out once, in the banner above the answer; the timeline links there
    assert all(html.count(reason) == 1 for reason in REASONS)
    banner = re.search(r'<section class="callout callout-warning"[^>]* id="(return-[\d-]+)"', html)
    assert banner is not None and 'id="latest-reasons"' in html
    assert f'href="#{banner.group(1)}"' in html.split('id="timeline-title"')[1]
    assert 'class="return-round"' not in html
    # a reviewer, with no banner, has them once in the returns card, where the timeline points
    reviewer = text_of(browser("zhang.wei").get(f"/applications/{instance_id}"))
    assert all(reviewer.count(reason) == 1 for reason in REASONS)
    assert f'class="return-round" id="{banner.group(1)}"' in reviewer
    assert f'href="#{banner.group(1)}"' in reviewer


def test_returns_beyond_the_latest_steps_are_counted(parks: Database,
                                                     browser: OpenBrowser) -> None:
    # all the steps are shown, the returns are more than the page lists
    instance_id = start(parks)
    for number in range(1, LATEST_RETURNS + 3):
        complete(parks, instance_id, "preliminary_review",
                 {"outcome": "return", "return_reasons": [f"第{number}轮"]}, "zhang.wei")
        complete(parks, instance_id, "correction", CORRECTION, "xinghe")

    html = text_of(browser("xinghe").get(f"/applications/{instance_id}"))

    assert 'id="earlier-steps"' not in html
    assert html.count('class="return-round"') == LATEST_RETURNS
    assert "另有 2 次较早的退回" in html
