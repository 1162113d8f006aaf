"""Earlier decisions as a task page shows them beside its form: "初审 · 张伟 · 通过 · …"."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from webapp.pages.dossier import display_names
from webapp.pages.forms_render import display, properties
from webapp.services.resubmission import Resubmission
from webapp.services.taskforms import Decision

OUTCOME = "outcome"


@dataclass(frozen=True)
class DecisionLine:
    """One earlier decision, worded for people: the step, who, the outcome and what was said."""

    name: str
    actor: str
    at: datetime
    outcome: str | None
    remarks: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class ChangeLine:
    """One changed field of a resubmission, worded: its title, the old and the new value."""

    title: str
    old: str
    new: str


def change_lines(sent: Resubmission, schema: Mapping[str, Any],
                 files: Mapping[str, str]) -> list[ChangeLine]:
    """A resubmission's changed fields as the application form labels and shows them."""
    props = properties(schema)
    return [ChangeLine(title=change.title, old=display(props.get(change.field, {}), change.old,
                                                       files),
                       new=display(props.get(change.field, {}), change.new, files))
            for change in sent.changes]


def decision_lines(
    session: Session, decisions: Iterable[Decision], files: Mapping[str, str]
) -> list[DecisionLine]:
    """The decisions with people's names and the forms' labels, oldest first."""
    found = list(decisions)
    names = display_names(session, [d.completed_by for d in found])
    return [_line(decision, names, files) for decision in found]


def _line(decision: Decision, names: Mapping[str, str], files: Mapping[str, str]) -> DecisionLine:
    props = properties(decision.form)
    outcome = None
    if decision.outcome is not None:
        outcome = display(props.get(OUTCOME, {}), decision.outcome, files) or decision.outcome
    remarks = []
    for name, value in decision.data.items():
        prop = props.get(name, {})
        shown = display(prop, value, files)
        if name != OUTCOME and shown and not prop.get("readOnly"):
            remarks.append((str(prop.get("title") or name), shown))
    return DecisionLine(
        name=decision.name,
        actor=names.get(decision.completed_by, decision.completed_by),
        at=decision.completed_at,
        outcome=outcome,
        remarks=remarks,
    )
