"""The supervision board: the admin's whole park, a reviewer's departments, enterprises refused.

The figures come from the fixed history of ``tests.webapp.api.stats_history`` (counted by hand
there) and must read as the stats API gives them for the same filters.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import time_machine
from lxml import html
from sqlalchemy import update

from tests.conftest import Seed
from tests.webapp.admin.conftest import build_admin_parks
from tests.webapp.api.conftest import probe_sources
from tests.webapp.api.stats_history import NOW, build_history
from tests.webapp.apptools import Browser, bearer
from webapp import demo
from webapp.db import Database
from webapp.models import HumanTask
from webapp.services import accounts, processes

OpenBrowser = Callable[..., Browser]
MARCH = "from=2026-03-01&to=2026-03-31"


def build_board(db: Database) -> None:
    """The administration's two parks, the probe procedure and the fixed history."""
    build_admin_parks(db)
    with db.write() as session:
        park = accounts.get_park(session, demo.PARK_SLUG)
        processes.deploy(session, park=park, actor="test", **probe_sources())
    build_history(db)


BOARD = Seed("board_history", build_board)


@pytest.fixture
def seed() -> Seed:
    return BOARD


@pytest.fixture
def history(db: Database) -> Iterator[Database]:
    with time_machine.travel(NOW, tick=False):
        yield db


def tiles(answer: Any) -> dict[str, str]:
    page = html.fromstring(answer.get_data(as_text=True))
    return {
        tile.get("data-kpi"): tile.xpath("string(.//*[@class='figure'])").strip()
        for tile in page.xpath("//li[@data-kpi]")
    }


def rows(answer: Any, table: str) -> list[list[str]]:
    page = html.fromstring(answer.get_data(as_text=True))
    return [
        [" ".join(cell.text_content().split()) for cell in row.xpath("./td")]
        for row in page.xpath(f"//table[@id='{table}']/tbody/tr")
    ]


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.1f}%"


def api_stats(browser: OpenBrowser, who: str, query: str) -> dict[str, Any]:
    client = browser().client
    answer = client.get(f"/api/v1/parks/demo/stats?{query}", headers=bearer(client, who))
    assert answer.status_code == 200
    return dict(answer.json)


def test_the_admin_board_shows_the_api_figures(browser: OpenBrowser, history: Database) -> None:
    answer = browser("admin").get(f"/admin/dashboard?{MARCH}")
    figures = api_stats(browser, "admin", MARCH)

    assert answer.status_code == 200
    ratings = figures["ratings"]
    assert tiles(answer) == {
        "applications": str(figures["applications"]),
        "completed": str(figures["completed"]),
        "on_time_rate": percent(figures["on_time_rate"]),
        "overdue_open": str(figures["overdue_open"]),
        "working_days": f"{figures['avg_working_days']} / {figures['promised_working_days']}",
        "satisfied_rate": percent(ratings["satisfied_rate"]),
        "rectified_rate": percent(ratings["bad_rectified"] / ratings["bad"]),
    }
    # and by hand (stats_history): A1…A7, 4 completed, A1 and A3 of three on time, A5 late
    assert tiles(answer) == {
        "applications": "7",
        "completed": "4",
        "on_time_rate": "66.7%",
        "overdue_open": "1",
        "working_days": "2.25 / 3.0",
        "satisfied_rate": "50.0%",
        "rectified_rate": "50.0%",
    }
    assert rows(answer, "group-ranking") == [
        ["1. 部门负责人", "1", "100.0%", "0"],
        ["2. 政策审核组", "3", "33.3%", "1"],
    ]
    # the busiest procedure first; its heatmap is shown: of its five reviews in March T2, T3
    # (late) and T5 (open past due) are overdue
    assert [row[0] for row in rows(answer, "procedure-table")] == ["API probe", "政策扶持资金申请"]
    assert rows(answer, "step-table") == [
        ["Review", "1.67", "3", "60.0%", "2"],
        ["补正", "2.0", "0", "0.0%", "0"],
    ]


