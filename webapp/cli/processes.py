"""``parkflow deploy``: put BPMN (+ DMN) procedures and their forms into a park."""

from __future__ import annotations

import json
from pathlib import Path

import click

from engine import InvalidProcess
from forms import FormLoadError, load_forms
from webapp.cli.core import CliState, CommandFailed, pass_state
from webapp.services import processes
from webapp.services.accounts import get_park

MAX_FILE_BYTES = 5 * 1024 * 1024


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--park", "park_slug", required=True, metavar="SLUG", help="Park to deploy to.")
@click.option("--forms", "forms_dir", default="forms", show_default=True,
              type=click.Path(file_okay=False, path_type=Path),
              help="Folder of <formKey>.json form schemas.")
@pass_state
def deploy(state: CliState, files: tuple[Path, ...], park_slug: str, forms_dir: Path) -> None:
    """Deploy BPMN and DMN files; print {"key", "version"} per process."""
    bpmn, dmn = read_sources(files)
    try:
        forms = _forms(forms_dir)
    except FormLoadError as exc:
        raise CommandFailed(str(exc)) from exc
    try:
        with state.database.write() as session:
            park = get_park(session, park_slug)
            results = processes.deploy(session, park=park, actor=state.actor,
                                       bpmn=bpmn, dmn=dmn, forms=forms)
    except InvalidProcess as exc:
        for problem in exc.problems:
            click.echo(str(problem), err=True)
        raise CommandFailed(f"{len(exc.problems)} problem(s); nothing was deployed") from exc
    for warning in processes.deploy_warnings(results):
        click.echo(warning.as_warning(), err=True)
    for result in results:
        click.echo(json.dumps({"key": result.key, "version": result.version},
                              ensure_ascii=False))


def _forms(forms_dir: Path) -> dict[str, object]:
    # without --forms and without ./forms, a diagram naming a form is refused by validation
    if forms_dir == Path("forms") and not forms_dir.is_dir():
        return {}
    return load_forms(forms_dir)


def read_sources(files: tuple[Path, ...]) -> tuple[dict[str, bytes], dict[str, bytes]]:
    """Sort files into BPMN and DMN by extension, reading each with a size cap."""
    bpmn: dict[str, bytes] = {}
    dmn: dict[str, bytes] = {}
    # files are known by name from here on (problems say "name:line"), so names must differ
    seen: dict[str, Path] = {}
    for path in files:
        suffix = path.suffix.lower()
        if suffix not in (".bpmn", ".dmn", ".xml"):
            raise CommandFailed(f"{path}: not a .bpmn or .dmn file")
        if not path.is_file():
            raise CommandFailed(f"{path}: no such file")
        if path.stat().st_size > MAX_FILE_BYTES:
            raise CommandFailed(f"{path}: larger than {MAX_FILE_BYTES // 2**20} MiB")
        first = seen.get(path.name)
        if first is not None and first.resolve() == path.resolve():
            continue  # the same file named twice, as overlapping globs do
        if first is not None:
            raise CommandFailed(f"{path}: {first} has the same name; rename one of them")
        seen[path.name] = path
        (dmn if suffix == ".dmn" else bpmn)[path.name] = path.read_bytes()
    if not bpmn:
        raise CommandFailed("no BPMN file given")
    return bpmn, dmn
