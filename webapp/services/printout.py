"""The 审批单 (approval record) of an application as a PDF, and its archived copy.

The record is drawn as HTML by the pages (the same facts the tracker shows) and laid out
as A4 pages by WeasyPrint, with the system's Noto CJK fonts for Chinese text. Once an
application has finished, its record cannot change any more: the first one made is kept
under ``<instance folder>/archives/<park>/<application>.pdf`` and handed out from then on,
so what was printed for the file and what is downloaded a year later are the same bytes.
The transaction that finishes an application queues an ARCHIVE_JOB, and the worker makes
and keeps the record then (``webapp.pages.printout.archive_on_finish``); a record printed
before the worker got to it is the one kept.
"""

from __future__ import annotations

import os
import secrets
from datetime import datetime
from pathlib import Path
from typing import Any

from webapp.models import Instance
from webapp.services import jobs
from webapp.services.errors import ServiceError

ARCHIVES = "archives"
ENDED = ("completed", "cancelled")
# the worker's job that keeps the record of an application that has just finished
ARCHIVE_JOB = "archive"


class PrintingUnavailable(ServiceError):
    """The machine lacks the libraries that lay out PDF pages (Pango, through WeasyPrint)."""

    code = "printing_unavailable"


def to_pdf(html: str) -> bytes:
    """Lay ``html`` out as PDF pages."""
    try:
        # imported here: it loads Pango, which only printing needs
        from weasyprint import HTML
    except OSError as exc:  # the shared libraries are missing
        raise PrintingUnavailable(
            "PDF printing needs the Pango libraries on this server "
            f"(apt-get install libpango-1.0-0 libpangoft2-1.0-0): {exc}") from exc
    pdf: bytes = HTML(string=html).write_pdf()
    return pdf


def archive_job(instance: Instance, now: datetime) -> dict[str, Any]:
    """The job that keeps the record of ``instance``, finished at ``now`` (queued once)."""
    return jobs.job_row(kind=ARCHIVE_JOB, park_id=instance.park_id, due_at=now,
                        instance_id=instance.id, dedupe_key=f"archive:{instance.id}")


def archive_path(instance_path: Path, instance: Instance) -> Path:
    """Where the archived record of a finished application is kept."""
    return instance_path / ARCHIVES / instance.park_id / f"{instance.id}.pdf"


def archived(instance_path: Path, instance: Instance) -> bytes | None:
    """The kept record of a finished application, if one was made."""
    if instance.status not in ENDED:
        return None
    path = archive_path(instance_path, instance)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def keep(instance_path: Path, instance: Instance, pdf: bytes) -> bytes:
    """Keep the record of a finished application, once; return the bytes kept.

    Two first downloads at the same moment both render, and the first to land wins: the file
    is written aside and linked into place, so a reader never sees half a file and a second
    writer never replaces the first.
    """
    if instance.status not in ENDED:
        return pdf
    path = archive_path(instance_path, instance)
    path.parent.mkdir(parents=True, exist_ok=True)
    aside = path.with_name(f".{path.name}.{secrets.token_hex(6)}")
    aside.write_bytes(pdf)
    try:
        os.link(aside, path)
    except FileExistsError:
        return path.read_bytes()
    finally:
        aside.unlink()
    return pdf
