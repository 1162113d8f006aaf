"""``parkflow migrate`` and ``parkflow calendar import``: moving waiting applications to another
version of their procedure, and importing a year's statutory holiday schedule."""

from __future__ import annotations

import json
from pathlib import Path

import click

from webapp.cli.core import CliState, CommandFailed, pass_state
from webapp.services import holidays, migrations
from webapp.services.accounts import get_park

MAX_FILE_BYTES = 1024 * 1024


@click.command()
@click.argument("park_slug", metavar="SLUG")
@click.argument("key")
@click.option("--to", "version", required=True, type=int, help="The version to move to.")
@click.option(
    "--map",
    "pairs",
    multiple=True,
    metavar="OLD=NEW",
    help="The new element of a renamed one (repeat for several).",
)
@click.option(
    "--application",
    "instance_ids",
    multiple=True,
    metavar="ID",
    help="Move only these applications (default: every one that can move).",
)
@click.option("--check", is_flag=True, help="Only list what would move and why not.")
@pass_state
def migrate(
    state: CliState,
    park_slug: str,
    key: str,
    version: int,
    pairs: tuple[str, ...],
    instance_ids: tuple[str, ...],
    check: bool,
) -> None:
    """Move waiting applications of procedure KEY to another version; one JSON line each."""
    mapping = migrations.parse_mapping("\n".join(pairs))
    with state.database.read() as session:
        park_id = get_park(session, park_slug).id
        if check:
            target = migrations.target_definition(session, park_id, key, version)
            for candidate in migrations.candidates(session, park_id, key, target, mapping):
                click.echo(
                    json.dumps(
                        {
                            "instance_id": candidate.instance_id,
                            "reference": candidate.reference,
                            "version": candidate.version,
                            "can_move": candidate.can_move,
                            "problems": list(candidate.problems),
                        },
                        ensure_ascii=False,
                    )
                )
            return
    result = migrations.migrate_many(
        state.database,
        park_id=park_id,
        key=key,
        version=version,
        instance_ids=list(instance_ids) or None,
        mapping=mapping,
        actor=state.actor,
    )
    for moved in result["moved"]:
        click.echo(
            json.dumps(
                {
                    "moved": moved["reference"],
                    "instance_id": moved["instance_id"],
                    "from_version": moved["from_version"],
                    "to_version": moved["to_version"],
                },
                ensure_ascii=False,
            )
        )
    for refused in result["refused"]:
        click.echo(
            json.dumps(
                {
                    "refused": refused["reference"],
                    "instance_id": refused["instance_id"],
                    "problems": refused["problems"],
                },
                ensure_ascii=False,
            )
        )
    if result["refused"]:
        raise CommandFailed(f"{len(result['refused'])} application(s) could not move")


@click.command("import")
@click.argument("park_slug", metavar="SLUG")
@click.argument("year", type=int)
@click.argument("source", metavar="FILE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--preview", is_flag=True, help="Print the days found and save nothing.")
@pass_state
def import_schedule(
    state: CliState, park_slug: str, year: int, source: Path, preview: bool
) -> None:
    """Import the statutory schedule of YEAR from an .ics file or a text of dates."""
    try:
        with source.open("rb") as stream:
            content = stream.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise CommandFailed(f"{source}: {exc.strerror or exc}") from exc
    if len(content) > MAX_FILE_BYTES:
        raise CommandFailed(f"{source}: larger than {MAX_FILE_BYTES} bytes")
    if source.suffix.lower() == ".ics":
        schedule = holidays.parse_ics(content, year)
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CommandFailed(f"{source}: not UTF-8 text") from exc
        schedule = holidays.parse_pasted(text, year)
    for day, kind in schedule.days.items():
        click.echo(f"{day.isoformat()} {kind}")
    if preview:
        return
    with state.database.write() as session:
        holidays.save(session, get_park(session, park_slug), schedule, actor=state.actor)
    click.echo(
        f"saved the schedule of {year} for park {park_slug!r}: "
        f"{len(schedule.holidays)} holidays, {len(schedule.workdays)} make-up workdays",
        err=True,
    )
