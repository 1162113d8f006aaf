"""Predicted completion: from the park's own history of the procedure version."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import time_machine
from flask.testing import FlaskClient

from engine import ParkCalendar
from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import HANDOVER, complete, local, start
from webapp.db import Database
from webapp.models import Instance
from webapp.services import prediction
from webapp.services.applications import fire_timers
from webapp.services.queries import instance_view

SHANGHAI = ZoneInfo("Asia/Shanghai")


def finished(db: Database, *, review_days: int) -> str:
    """A subsidy application submitted Monday 2 March 09:00 whose first review took
    ``review_days`` days, then ran to its end on the Wednesday after the publicity."""
    with time_machine.travel(local(2), tick=False) as clock:
        instance_id = start(db)
        clock.move_to(local(2 + review_days))
        complete(db, instance_id, "preliminary_review", {"outcome": "approve"}, "zhang.wei")
        complete(db, instance_id, "director_review", {"outcome": "approve"}, "li.na")
        clock.move_to(local(18))
        fire_timers(db, instance_id=instance_id)
        complete(db, instance_id, "disbursement_handover", HANDOVER, "zhao.min")
    return instance_id


def view_of(db: Database, instance_id: str, now: datetime) -> dict:
    with db.read() as session:
        return instance_view(session, session.get_one(Instance, instance_id), now=now)


def test_working_days_count_the_working_share_of_each_day() -> None:
    calendar = ParkCalendar("Asia/Shanghai")
    friday_noon = datetime(2026, 3, 6, 12, tzinfo=SHANGHAI)
    monday_noon = datetime(2026, 3, 9, 12, tzinfo=SHANGHAI)
    # half of Friday, the weekend not at all, half of Monday
    assert prediction.working_days_between(friday_noon, monday_noon, calendar) == 1.0
    assert prediction.working_days_between(monday_noon, friday_noon, calendar) == 0.0
    # 清明节 (4–6 April 2026) is no working day
    assert (
        prediction.working_days_between(
            datetime(2026, 4, 3, tzinfo=SHANGHAI), datetime(2026, 4, 7, tzinfo=SHANGHAI), calendar
        )
        == 1.0
    )


def test_an_open_application_is_predicted_from_the_medians_of_the_finished_ones(
    parks: Database,
) -> None:
    for days in (1, 1, 1, 2, 8):  # the median first review takes one day
        finished(parks, review_days=days)
    with time_machine.travel(local(23), tick=False):
        instance_id = start(parks)
    # every finished one: its first review done, the rest of the way to Wednesday 18 March
    # 09:00 — the median one from Tuesday 3 March 09:00, 11 working days
    view = view_of(parks, instance_id, local(23))
    basis = view["prediction_basis"]
    assert basis["applications"] == 5
    assert basis["since"].astimezone(UTC) == local(2).astimezone(UTC)
    # 1 day still to wait at the first review + 11 for the rest: 12 working days from
    # Monday 23 March (清明 takes Monday 6 April), at the end of the park's working day
    assert view["predicted_at"].astimezone(SHANGHAI) == datetime(
        2026, 4, 9, 17, 30, tzinfo=SHANGHAI
    )
    # a step that has waited longer than usual has nothing left of its own median: 11 working
    # days from Wednesday 25 March
    later = view_of(parks, instance_id, local(25))
    assert later["predicted_at"].astimezone(SHANGHAI) == datetime(
        2026, 4, 10, 17, 30, tzinfo=SHANGHAI
    )


def test_no_prediction_without_enough_history_or_once_finished(parks: Database) -> None:
    done = [finished(parks, review_days=1) for _ in range(prediction.MIN_HISTORY - 1)]
    with time_machine.travel(local(23), tick=False):
        instance_id = start(parks)
    view = view_of(parks, instance_id, local(23))
    assert view["predicted_at"] is None and view["prediction_basis"] is None
    assert view_of(parks, done[0], local(23))["predicted_at"] is None


def test_the_tracker_shows_the_prediction_and_its_basis(
    parks: Database, client: FlaskClient
) -> None:
    for days in (1, 1, 1, 2, 8):
        finished(parks, review_days=days)
    with time_machine.travel(local(23), tick=False):
        instance_id = start(parks)
    with time_machine.travel(local(23), tick=False):
        page = text_of(Browser(client).login("xinghe").get(f"/applications/{instance_id}"))
    assert 'id="prediction"' in page
    assert "4月9日" in page and "5 件" in page
