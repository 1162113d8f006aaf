"""The web pages people use every day: sign-in, inbox, tasks, applications, notifications.

Server-rendered Jinja pages under one ``pages`` blueprint (one child blueprint per concept),
signed in with Flask-Login (a session cookie, separate from the API's bearer tokens), every
state change protected by a CSRF token, every string in Simplified Chinese and English.
Objects are found through ``webapp.api.scoping``, so the pages show exactly what the REST API
would: another park's or enterprise's object is answered 404.
"""

from __future__ import annotations

from flask import Flask

from webapp.pages import (
    applicant,
    applications,
    attachments,
    auth,
    board,
    drafts,
    handoffs,
    i18n,
    inbox,
    notifications,
    policies,
    printout,
    returns,
    tasks,
)
from webapp.pages.access import init_access, pages
from webapp.pages.labels import init_labels
from webapp.pages.timeline import init_timeline

__all__ = ["register_pages"]

for _module in (
    auth,
    i18n,
    inbox,
    tasks,
    returns,
    applications,
    notifications,
    attachments,
    drafts,
    printout,
    applicant,
    handoffs,
    board,
    policies,
):
    pages.register_blueprint(_module.bp)


def register_pages(app: Flask) -> None:
    """Install sign-in, CSRF protection, languages and the page blueprints on ``app``."""
    i18n.init_i18n(app)
    init_labels(app)
    init_timeline(app)
    init_access(app)
    app.register_blueprint(pages)