def test_the_trend_counts_each_week(browser: OpenBrowser, history: Database) -> None:
    answer = browser("admin").get(f"/admin/dashboard?{MARCH}")
    page = html.fromstring(answer.get_data(as_text=True))
    data = json.loads(page.xpath("string(//script[@id='board-data'])"))

    # ISO weeks from the one of Sunday 1 March up to today's (16 March), none in the future;
    # received A1 A2 A3 (Sat 7) A4 A5 A7 in the first week of March, A6 on the 16th;
    # completed A1 (on time) and A7 (no promise) that week, A2 (late) and A3 (on time) the
    # next; the withdrawn A4 is no completion
    assert data["weeks"] == [
        {"week": "2026-02-23", "received": 0, "completed": 0, "on_time_rate": None},
        {"week": "2026-03-02", "received": 6, "completed": 2, "on_time_rate": 1.0},
        {"week": "2026-03-09", "received": 0, "completed": 2, "on_time_rate": 0.5},
        {"week": "2026-03-16", "received": 1, "completed": 0, "on_time_rate": None},
    ]


def test_a_reviewer_sees_only_the_own_departments(browser: OpenBrowser, history: Database) -> None:
    zhang = browser("zhang.wei").get(f"/dashboard?{MARCH}")
    li = browser("li.na").get(f"/dashboard?{MARCH}")
    figures = api_stats(browser, "zhang.wei", MARCH)

    assert zhang.status_code == li.status_code == 200
    # zhang.wei (政策审核组): A1, A2, A3, A5 and A6, with a review each
    assert tiles(zhang)["applications"] == str(figures["applications"]) == "5"
    assert tiles(zhang)["on_time_rate"] == percent(figures["on_time_rate"])
    assert [row[0] for row in rows(zhang, "group-ranking")] == ["1. 政策审核组"]
    assert "部门负责人" not in zhang.get_data(as_text=True)
    # li.na (部门负责人): only A7
    assert tiles(li)["applications"] == "1"
    assert [row[0] for row in rows(li, "group-ranking")] == ["1. 部门负责人"]
    assert "政策审核组" not in li.get_data(as_text=True)


def test_the_inbox_links_to_the_department_board(browser: OpenBrowser, history: Database) -> None:
    inbox = browser("zhang.wei").get("/inbox").get_data(as_text=True)

    assert 'href="/dashboard"' in inbox


@pytest.mark.parametrize(
    "url",
    [
        "/dashboard",
        "/dashboard/export/applications.csv",
        "/dashboard/diagram/api_probe/1.bpmn",
    ],
)
def test_enterprises_are_refused(browser: OpenBrowser, history: Database, url: str) -> None:
    assert browser("xinghe").get(url).status_code == 403


def test_reviewers_do_not_reach_the_admin_board(browser: OpenBrowser, history: Database) -> None:
    assert browser("zhang.wei").get("/admin/dashboard").status_code == 403


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-02-30", "from"),
        ("from=2026-3-1", "from"),
        ("to=yesterday", "to"),
        ("from=2026-03-10&to=2026-03-01", "to"),
        ("process_key=no_such_procedure", "process_key"),
        ("version=1", "version"),
        ("process_key=api_probe&version=9", "version"),
        ("process_key=api_probe&version=one", "version"),
    ],
)
@pytest.mark.parametrize("url", ["/dashboard", "/admin/dashboard"])
def test_a_bad_filter_shows_the_form_again(
    browser: OpenBrowser, history: Database, url: str, query: str, field: str
) -> None:
    answer = browser("admin").get(f"{url}?{query}")
    page = html.fromstring(answer.get_data(as_text=True))

    assert answer.status_code == 400
    assert page.xpath(f"//p[@id='e-{field}']") or field == "version"
    assert page.xpath("//*[@id='error-summary']//li")
    assert not page.xpath("//li[@data-kpi]")


def test_a_bad_filter_exports_nothing(browser: OpenBrowser, history: Database) -> None:
    admin = browser("admin")

    assert admin.get("/dashboard/export/applications.csv?from=2026-13-01").status_code == 400
    assert admin.get("/dashboard/export/people.csv").status_code == 404
    assert admin.get("/dashboard/export/applications.pdf").status_code == 404


