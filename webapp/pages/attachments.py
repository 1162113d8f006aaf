"""Files: taking the uploads of a form, and handing a file to those who may see it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from flask import Blueprint, current_app, request, send_file
from flask_babel import gettext as _
from flask_login import login_required
from werkzeug.wrappers import Response

from webapp.api.scoping import instance_for
from webapp.extensions import store
from webapp.models import Attachment
from webapp.pages.access import MAX_ID_LENGTH, here
from webapp.pages.forms_render import properties, strangers, widget_of
from webapp.services.attachments import (
    INLINE,
    MAX_FILE_BYTES,
    FileRefused,
    FileTooLarge,
    file_path,
    store_upload,
)
from webapp.services.errors import NotFound

bp = Blueprint("attachments", __name__)
UPLOAD_SUFFIX = "__upload"
MAX_FILES_PER_REQUEST = 10
# a whole form with its files: a few full-size files and the fields
REQUEST_LIMIT = 3 * MAX_FILE_BYTES + 1024 * 1024


def upload_name(field_name: str) -> str:
    """The name of the file input that adds files to a file field."""
    return field_name + UPLOAD_SUFFIX


def sent_strangers(schema: Mapping[str, Any],
                   page_fields: Iterable[str] = ()) -> dict[str, list[str]]:
    """The form-wide error naming what the request sent beside the form's fields, their file
    inputs and the ``page_fields`` the page itself adds (none: empty)."""
    inputs = [upload_name(name) for name, prop in properties(schema).items()
              if widget_of(prop) == "file"]
    return strangers(schema, [*request.form, *request.files], also=[*inputs, *page_fields])


def take_uploads(schema: Mapping[str, Any], *, park_id: str, instance_id: str | None,
                 actor: str) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Store the files sent for the form's file fields: (ids by field, refusals by field)."""
    uploaded: dict[str, list[str]] = {}
    errors: dict[str, list[str]] = {}
    count = 0
    for name, prop in properties(schema).items():
        if widget_of(prop) != "file":
            continue
        for storage in request.files.getlist(upload_name(name)):
            if not storage.filename:
                continue
            count += 1
            if count > MAX_FILES_PER_REQUEST:
                errors.setdefault(name, []).append(
                    _("At most %(count)d files can be sent at once.",
                      count=MAX_FILES_PER_REQUEST))
                break
            try:
                attachment_id = store_upload(
                    store.database, instance_path=Path(current_app.instance_path),
                    park_id=park_id, instance_id=instance_id, filename=storage.filename,
                    stream=storage.stream, actor=actor)
            except FileRefused as exc:
                errors.setdefault(name, []).append(refusal(exc))
                continue
            except FileTooLarge as exc:
                # the rest of the form comes back as typed, with this field saying why
                errors.setdefault(name, []).append(
                    _("%(name)s is larger than %(size)d MB; each file may be at most "
                      "%(size)d MB.", name=exc.filename, size=exc.limit // (1024 * 1024)))
                continue
            uploaded.setdefault(name, []).append(attachment_id)
    return uploaded, errors


def refusal(exc: FileRefused) -> str:
    """Why a file was refused, in the user's language."""
    if exc.why == "empty":
        return _("%(name)s is empty.", name=exc.filename)
    return _("%(name)s was refused: only PDF, PNG, JPEG, Word (.docx), Excel (.xlsx) and OFD "
             "files are accepted (judged by their content, not their name).",
             name=exc.filename)


@bp.route("/attachments/<attachment_id>")
@login_required
def download(attachment_id: str) -> Response:
    """Hand out a file to someone who may see its application (or who uploaded it)."""
    where = here()
    with store.database.read() as session:
        attachment = (session.get(Attachment, attachment_id)
                      if len(attachment_id) <= MAX_ID_LENGTH else None)
        if attachment is None:
            raise NotFound(f"attachment {attachment_id!r}")
        if attachment.instance_id is not None:
            instance_for(session, where.viewer, attachment.instance_id)
        elif attachment.uploaded_by != where.viewer.user_id:
            raise NotFound(f"attachment {attachment_id!r}")
        path = file_path(Path(current_app.instance_path), attachment)
        name, content_type = attachment.filename, attachment.content_type
    response = send_file(path, mimetype=content_type, as_attachment=content_type not in INLINE,
                         download_name=name, max_age=0)
    response.headers["Content-Security-Policy"] = "sandbox"
    response.headers["Cache-Control"] = "private, no-store"
    return response
