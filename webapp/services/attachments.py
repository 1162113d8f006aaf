"""Uploaded materials: checked by their content, stored outside the web root, one row each.

A file is accepted only when its bytes are one of the allowed kinds (PDF, PNG, JPEG, Word
and Excel documents, OFD), whatever its name says, and only up to ``MAX_FILE_BYTES``. The
bytes live under ``<instance folder>/uploads/<park>/<application>/<attachment id>``; files
uploaded with a start form wait under ``pending/`` until the application exists. Who may
upload or read a file is decided by the caller (the pages find the application first).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import unicodedata
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import IO

import filetype
from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.db import Database, new_id
from webapp.models import Attachment, Park, User
from webapp.services import audit
from webapp.services.accounts import find_user
from webapp.services.errors import Invalid, NotFound, ServiceError

MAX_FILE_BYTES = 10 * 1024 * 1024
CHUNK = 64 * 1024
UPLOADS = "uploads"
PENDING = "pending"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
OFD = "application/ofd"
# content type -> the file name extension that goes with it
ALLOWED = {
    "application/pdf": ".pdf",
    "image/png": ".png",
    "image/jpeg": ".jpg",
    DOCX: ".docx",
    XLSX: ".xlsx",
    OFD: ".ofd",
}
EXTENSIONS = {".jpeg": "image/jpeg"}
# shown in the browser; everything else is downloaded
INLINE = frozenset({"application/pdf", "image/png", "image/jpeg"})


class FileRefused(Invalid):  # noqa: N818 -- the API's vocabulary, like Invalid
    """The file is empty (``why`` 'empty') or not one of the allowed kinds ('type')."""

    def __init__(self, filename: str, why: str, reason: str) -> None:
        self.filename = filename
        self.why = why
        super().__init__(f"{filename}: {reason}")


class FileTooLarge(ServiceError):  # noqa: N818
    """The file is larger than ``MAX_FILE_BYTES``."""

    code = "too_large"

    def __init__(self, filename: str, limit: int = MAX_FILE_BYTES) -> None:
        self.filename = filename
        self.limit = limit
        super().__init__(f"{filename} is larger than {limit // (1024 * 1024)} MB")


def store_upload(db: Database, *, instance_path: Path, park_id: str, instance_id: str | None,
                 filename: str, stream: IO[bytes], actor: str) -> str:
    """Check and keep one uploaded file; its attachment id.

    Without ``instance_id`` the file waits, owned by ``actor``, for ``link_pending``.
    """
    name = clean_filename(filename)
    with db.read() as session:
        park = session.get(Park, park_id)
        uploader = find_user(session, actor)
        if park is None or uploader is None:
            raise NotFound(f"park {park_id!r}")
        slug, uploader_id = park.slug, uploader.id
    folder = instance_path / UPLOADS / slug / (instance_id or PENDING)
    folder.mkdir(parents=True, exist_ok=True)
    temporary = folder / f".upload-{secrets.token_hex(8)}"
    try:
        size, digest = _copy_limited(stream, temporary, name)
        content_type = sniff(temporary)
        if size == 0:
            raise FileRefused(name, "empty", "the file is empty")
        if content_type is None:
            raise FileRefused(name, "type", "only PDF, PNG, JPEG, Word (.docx), Excel "
                                            "(.xlsx) and OFD files are accepted")
        attachment_id = new_id()
        final = folder / attachment_id
        os.replace(temporary, final)
    finally:
        temporary.unlink(missing_ok=True)
    try:
        with db.write() as session:
            session.add(Attachment(
                id=attachment_id, instance_id=instance_id, park_id=park_id,
                filename=with_extension(name, content_type), content_type=content_type,
                size=size, sha256=digest,
                storage_path=final.relative_to(instance_path).as_posix(),
                uploaded_by=uploader_id))
            if instance_id is not None:
                _record(session, park_id, instance_id, actor, attachment_id, name, size, digest)
    except BaseException:
        final.unlink(missing_ok=True)
        raise
    return attachment_id


def link_pending(db: Database, *, instance_path: Path, attachment_ids: Iterable[str],
                 instance_id: str, actor: str) -> list[str]:
    """Attach files the actor uploaded with a start form to the application they started."""
    ids = list(dict.fromkeys(attachment_ids))
    linked: list[str] = []
    with db.write() as session:
        user = find_user(session, actor)
        if user is None or not ids:
            return linked
        rows = session.scalars(select(Attachment).where(
            Attachment.id.in_(ids), Attachment.instance_id.is_(None),
            Attachment.uploaded_by == user.id))
        for row in rows:
            source = instance_path / row.storage_path
            target = source.parent.parent / instance_id / row.id
            target.parent.mkdir(parents=True, exist_ok=True)
            os.replace(source, target)
            row.instance_id = instance_id
            row.storage_path = target.relative_to(instance_path).as_posix()
            _record(session, row.park_id, instance_id, actor, row.id, row.filename, row.size,
                    row.sha256)
            linked.append(row.id)
    return linked


def attachments_of(session: Session, instance_id: str) -> list[Attachment]:
    """An application's files, oldest first."""
    return list(session.scalars(select(Attachment).where(Attachment.instance_id == instance_id)
                                .order_by(Attachment.uploaded_at, Attachment.id)))


