"""`parkflow migrate` and `parkflow calendar import`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from click.testing import Result
from sqlalchemy import select

from webapp.db import Database
from webapp.models import Instance, Park
from webapp.services import applications
from webapp.services.calendars import park_calendar

Cli = Callable[..., Result]
ENGINE_DATA = Path(__file__).resolve().parents[1] / "engine" / "data" / "migration"
ICS = Path(__file__).resolve().parent / "admin" / "data" / "holidays_2027.ics"


def lines(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_migrate_checks_then_moves_waiting_applications(cli: Cli, db: Database) -> None:
    assert cli("db", "upgrade").exit_code == 0
    assert cli("park", "create", "demo", "--name", "Demo Park").exit_code == 0
    assert cli("deploy", str(ENGINE_DATA / "permit_v1.bpmn"), "--park", "demo").exit_code == 0
    created = cli(
        "user",
        "create",
        "ada",
        "--password",
        "password1",
        "--park",
        "demo",
        "--role",
        "enterprise",
        "--enterprise",
        "ACME",
    )
    assert created.exit_code == 0, created.output
    instance_id = applications.start_application(
        db, park_slug="demo", process_key="permit", data={}, actor="ada"
    )
    assert cli("deploy", str(ENGINE_DATA / "permit_v2.bpmn"), "--park", "demo").exit_code == 0

    check = cli("migrate", "demo", "permit", "--to", "2", "--check")
    moved = cli("migrate", "demo", "permit", "--to", "2")
    again = cli("migrate", "demo", "permit", "--to", "2", "--application", instance_id)

    assert check.exit_code == 0, check.output
    assert [(c["instance_id"], c["can_move"]) for c in lines(check)] == [(instance_id, True)]
    assert moved.exit_code == 0, moved.output
    assert [(m["instance_id"], m["to_version"]) for m in lines(moved)] == [(instance_id, 2)]
    with db.read() as session:
        assert session.get_one(Instance, instance_id).definition.version == 2
    assert again.exit_code == 1
    assert lines(again)[0]["problems"][0]["code"] == "same_version"  # type: ignore[index]
    assert again.stderr == "error: 1 application(s) could not move\n"


def test_calendar_import_previews_and_saves_an_ics_file(cli: Cli, db: Database) -> None:
    assert cli("db", "upgrade").exit_code == 0
    assert cli("park", "create", "demo", "--name", "Demo Park").exit_code == 0

    preview = cli("calendar", "import", "demo", "2027", str(ICS), "--preview")
    saved = cli("calendar", "import", "demo", "2027", str(ICS))

    assert preview.exit_code == 0 and "2027-01-31 workday" in preview.stdout
    assert saved.exit_code == 0, saved.output
    with db.read() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        calendar = park_calendar(park, session)
    assert calendar.knows_year(2027) and calendar.is_working_day(date(2027, 1, 31))
    bad = cli("calendar", "import", "demo", "2027", str(ENGINE_DATA / "permit_v1.bpmn"))
    assert bad.exit_code == 1 and bad.stderr.startswith("error: ")
