"""The supervision board of the whole park, inside the administration."""

from __future__ import annotations

from flask import Blueprint

from webapp.pages.board import board_page

bp = Blueprint("dashboard", __name__)


@bp.route("/dashboard")
def index() -> tuple[str, int]:
    """Show the park's KPI tiles, trend, procedures, departments and heatmap."""
    return board_page("admin/dashboard.html", "admin.dashboard.index")
