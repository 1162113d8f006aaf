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

from tests.conftest import Seed
from tests.webapp.admin.conftest import build_admin_parks
from tests.webapp.api.conftest import probe_sources
from tests.webapp.api.stats_history import NOW, build_history
from tests.webapp.apptools import Browser, bearer
from webapp import demo
from webapp.db import Database
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
