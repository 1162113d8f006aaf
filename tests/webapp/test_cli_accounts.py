"""`parkflow db|park|group|user|calendar`, the account services behind them, and passwords."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from webapp.cli import main
from webapp.db import Database
from webapp.migrate import head_revision
from webapp.models import AuditEvent, CalendarDay, Enterprise, Membership, Park, User
from webapp.security import hash_password, needs_rehash, verify_password

Cli = Callable[..., Result]


def assert_one_line_error(result: Result, message: str, exit_code: int = 1) -> None:
    assert result.exit_code == exit_code, result.output
    assert result.stderr == f"error: {message}\n"
    assert "Traceback" not in result.output


@pytest.fixture
def demo(cli: Cli, db: Database) -> Cli:
    """The CLI against a database holding park 'demo' with group 'reviewers'."""
    assert cli("park", "create", "demo", "--name", "Demo Park").exit_code == 0
    assert cli("group", "create", "demo", "reviewers").exit_code == 0
    return cli


# --- db upgrade -------------------------------------------------------------------------


def test_db_upgrade_creates_the_schema_and_can_run_again(cli: Cli) -> None:
    first = cli("db", "upgrade")
    assert first.exit_code == 0, first.output
    assert f"is at revision {head_revision()}" in first.stdout

    assert cli("db", "upgrade").exit_code == 0
    assert cli("park", "create", "demo", "--name", "Demo").exit_code == 0


def test_commands_before_db_upgrade_say_what_to_do(cli: Cli) -> None:
    result = cli("park", "create", "demo", "--name", "Demo")
    assert_one_line_error(result, "the database is not set up; run `parkflow db upgrade`")


# --- the happy paths --------------------------------------------------------------------


def test_park_create_stores_the_park_and_audits_it(cli: Cli, db: Database) -> None:
    result = cli("park", "create", "north-2", "--name", "北区园区", "--timezone", "Asia/Urumqi")
    assert result.exit_code == 0, result.output
    assert result.stdout == "created park 'north-2' (北区园区, Asia/Urumqi)\n"

    with db.read() as session:
        park = session.scalars(select(Park)).one()
        assert (park.slug, park.name, park.timezone, park.settings) == (
            "north-2",
            "北区园区",
            "Asia/Urumqi",
            {},
        )
        event = session.scalars(select(AuditEvent)).one()
        assert (event.park_id, event.action) == (park.id, "park.created")
        assert event.actor is not None and event.actor.startswith("cli")


def test_user_create_makes_a_reviewer_in_groups(demo: Cli, db: Database) -> None:
    assert demo("group", "create", "demo", "director").exit_code == 0
    result = demo(
        "user", "create", "alice", "--password", "s3cret-pw", "--park", "demo",
        "--role", "reviewer", "--groups", "reviewers, director",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "'alice' is now a reviewer in park 'demo'" in result.stdout

    with db.read() as session:
        alice = session.scalars(select(User).where(User.username == "alice")).one()
        assert verify_password(alice.password_hash, "s3cret-pw")
        assert sorted(group.name for group in alice.groups) == ["director", "reviewers"]
        [membership] = alice.memberships
        assert (membership.role, membership.enterprise_id) == ("reviewer", None)
        actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
        assert actions[-2:] == ["user.created", "membership.created"]


def test_enterprise_users_share_their_enterprise(demo: Cli, db: Database) -> None:
    for username in ("bob", "carol"):
        result = demo(
            "user", "create", username, "--password", "password1", "--park", "demo",
            "--role", "enterprise", "--enterprise", "星河科技有限公司",
        )  # fmt: skip
        assert result.exit_code == 0, result.output

    with db.read() as session:
        company = session.scalars(select(Enterprise)).one()
        assert company.name == "星河科技有限公司"
        members = session.scalars(select(Membership).where(Membership.role == "enterprise"))
        assert [m.enterprise_id for m in members] == [company.id, company.id]


def test_an_existing_user_joins_another_park_keeping_the_password(demo: Cli, db: Database) -> None:
    args = ("--role", "admin")
    first = demo("user", "create", "dora", "--password", "original1", "--park", "demo", *args)
    assert first.exit_code == 0, first.output
    assert demo("park", "create", "east", "--name", "East").exit_code == 0

    result = demo("user", "create", "dora", "--password", "another22", "--park", "east", *args)
    assert result.exit_code == 0, result.output
    assert "password unchanged" in result.stdout
    with db.read() as session:
        dora = session.scalars(select(User)).one()
        assert verify_password(dora.password_hash, "original1")
        assert sorted(m.park.slug for m in dora.memberships) == ["demo", "east"]


def test_calendar_set_overrides_a_day_and_keeps_before_and_after(demo: Cli, db: Database) -> None:
    assert demo("calendar", "set", "demo", "2026-10-10", "holiday").exit_code == 0
    result = demo("calendar", "set", "demo", "2026-10-10", "workday")
    assert result.exit_code == 0, result.output
    assert result.stdout == "2026-10-10 is now a workday in park 'demo'\n"

    with db.read() as session:
        day = session.scalars(select(CalendarDay)).one()
        assert (day.day, day.kind) == (date(2026, 10, 10), "workday")
        last = session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
        assert last is not None
        assert (last.action, last.before, last.after) == (
            "calendar.day_set",
            {"kind": "holiday"},
            {"kind": "workday"},
        )


# --- refusals: one line each, nothing stored --------------------------------------------

USER = ("user", "create", "erin", "--password", "password1", "--park", "demo")
ADMIN = ("--role", "admin")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("park", "create", "demo", "--name", "Again"), "park 'demo' already exists"),
        (
            ("park", "create", "Bad_Slug", "--name", "X"),
            "park slug 'Bad_Slug' is not valid: use 2-40 lowercase letters, digits and hyphens",
        ),
        (
            ("park", "create", "west", "--name", "W", "--timezone", "Mars/Olympus"),
            "time zone 'Mars/Olympus' is not known: use an IANA name such as Asia/Shanghai",
        ),
        (("park", "create", "west", "--name", "  "), "the park name is empty"),
        (("group", "create", "xyz", "g"), "park 'xyz' does not exist"),
        (
            ("group", "create", "demo", "reviewers"),
            "group 'reviewers' in park 'demo' already exists",
        ),
        ((*USER[:-1], "xyz", *ADMIN), "park 'xyz' does not exist"),
        ((*USER, "--role", "enterprise"), "an enterprise user needs an enterprise"),
        (
            (*USER, "--role", "reviewer", "--enterprise", "Acme"),
            "only enterprise users belong to an enterprise, not a reviewer",
        ),
        (
            (*USER, "--role", "reviewer", "--groups", "reviewers,ghosts"),
            "group 'ghosts' in park 'demo' does not exist",
        ),
        (
            ("user", "create", "erin", "--password", "short", "--park", "demo", *ADMIN),
            "the password is too short: use at least 8 characters",
        ),
        (
            ("user", "create", "bad name", "--password", "password1", "--park", "demo", *ADMIN),
            "username 'bad name' is not valid: use 2-64 letters, digits and . _ @ + -",
        ),
        (("calendar", "set", "xyz", "2026-10-10", "holiday"), "park 'xyz' does not exist"),
    ],
)  # fmt: skip
def test_refusals_are_one_readable_line(
    demo: Cli, db: Database, args: tuple[str, ...], message: str
) -> None:
    with db.read() as session:
        events_before = len(session.scalars(select(AuditEvent)).all())

    assert_one_line_error(demo(*args), message)

    with db.read() as session:
        assert len(session.scalars(select(AuditEvent)).all()) == events_before
        assert session.scalars(select(User)).all() == []


def test_a_user_already_in_the_park_is_refused(demo: Cli) -> None:
    assert demo(*USER, *ADMIN).exit_code == 0
    assert_one_line_error(demo(*USER, *ADMIN), "user 'erin' in park 'demo' already exists")


# --- errors that need no database -------------------------------------------------------


def run(*args: str, **env: str) -> Result:
    return CliRunner().invoke(main, list(args), env={"PARKFLOW_DEBUG": None, **env})


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("park", "create"), "Missing argument 'SLUG'. (see `parkflow park create --help`)"),
        (("nosuch",), "No such command 'nosuch'. (see `parkflow --help`)"),
        (
            ("calendar", "set", "demo", "2026-02-30", "holiday"),
            "Invalid value for 'DATE': '2026-02-30' does not match the format '%Y-%m-%d'. "
            "(see `parkflow calendar set --help`)",
        ),
        (
            ("user", "create", "u", "--password", "p", "--park", "demo", "--role", "boss"),
            "Invalid value for '--role': 'boss' is not one of 'admin', 'reviewer', 'enterprise'. "
            "(see `parkflow user create --help`)",
        ),
    ],
)
def test_usage_errors_are_one_line(args: tuple[str, ...], message: str) -> None:
    assert_one_line_error(run(*args), message, exit_code=2)


def test_unsupported_database_urls_are_one_line(tmp_path: object) -> None:
    result = run(
        "park", "create", "demo", "--name", "Demo",
        PARKFLOW_DATABASE_URL="mysql://root@localhost/parkflow",
        PARKFLOW_INSTANCE_PATH=str(tmp_path),
    )  # fmt: skip
    assert_one_line_error(
        result,
        "unsupported database URL scheme 'mysql'; "
        "use sqlite:///path/to/file.db or postgresql://user@host/dbname",
    )


def test_an_unreachable_database_is_one_line(tmp_path: object) -> None:
    result = run(
        "park", "create", "demo", "--name", "Demo",
        PARKFLOW_DATABASE_URL="postgresql://nobody@127.0.0.1:1/none",
        PARKFLOW_INSTANCE_PATH=str(tmp_path),
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.stderr.startswith("error: cannot use the database: ")
    assert result.stderr.count("\n") == 1


# --- passwords --------------------------------------------------------------------------


def test_password_hashes_verify_only_the_right_password() -> None:
    hashed = hash_password("correct horse")
    assert hashed.startswith("$argon2id$")
    assert hashed != hash_password("correct horse")  # salted
    assert verify_password(hashed, "correct horse")
    assert not verify_password(hashed, "wrong horse")
    assert not verify_password("not-a-hash", "correct horse")
    assert not needs_rehash(hashed)