def test_the_export_buttons_carry_the_filters(browser: OpenBrowser, history: Database) -> None:
    reviewer = browser("zhang.wei")
    board = reviewer.get(f"/dashboard?{MARCH}&process_key=api_probe")
    page = html.fromstring(board.get_data(as_text=True))
    links = page.xpath("//div[@id='exports']//a/@href")
    csv_link = next(link for link in links if "/applications.csv" in link)

    answer = reviewer.get(csv_link)
    table = list(csv.reader(io.StringIO(answer.get_data(as_text=True).lstrip("\ufeff"))))

    assert len(links) == 8  # four kinds, CSV and XLSX each
    assert all("from=2026-03-01" in link and "process_key=api_probe" in link for link in links)
    assert answer.status_code == 200 and "attachment" in answer.headers["Content-Disposition"]
    # zhang.wei's March applications of api_probe: A1, A2, A3, A5, A6
    assert table[0][0] == "办件编号"
    assert sorted(row[0] for row in table[1:]) == [
        "HIST-2026-000001",
        "HIST-2026-000002",
        "HIST-2026-000003",
        "HIST-2026-000005",
        "HIST-2026-000006",
    ]
    xlsx = reviewer.get(next(link for link in links if "/tasks.xlsx" in link))
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"


def test_the_heatmap_version_narrows_the_figures(browser: OpenBrowser, history: Database) -> None:
    # a second version of the probe: the history ran on the first
    sources = probe_sources()
    sources["bpmn"] = {
        name: xml.replace(b'name="Review"', b'name="Review v2"')
        for name, xml in sources["bpmn"].items()
    }
    with history.write() as session:
        park = accounts.get_park(session, demo.PARK_SLUG)
        processes.deploy(session, park=park, actor="test", **sources)
    admin = browser("admin")
    every = admin.get(f"/admin/dashboard?{MARCH}&process_key=api_probe")
    first = admin.get(f"/admin/dashboard?{MARCH}&process_key=api_probe&version=1")
    second = admin.get(f"/admin/dashboard?{MARCH}&process_key=api_probe&version=2")

    assert every.status_code == first.status_code == second.status_code == 200
    # the latest diagram, every version's figures; or one version's diagram and figures
    assert "/dashboard/diagram/api_probe/2.bpmn" in every.get_data(as_text=True)
    assert "/dashboard/diagram/api_probe/1.bpmn" in first.get_data(as_text=True)
    assert rows(first, "step-table") == rows(every, "step-table")
    assert rows(first, "step-table")[0][0] == "Review"
    assert rows(second, "step-table") == [["该时间段内此事项的环节尚无统计。"]]
    diagram = admin.get("/dashboard/diagram/api_probe/2.bpmn")
    assert diagram.status_code == 200 and b"Review v2" in diagram.data
    assert admin.get("/dashboard/diagram/api_probe/7.bpmn").status_code == 404


def test_the_lists_offer_their_exports(browser: OpenBrowser, history: Database) -> None:
    applications = browser("admin").get("/admin/applications").get_data(as_text=True)
    reviewer = browser("zhang.wei")
    inbox = reviewer.get("/inbox?process=api_probe").get_data(as_text=True)
    done = reviewer.get("/inbox/done").get_data(as_text=True)
    enterprise = browser("xinghe").get("/applications").get_data(as_text=True)

    assert 'href="/dashboard/export/applications.xlsx"' in applications
    assert 'href="/dashboard/export/tasks.csv?process_key=api_probe"' in inbox
    assert 'href="/dashboard/export/tasks.xlsx"' in done
    assert "/dashboard/export/" not in enterprise


def test_the_chart_data_cannot_end_its_script(browser: OpenBrowser, history: Database) -> None:
    # a step's name as the diagram gave it, written into the page's chart data
    with history.write() as session:
        session.execute(
            update(HumanTask)
            .where(HumanTask.element_id == "probe_review")
            .values(name="</script><b>x")
        )
    answer = browser("admin").get(f"/admin/dashboard?{MARCH}&process_key=api_probe")
    page = html.fromstring(answer.get_data(as_text=True))

    assert answer.status_code == 200
    assert "</script><b>" not in answer.get_data(as_text=True)
    data = json.loads(page.xpath("string(//script[@id='board-data'])"))
    assert data["steps"]["probe_review"]["name"] == "</script><b>x"
