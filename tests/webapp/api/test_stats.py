"""The park's supervision figures, against the fixed history of ``stats_history``.

Every expected number is counted by hand from the tables in that module's docstring.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import complete_step, error_code, start
from tests.webapp.api.stats_history import NOW, build_history
from webapp.db import Database

URL = "/api/v1/parks/demo/stats"
MARCH = "from=2026-03-01&to=2026-03-31"


@pytest.fixture
def history(parks: Database) -> Iterator[dict[str, str]]:
    ids = build_history(parks)
    with time_machine.travel(NOW, tick=False):
        yield ids


def _stats(client: FlaskClient, login: Login, who: str, query: str = MARCH) -> dict[str, Any]:
    response = client.get(f"{URL}?{query}", headers=login(who))
    assert response.status_code == 200, response.json
    return dict(response.json)


REVIEW = {
    "element_id": "probe_review",
    "name": "Review",
    "avg_working_days": 1.67,
    "overdue": 3,
    "open": 2,
}
FIX_UP = {"element_id": "fix_up", "name": "补正", "avg_working_days": 2.0, "overdue": 0, "open": 0}
PRELIMINARY = {
    "element_id": "preliminary_review",
    "name": "初审",
    "avg_working_days": 0.0,
    "overdue": 0,
    "open": 0,
}
POLICY_GROUP = {"group": "政策审核组", "completed": 3, "on_time_rate": 0.3333, "overdue_open": 1}
HEAD_GROUP = {"group": "部门负责人", "completed": 1, "on_time_rate": 1.0, "overdue_open": 0}


def test_the_park_in_march(client: FlaskClient, login: Login, history: dict[str, str]) -> None:
    # A1…A7 received in March; A4 withdrawn and A5, A6 open: four completed, of which A1
    # and A3 (paused two days) on time out of the three with a promise; A5 is overdue
    assert _stats(client, login, "admin") == {
        "applications": 7,
        "completed": 4,
        "on_time_rate": 0.6667,
        "overdue_open": 1,
        # A1 3, A2 4, A3 2, A7 0
        "avg_working_days": 2.25,
        "promised_working_days": 3.0,
        "ratings": {"count": 4, "satisfied_rate": 0.5, "bad": 2, "bad_rectified": 1},
        # in the order the steps first came up
        "steps": [REVIEW, PRELIMINARY, FIX_UP],
        # the applicant's lane is no department; best on-time rate first
        "by_group": [HEAD_GROUP, POLICY_GROUP],
    }


def test_one_procedure(client: FlaskClient, login: Login, history: dict[str, str]) -> None:
    found = _stats(client, login, "admin", f"{MARCH}&process_key=api_probe")

    assert found == {
        "applications": 6,
        "completed": 3,
        "on_time_rate": 0.6667,
        "overdue_open": 1,
        "avg_working_days": 3.0,
        "promised_working_days": 3.0,
        "ratings": {"count": 3, "satisfied_rate": 0.3333, "bad": 2, "bad_rectified": 1},
        "steps": [REVIEW, FIX_UP],
        "by_group": [POLICY_GROUP],
    }


def test_the_range_is_of_receipt_days(
    client: FlaskClient, login: Login, history: dict[str, str]
) -> None:
    everything = _stats(client, login, "admin", "")
    february = _stats(client, login, "admin", "to=2026-02-28")
    # received on Monday 16 March only: A6, open and not yet due
    last = _stats(client, login, "admin", "from=2026-03-16&to=2026-03-16")

    assert (everything["applications"], everything["completed"]) == (8, 5)
    assert everything["ratings"]["count"] == 5
    assert (february["applications"], february["completed"], february["on_time_rate"]) == (
        1,
        1,
        1.0,
    )
    assert february["steps"] == [
        {
            "element_id": "probe_review",
            "name": "Review",
            "avg_working_days": february["steps"][0]["avg_working_days"],
            "overdue": 0,
            "open": 0,
        }
    ]
    assert last == {
        "applications": 1,
        "completed": 0,
        "on_time_rate": None,
        "overdue_open": 0,
        "avg_working_days": None,
        "promised_working_days": None,
        "ratings": {"count": 0, "satisfied_rate": None, "bad": 0, "bad_rectified": 0},
        "steps": [
            {
                "element_id": "probe_review",
                "name": "Review",
                "avg_working_days": None,
                "overdue": 0,
                "open": 1,
            }
        ],
        "by_group": [
            {"group": "政策审核组", "completed": 0, "on_time_rate": None, "overdue_open": 0}
        ],
    }


def test_reviewers_see_their_groups(
    client: FlaskClient, login: Login, history: dict[str, str]
) -> None:
    # zhang.wei (政策审核组) counts the applications with a review: A1, A2, A3, A5, A6
    assert _stats(client, login, "zhang.wei") == {
        "applications": 5,
        "completed": 3,
        "on_time_rate": 0.6667,
        "overdue_open": 1,
        "avg_working_days": 3.0,
        "promised_working_days": 3.0,
        "ratings": {"count": 3, "satisfied_rate": 0.3333, "bad": 2, "bad_rectified": 1},
        "steps": [REVIEW],
        "by_group": [POLICY_GROUP],
    }
    # li.na (部门负责人) only A7, which had no promise
    assert _stats(client, login, "li.na") == {
        "applications": 1,
        "completed": 1,
        "on_time_rate": None,
        "overdue_open": 0,
        "avg_working_days": 0.0,
        "promised_working_days": None,
        "ratings": {"count": 1, "satisfied_rate": 1.0, "bad": 0, "bad_rectified": 0},
        "steps": [PRELIMINARY],
        "by_group": [HEAD_GROUP],
    }
    # a reviewer of groups with no steps counts nothing
    assert _stats(client, login, "zhao.min")["applications"] == 0


def test_refusals(client: FlaskClient, login: Login, history: dict[str, str]) -> None:
    enterprise = client.get(f"{URL}?{MARCH}", headers=login("xinghe"))
    stranger = client.get(f"{URL}?{MARCH}", headers=login("other.admin"))
    nobody = client.get(f"{URL}?{MARCH}")

    assert enterprise.status_code == 403 and error_code(enterprise) == "forbidden"
    assert stranger.status_code == 404
    assert nobody.status_code == 401


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("from=2026-03-10&to=2026-03-01", "from"),
        ("from=2026-02-30", "from"),
        ("to=yesterday", "to"),
        ("from=2026-3-1", "from"),
        ("process_key=no_such_procedure", "process_key"),
        ("process_key=", "process_key"),
    ],
)
def test_bad_filters(
    client: FlaskClient, login: Login, parks: Database, query: str, field: str
) -> None:
    response = client.get(f"{URL}?{query}", headers=login("admin"))

    assert response.status_code == 422, response.json
    assert error_code(response) == "invalid"
    assert field in str(response.json["error"]["details"])


def test_a_procedure_of_another_park_is_unknown(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    # the other park has api_probe too, but not the demo park's policy_subsidy
    response = client.get(
        "/api/v1/parks/other/stats?process_key=policy_subsidy", headers=login("other.admin")
    )

    assert response.status_code == 422


def test_applications_run_by_the_engine(client: FlaskClient, login: Login, parks: Database) -> None:
    first = start(client, login("xinghe"))
    start(client, login("xinghe"))
    complete_step(client, login, first, "probe_review", {"outcome": "approve"})

    found = _stats(client, login, "admin", "process_key=api_probe")

    # both wait (the first for its payment message), neither past its promise
    assert (found["applications"], found["completed"], found["overdue_open"]) == (2, 0, 0)
    assert found["steps"] == [
        {
            "element_id": "probe_review",
            "name": "Review",
            "avg_working_days": 0.0,
            "overdue": 0,
            "open": 1,
        }
    ]
    assert found["by_group"] == [
        {"group": "政策审核组", "completed": 1, "on_time_rate": 1.0, "overdue_open": 0}
    ]
