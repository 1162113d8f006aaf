"""`parkflow demo`: the demo park, created idempotently, ready to log in to."""

from __future__ import annotations

from collections.abc import Callable

from click.testing import Result
from sqlalchemy import func, select

from webapp import demo
from webapp.db import Database
from webapp.models import (
    AuditEvent,
    Enterprise,
    Group,
    GroupMember,
    Membership,
    Park,
    ProcessDefinition,
    User,
)
from webapp.security import verify_password

Cli = Callable[..., Result]
KEYS = ("enterprise_registration", "fund_disbursement", "policy_subsidy", "tax_docking")
COUNTED = (Park, Group, GroupMember, User, Membership, Enterprise, ProcessDefinition, AuditEvent)


def counts(db: Database) -> dict[str, int]:
    with db.read() as session:
        return {model.__name__: session.scalar(select(func.count()).select_from(model)) or 0
                for model in COUNTED}


def assert_prints_the_logins(result: Result) -> None:
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    assert f"password for all: {demo.PASSWORD}" in result.stdout
    lines = result.stdout.splitlines()
    for user in demo.USERS:
        assert any(line.split()[:2] == [user.username, user.role] for line in lines), user


def test_demo_creates_the_park_and_prints_the_logins(cli: Cli, db: Database) -> None:
    result = cli("demo")

    assert_prints_the_logins(result)
    for key in KEYS:
        assert f"procedure {key} v1 " in result.stdout and "): deployed" in result.stdout
    created = counts(db)
    assert created.pop("AuditEvent") > 0
    assert created == {
        "Park": 1, "Group": len(demo.GROUPS), "GroupMember": 6, "User": len(demo.USERS),
        "Membership": len(demo.USERS), "Enterprise": 2, "ProcessDefinition": 4}
    with db.read() as session:
        park = session.scalars(select(Park)).one()
        assert (park.slug, park.name) == (demo.PARK_SLUG, demo.PARK_NAME)
        for user in session.scalars(select(User)):
            assert verify_password(user.password_hash, demo.PASSWORD), user.username
        reviewer = session.scalars(select(User).where(User.username == "zhang.wei")).one()
        assert [group.name for group in reviewer.groups] == ["政策审核组"]
        xinghe = session.scalars(select(Membership).join(User).where(
            User.username == "xinghe")).one()
        assert xinghe.role == "enterprise"
        assert xinghe.enterprise is not None and xinghe.enterprise.name == "星河科技有限公司"


def test_demo_run_twice_adds_nothing(cli: Cli, db: Database) -> None:
    assert cli("demo").exit_code == 0
    before = counts(db)

    again = cli("demo")

    assert_prints_the_logins(again)
    for key in KEYS:
        assert f"procedure {key} v1 " in again.stdout
    assert again.stdout.count("): unchanged") == len(KEYS)
    assert "): deployed" not in again.stdout
    assert counts(db) == before


def test_demo_completes_a_park_that_is_partly_there(cli: Cli, db: Database) -> None:
    assert cli("park", "create", "demo", "--name", "我的园区").exit_code == 0
    assert cli("group", "create", "demo", "政策审核组").exit_code == 0
    created = cli("user", "create", "zhang.wei", "--password", "own-password", "--park", "demo",
                  "--role", "reviewer", "--groups", "政策审核组")
    assert created.exit_code == 0, created.output

    assert_prints_the_logins(cli("demo"))

    after = counts(db)
    assert (after["Park"], after["Group"], after["User"], after["ProcessDefinition"]) == (
        1, len(demo.GROUPS), len(demo.USERS), 4)
    with db.read() as session:
        # what was there is kept as it was: the park's name, the user's own password
        assert session.scalars(select(Park.name)).one() == "我的园区"
        kept = session.scalars(select(User).where(User.username == "zhang.wei")).one()
        assert verify_password(kept.password_hash, "own-password")


def test_db_upgrade_then_demo_on_a_fresh_database(cli: Cli, database_url: str) -> None:
    upgraded = cli("db", "upgrade")
    assert upgraded.exit_code == 0, upgraded.output

    assert_prints_the_logins(cli("demo"))

    database = Database(database_url)
    try:
        assert counts(database)["ProcessDefinition"] == 4
    finally:
        database.dispose()


def test_demo_before_db_upgrade_says_what_to_do(cli: Cli) -> None:
    result = cli("demo")

    assert result.exit_code == 1
    assert result.stderr == "error: the database is not set up; run `parkflow db upgrade`\n"
    assert "Traceback" not in result.output
