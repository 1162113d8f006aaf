"""The park calendar as the services use it: statutory days, the park's entries, next year."""

from __future__ import annotations

from datetime import date, datetime

import time_machine

from tests.webapp.fixtures import SHANGHAI, day_end, load_instance, local, open_tasks, start
from webapp.db import Database
from webapp.models import Park
from webapp.services import accounts, admin_park
from webapp.services.engines import engine_for


def set_day(db: Database, day: date, kind: str) -> None:
    with db.write() as session:
        accounts.set_calendar_day(session, actor="admin", park_slug="demo", day=day, kind=kind)


def test_a_changed_day_is_used_by_the_next_application(
        demo_db: Database, clock: time_machine.Traveller) -> None:
    clock.move_to(local(6))  # Friday 6 March 2026
    before = start(demo_db)
    assert open_tasks(demo_db, before)["preliminary_review"].due_at == day_end(11)

    set_day(demo_db, date(2026, 3, 7), "workday")  # the park works that Saturday
    after = start(demo_db)
    assert open_tasks(demo_db, after)["preliminary_review"].due_at == day_end(10)
    with demo_db.read() as session:
        park = session.query(Park).filter_by(slug="demo").one()
        assert engine_for(park).calendar.is_working_day(date(2026, 3, 7))

    # the calendar kept by this process follows the removal as well
    with demo_db.write() as session:
        park = session.query(Park).filter_by(slug="demo").one()
        admin_park.remove_calendar_day(session, park, actor="admin", day=date(2026, 3, 7))
    again = start(demo_db)
    assert open_tasks(demo_db, again)["preliminary_review"].due_at == day_end(11)


def test_statutory_holidays_count_in_due_dates(
        demo_db: Database, clock: time_machine.Traveller) -> None:
    clock.move_to(datetime(2026, 9, 30, 9, tzinfo=SHANGHAI))  # before National Day
    instance_id = start(demo_db)
    # 8 October is worked, 9 October is a Friday, 10 October a make-up Saturday
    review = open_tasks(demo_db, instance_id)["preliminary_review"]
    assert review.due_at == datetime(2026, 10, 10, 17, 30, tzinfo=SHANGHAI)
    assert review.follow_up_at == datetime(2026, 10, 9, 17, 30, tzinfo=SHANGHAI)


def test_a_year_the_calendar_does_not_know_yet_counts_weekends_and_park_entries(
        demo_db: Database, clock: time_machine.Traveller) -> None:
    clock.move_to(datetime(2026, 12, 31, 10, tzinfo=SHANGHAI))  # Thursday
    first = start(demo_db)
    # 1 January 2027 is a Friday: without the 2027 schedule it is counted as a working day
    review = open_tasks(demo_db, first)["preliminary_review"]
    assert review.due_at == datetime(2027, 1, 5, 17, 30, tzinfo=SHANGHAI)

    set_day(demo_db, date(2027, 1, 1), "holiday")  # the park enters New Year's Day
    second = start(demo_db)
    review = open_tasks(demo_db, second)["preliminary_review"]
    assert review.due_at == datetime(2027, 1, 6, 17, 30, tzinfo=SHANGHAI)
    # 20 working days: the promise runs well into 2027, weekends only
    assert load_instance(demo_db, second).promised_at == datetime(
        2027, 1, 29, 17, 30, tzinfo=SHANGHAI)
