"""Who an application is copied to (抄送), as a model writes it in ``camunda:properties``.

A user task or the process may carry the property ``cc``: a comma-separated list of
``group:<name>`` and ``user:<username>`` entries (``cc=group:园区领导`` or
``cc=user:zhang,user:li``). On a user task the application is copied when the task is
reached; on the process, when the application is submitted.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("group", "user")


@dataclass(frozen=True)
class CopyTarget:
    """One entry of a ``cc`` property: a group of the park or one person."""

    kind: str
    name: str


def cc_problem(text: str) -> str | None:
    """Why a ``cc`` property cannot be read, or None when it can."""
    entries = [part.strip() for part in text.split(",")]
    if not any(entries):
        return "names nobody (write group:<name> or user:<username>)"
    for entry in entries:
        kind, sep, name = entry.partition(":")
        if not sep or kind.strip() not in KINDS or not name.strip():
            return f"{entry!r} is neither group:<name> nor user:<username>"
    return None


def cc_targets(text: str | None) -> tuple[CopyTarget, ...]:
    """The targets of a ``cc`` property; entries that cannot be read are left out (deploy
    refuses them, see ``cc_problem``)."""
    if not text:
        return ()
    found = []
    for entry in text.split(","):
        kind, sep, name = entry.strip().partition(":")
        if sep and kind.strip() in KINDS and name.strip():
            target = CopyTarget(kind.strip(), name.strip())
            if target not in found:
                found.append(target)
    return tuple(found)
