"""`parkflow deploy`: JSON lines for what was deployed, every problem of a broken diagram."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import Result
from sqlalchemy import func, select

from engine import InvalidProcess, prepare_deployment
from forms import load_forms
from tests.webapp.fixtures import PROCESSES, ROOT
from webapp.db import Database
from webapp.models import ProcessDefinition

Cli = Callable[..., Result]
BROKEN = ROOT / "tests" / "engine" / "data" / "broken" / "many_problems.bpmn"
KEYS = {"policy_subsidy", "enterprise_registration", "tax_docking", "fund_disbursement"}
PROBLEM_LINE = re.compile(r"[\w.-]+:(\d+|-): \S.*")


@pytest.fixture
def park(cli: Cli, db: Database, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The CLI, run from the project folder, against a database holding park 'demo'."""
    monkeypatch.chdir(ROOT)
    assert cli("park", "create", "demo", "--name", "示范产业园").exit_code == 0
    return cli


def sources() -> list[str]:
    """What `processes/*.bpmn processes/*.dmn` expands to in the project folder."""
    return [str(path.relative_to(ROOT)) for pattern in ("*.bpmn", "*.dmn")
            for path in sorted(PROCESSES.glob(pattern))]


def deployed(result: Result) -> dict[str, int]:
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(set(line) == {"key", "version"} for line in lines), lines
    versions = {line["key"]: line["version"] for line in lines}
    assert len(versions) == len(lines)
    return versions


def definitions(db: Database) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(ProcessDefinition)) or 0


def assert_one_line_error(result: Result, message: str) -> None:
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output
    assert result.stdout == ""
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr, result.stderr


def test_deploy_prints_one_json_line_per_process(park: Cli, db: Database) -> None:
    result = park("deploy", *sources(), "--park", "demo")

    assert deployed(result) == dict.fromkeys(KEYS, 1)
    assert definitions(db) == 4
    with db.read() as session:
        subsidy = session.scalars(select(ProcessDefinition).where(
            ProcessDefinition.key == "policy_subsidy")).one()
        assert len(subsidy.dmn_xml) == 1
        assert "policy_subsidy_review" in subsidy.forms


def test_deploying_the_same_files_again_keeps_the_versions(park: Cli, db: Database) -> None:
    first = deployed(park("deploy", *sources(), "--park", "demo"))

    again = deployed(park("deploy", *sources(), "--park", "demo"))

    assert again == first == dict.fromkeys(KEYS, 1)
    assert definitions(db) == 4


def test_a_changed_procedure_gets_the_next_version(
    park: Cli, db: Database, tmp_path: Path
) -> None:
    deployed(park("deploy", *sources(), "--park", "demo"))
    changed = tmp_path / "tax_docking.bpmn"
    shutil.copy(PROCESSES / "tax_docking.bpmn", changed)
    text = changed.read_text(encoding="utf-8")
    assert 'name="税务对接"' in text
    changed.write_text(text.replace('name="税务对接"', 'name="税务登记对接"', 1),
                       encoding="utf-8")

    result = park("deploy", str(changed), "--park", "demo")

    assert deployed(result) == {"tax_docking": 2}
    assert definitions(db) == 5


def test_a_broken_diagram_lists_every_problem_and_deploys_nothing(
    park: Cli, db: Database
) -> None:
    with pytest.raises(InvalidProcess) as expected:
        prepare_deployment({BROKEN.name: BROKEN.read_bytes()}, {}, load_forms())
    problems = [str(problem) for problem in expected.value.problems]
    assert len(problems) > 1

    result = park("deploy", str(BROKEN), "--park", "demo")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert lines[:-1] == problems
    assert all(PROBLEM_LINE.fullmatch(line) for line in lines[:-1]), lines
    assert lines[-1] == f"error: {len(problems)} problem(s); nothing was deployed"
    assert definitions(db) == 0


