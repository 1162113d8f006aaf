"""Park administration: procedures in the browser modeler, forms, people, calendar, settings.

Server-rendered pages under ``/admin`` (one child blueprint per concept) for the
administrators of the park the user is working in; everyone else gets 403, and another park's
objects are 404. The pages build on ``webapp.pages`` (sign-in, CSRF, languages, error pages,
the form renderer), so ``register_pages`` must run first. Every change goes through a service
in ``webapp.services.admin_*`` that writes the audit log.
"""

from __future__ import annotations

from pathlib import Path

from flask import Flask
from flask_babel import Domain

from webapp.admin import (
    applications,
    calendar,
    dashboard,
    decisions,
    drafts,
    forms,
    incidents,
    integrations,
    migrations,
    people,
    policies,
    processes,
    rectifications,
    settings,
)
from webapp.admin.access import CATALOG_KEY, admin, install

__all__ = ["register_admin"]

TRANSLATIONS = Path(__file__).parent / "translations"

for _module in (processes, drafts, forms, decisions, people, calendar, settings, integrations,
                incidents, applications, dashboard, policies, migrations, rectifications):
    admin.register_blueprint(_module.bp)
install(admin)


def register_admin(app: Flask) -> None:
    """Install the administration pages and their translations on ``app``."""
    babel = app.extensions.get("babel")
    if babel is None or "pages" not in app.blueprints:
        raise RuntimeError("register_pages(app) must run before register_admin(app)")
    # The administration's requests read this catalog together with the pages' one (which
    # wins where both say the same); a Domain of its own keeps the pages' cached catalog as
    # it is.
    app.extensions[CATALOG_KEY] = Domain(
        translation_directories=[str(TRANSLATIONS), *babel.translation_directories]
    )
    app.register_blueprint(admin)