def pending_of(session: Session, user: User, park_id: str,
               attachment_ids: Iterable[str]) -> list[Attachment]:
    """Those of ``attachment_ids`` that the user uploaded and that wait for an application."""
    ids = [i for i in attachment_ids if len(i) <= 64]
    if not ids:
        return []
    return list(session.scalars(select(Attachment).where(
        Attachment.id.in_(ids), Attachment.instance_id.is_(None),
        Attachment.park_id == park_id, Attachment.uploaded_by == user.id)
        .order_by(Attachment.uploaded_at)))


def file_path(instance_path: Path, attachment: Attachment) -> Path:
    """Where an attachment's bytes are; NotFound if they are missing or lie outside uploads."""
    root = (instance_path / UPLOADS).resolve()
    path = (instance_path / attachment.storage_path).resolve()
    if not path.is_relative_to(root) or not path.is_file():
        raise NotFound(f"file of attachment {attachment.id!r}")
    return path


def sniff(path: Path) -> str | None:
    """The content type of a file judged by its bytes, if it is an allowed kind."""
    with path.open("rb") as handle:
        head = handle.read(8192)
    kind = filetype.guess(head)
    if kind is not None and kind.mime in ("application/pdf", "image/png", "image/jpeg"):
        return str(kind.mime)
    if head.startswith(b"PK\x03\x04"):
        return _zip_kind(path)
    return None


def _zip_kind(path: Path) -> str | None:
    """Tell Word, Excel and OFD documents from other zip files by their parts' names."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" in names:
        if any(name.startswith("word/") for name in names):
            return DOCX
        if any(name.startswith("xl/") for name in names):
            return XLSX
    if any(name.lower() == "ofd.xml" for name in names):
        return OFD
    return None


def clean_filename(filename: str) -> str:
    """A file name safe to show and to offer for download: no folders, no control characters."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C").strip().strip(".")
    return name[:200] or "file"


def with_extension(name: str, content_type: str) -> str:
    """The name, ending in the extension of what the file really is."""
    suffix = Path(name).suffix.lower()
    if suffix == ALLOWED[content_type] or EXTENSIONS.get(suffix) == content_type:
        return name
    return name + ALLOWED[content_type]


def _copy_limited(stream: IO[bytes], target: Path, name: str) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    with target.open("wb") as out:
        while chunk := stream.read(CHUNK):
            size += len(chunk)
            if size > MAX_FILE_BYTES:
                raise FileTooLarge(name)
            digest.update(chunk)
            out.write(chunk)
    return size, digest.hexdigest()


def _record(session: Session, park_id: str, instance_id: str, actor: str, attachment_id: str,
            filename: str, size: int, digest: str) -> None:
    audit.record(session, park_id=park_id, actor=actor, action="attachment.added",
                 instance_id=instance_id,
                 details={"attachment_id": attachment_id, "filename": filename, "size": size,
                          "sha256": digest})