def test_one_broken_file_among_good_ones_deploys_none_of_them(
    park: Cli, db: Database
) -> None:
    result = park("deploy", *sources(), str(BROKEN), "--park", "demo")

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert result.stderr.splitlines()[-1].endswith("problem(s); nothing was deployed")
    assert definitions(db) == 0


def test_a_file_that_is_not_xml_is_a_problem_not_a_crash(
    park: Cli, db: Database, tmp_path: Path
) -> None:
    garbage = tmp_path / "garbage.bpmn"
    garbage.write_bytes(b"\x00\xffthis is not <xml")

    result = park("deploy", str(garbage), "--park", "demo")

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) >= 2 and all(PROBLEM_LINE.fullmatch(line) for line in lines[:-1]), lines
    assert lines[-1].startswith("error: ") and lines[-1].endswith("nothing was deployed")
    assert definitions(db) == 0


@pytest.mark.parametrize(("make_args", "message"), [
    (lambda tmp: [str(tmp / "absent.bpmn"), "--park", "demo"], "absent.bpmn: no such file"),
    (lambda tmp: [*sources(), "--park", "nowhere"], "park 'nowhere' does not exist"),
    (lambda tmp: [*sources(), "--park", "demo", "--forms", str(tmp / "no-forms")],
     "no-forms does not exist"),
    (lambda tmp: [str(tmp / "notes.txt"), "--park", "demo"], "notes.txt: not a .bpmn or .dmn"),
    (lambda tmp: [str(tmp / "huge.bpmn"), "--park", "demo"], "huge.bpmn: larger than 5 MiB"),
    (lambda tmp: [str(PROCESSES / "subsidy_eligibility.dmn"), "--park", "demo"],
     "no BPMN file given"),
])
def test_bad_input_exits_non_zero_with_one_line(
    park: Cli, db: Database, tmp_path: Path,
    make_args: Callable[[Path], list[str]], message: str,
) -> None:
    (tmp_path / "notes.txt").write_text("deploy me", encoding="utf-8")
    with (tmp_path / "huge.bpmn").open("wb") as huge:
        huge.truncate(5 * 2**20 + 1)

    result = park("deploy", *make_args(tmp_path))

    assert_one_line_error(result, message)
    assert definitions(db) == 0


def test_a_file_of_exactly_five_mib_is_read(park: Cli, tmp_path: Path) -> None:
    # the limit itself is allowed: the file is read and judged as XML, not refused by size
    edge = tmp_path / "edge.bpmn"
    with edge.open("wb") as handle:
        handle.truncate(5 * 2**20)

    result = park("deploy", str(edge), "--park", "demo")

    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "larger than" not in result.stderr
    assert result.stderr.splitlines()[-1].endswith("nothing was deployed")


def test_deploy_without_a_database_says_what_to_do(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)

    result = cli("deploy", *sources(), "--park", "demo")

    assert_one_line_error(result, "the database is not set up; run `parkflow db upgrade`")


def test_two_files_of_one_name_are_refused(park: Cli, db: Database, tmp_path: Path) -> None:
    other = tmp_path / "tax_docking.bpmn"
    shutil.copy(PROCESSES / "tax_docking.bpmn", other)

    result = park("deploy", "processes/tax_docking.bpmn", str(other), "--park", "demo")

    assert_one_line_error(result, "has the same name; rename one of them")
    assert definitions(db) == 0


def test_one_file_named_twice_is_deployed_once(park: Cli, db: Database) -> None:
    result = park("deploy", *sources(), str(PROCESSES / "tax_docking.bpmn"), "--park", "demo")

    assert deployed(result) == dict.fromkeys(KEYS, 1)
    assert definitions(db) == 4


def test_deploy_prints_warnings_and_deploys(park: Cli) -> None:
    diagram = ROOT / "tests" / "engine" / "data" / "modelling" / "implicit_end.bpmn"
    result = park("deploy", str(diagram), "--park", "demo")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"key": "implicit", "version": 1}
    assert result.stderr.splitlines()[1] == (
        "check:12: warning: no lane, assignee or candidates name who does this task: it goes to "
        "the park's administrators")
