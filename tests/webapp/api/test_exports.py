"""Exports of the fixed history as CSV and XLSX, parsed back: rows, headers, scope, refusals."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import openpyxl
import pytest
import time_machine
from flask.testing import FlaskClient

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import error_code
from tests.webapp.api.stats_history import NOW, build_history
from webapp.db import Database

URL = "/api/v1/parks/demo/export"
MARCH = "from=2026-03-01&to=2026-03-31"


@pytest.fixture
def history(parks: Database) -> Iterator[dict[str, str]]:
    ids = build_history(parks)
    with time_machine.travel(NOW, tick=False):
        yield ids


def _csv(
    client: FlaskClient, login: Login, what: str, query: str = MARCH, who: str = "admin"
) -> list[list[str]]:
    response = client.get(f"{URL}/{what}.csv?{query}", headers=login(who))
    assert response.status_code == 200, response.data[:300]
    assert response.mimetype == "text/csv"
    assert f"demo-{what}" in response.headers["Content-Disposition"]
    text = response.data.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def _xlsx(
    client: FlaskClient, login: Login, what: str, query: str = MARCH, who: str = "admin"
) -> list[list[object]]:
    response = client.get(f"{URL}/{what}.xlsx?{query}", headers=login(who))
    assert response.status_code == 200, response.data[:300]
    book = openpyxl.load_workbook(io.BytesIO(response.data), read_only=True)
    sheet = book.worksheets[0]
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_applications_csv_in_chinese(
    client: FlaskClient, login: Login, history: dict[str, str]
) -> None:
    table = _csv(client, login, "applications", f"{MARCH}&lang=zh")

    assert table[0] == [
        "办件编号",
        "事项编码",
        "事项名称",
        "版本",
        "申请企业",
        "状态",
        "办理结果",
        "申请时间",
        "办结时间",
        "承诺办结时间",
        "暂停计时（小时）",
        "按时办结",
    ]
    # A1…A7, in the order received
    assert [row[0] for row in table[1:]] == [
        "HIST-2026-000001",
        "HIST-2026-000002",
        "HIST-2026-000004",
        "HIST-2026-000005",
        "HIST-2026-000007",
        "HIST-2026-000003",
        "HIST-2026-000006",
    ]
    first = dict(zip(table[0], table[1], strict=True))
    assert first["申请时间"] == "2026-03-02 09:00"
    assert first["办结时间"] == "2026-03-05 11:00"
    assert first["按时办结"] == "是"
    on_time = {row[0]: row[-1] for row in table[1:]}
    # A2 late, A5 open past its promise, A4 withdrawn and A6 not yet due: blank
    assert on_time["HIST-2026-000002"] == "否" and on_time["HIST-2026-000005"] == "否"
    assert on_time["HIST-2026-000004"] == "" and on_time["HIST-2026-000006"] == ""
    assert dict(zip(table[0], table[6], strict=True))["暂停计时（小时）"] == "48.0"


def test_every_export_in_english_xlsx(
    client: FlaskClient, login: Login, history: dict[str, str]
) -> None:
    applications = _xlsx(client, login, "applications", f"{MARCH}&lang=en")
    tasks = _xlsx(client, login, "tasks", f"{MARCH}&lang=en")
    ratings = _xlsx(client, login, "ratings", f"{MARCH}&lang=en")
    audit = _xlsx(client, login, "audit", f"{MARCH}&lang=en")

    assert applications[0][:3] == ["Reference", "Procedure key", "Procedure"]
    assert len(applications) == 1 + 7
    # T1, T2, T3, T3b, T5, T6, T7 (T8 belongs to February's A8)
    assert tasks[0] == [
        "Reference",
        "Procedure",
        "Step id",
        "Step",
        "Group",
        "Assignee",
        "Status",
        "Arrived",
        "Due",
        "Completed",
        "Completed by",
        "Outcome",
        "Overdue",
    ]
    assert len(tasks) == 1 + 7
    assert sorted(row[-1] for row in tasks[1:]).count("yes") == 3
    assert ratings[0] == [
        "Reference",
        "Procedure",
        "Enterprise",
        "Grade",
        "Rating",
        "Comment",
        "Rated",
    ]
    assert sorted(row[3] for row in ratings[1:]) == [1, 2, 4, 5]
    assert {row[4] for row in ratings[1:]} == {"非常满意", "非常不满意", "不满意", "满意"}
    assert audit[0] == ["Time", "Reference", "By", "Action", "Details"]
    assert [row[3] for row in audit[1:]] == ["rating.rectified"]


def test_language_from_the_request(
    client: FlaskClient, login: Login, history: dict[str, str]
) -> None:
    headers = login("admin")
    # each streamed answer is read before the next request, as a server does
    english = client.get(
        f"{URL}/ratings.csv", headers={**headers, "Accept-Language": "en-GB,en"}
    ).data
    chinese = client.get(f"{URL}/ratings.csv", headers={**headers, "Accept-Language": "zh-CN"}).data

    assert english.decode("utf-8").lstrip("\ufeff").splitlines()[0] == (
        "Reference,Procedure,Enterprise,Grade,Rating,Comment,Rated"
    )
    assert chinese.decode("utf-8").lstrip("\ufeff").startswith("办件编号")


def test_filters_and_scope(client: FlaskClient, login: Login, history: dict[str, str]) -> None:
    login("zhang.wei"), login("li.na")
    probe = _csv(client, login, "applications", f"{MARCH}&process_key=api_probe")
    everything = _csv(client, login, "applications", "")
    reviewer_tasks = _csv(client, login, "tasks", MARCH, who="zhang.wei")
    reviewer_apps = _csv(client, login, "applications", MARCH, who="li.na")

    assert len(probe) == 1 + 6
    assert len(everything) == 1 + 8
    # zhang.wei's group's reviews only: T1, T2, T3, T5, T6
    assert [row[2] for row in reviewer_tasks[1:]] == ["probe_review"] * 5
    assert [row[0] for row in reviewer_apps[1:]] == ["HIST-2026-000007"]


def test_a_large_range_streams(client: FlaskClient, login: Login, history: dict[str, str]) -> None:
    response = client.get(f"{URL}/tasks.csv", headers=login("admin"))

    assert response.is_streamed
    assert len(response.data.decode("utf-8").splitlines()) == 1 + 8


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("applications.pdf", 404),
        ("people.csv", 404),
        ("applications.csv?from=2026-03-31&to=2026-03-01", 422),
        ("applications.csv?from=31.03.2026", 422),
        ("applications.csv?process_key=nope", 422),
        ("applications.csv?lang=fr", 422),
    ],
)
def test_bad_requests(
    client: FlaskClient, login: Login, parks: Database, path: str, status: int
) -> None:
    response = client.get(f"{URL}/{path}", headers=login("admin"))

    assert response.status_code == status, response.json
    assert error_code(response) in ("not_found", "invalid")


def test_refusals(client: FlaskClient, login: Login, parks: Database) -> None:
    enterprise = client.get(f"{URL}/applications.csv", headers=login("xinghe"))
    assert enterprise.status_code == 403
    stranger = client.get(f"{URL}/applications.csv", headers=login("other.admin"))

    assert enterprise.status_code == 403
    assert stranger.status_code == 404
