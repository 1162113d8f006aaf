"""``/healthz``: whether this process can serve, for load balancers and container checks."""

# flask-smorest and Flask-Limiter ship no type hints for their decorators
# mypy: disable-error-code="untyped-decorator"

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from webapp.api.bodies import ApiBlueprint
from webapp.api.errors import ApiError
from webapp.api.schemas import ErrorSchema, HealthSchema
from webapp.extensions import store

blp = ApiBlueprint("health", __name__, description="Liveness of the web process.")


@blp.route("/healthz", methods=["GET"])
@blp.response(200, HealthSchema)
@blp.alt_response(503, schema=ErrorSchema, description="The database cannot be reached")
@blp.doc(security=[])
def healthz() -> dict[str, Any]:
    """Answer 200 when the database answers, 503 otherwise."""
    try:
        with store.database.read() as session:
            session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        raise ApiError(503, "the database cannot be reached") from None
    return {"status": "ok"}
