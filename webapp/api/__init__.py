"""The REST API under ``/api/v1``: one module per resource, registered by ``register``.

Every resource blueprint is an ``ApiBlueprint`` (``bodies``): callers are authenticated by
``caller``, bodies checked by ``bodies``, objects found through ``scoping`` and every error
rendered by ``errors``. State changes go through ``webapp.services``.
"""

from __future__ import annotations

from flask_smorest import Api


def register(api: Api) -> None:
    """Register every resource blueprint with the (initialised) API."""
    from webapp.api import (
        applicant_actions,
        auth,
        external_tasks,
        handoffs,
        health,
        holidays,
        instances,
        integrations,
        migrations,
        notifications,
        policies,
        processes,
        ratings,
        returns,
        saved_filters,
        supervision,
        tasks,
    )

    for module in (auth, processes, instances, applicant_actions, tasks, returns, handoffs,
                   notifications, supervision, ratings, health, external_tasks, policies,
                   integrations, saved_filters, migrations, holidays):
        api.register_blueprint(module.blp)
    api.register_blueprint(external_tasks.tokens_blp)
