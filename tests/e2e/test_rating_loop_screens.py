"""The 好差评 pages in both languages, on a desktop and on a 390-pixel phone: the rating form
with its dimensions, the rectification list and the page of one. Screenshots to look at, no
control without a label, and nothing wider than the screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser
from sqlalchemy import select

from tests.e2e.conftest import LiveServer, unlabelled
from tests.e2e.test_screens import LANGUAGES, SCREENS, signed_in_as, wider_than_the_screen
from tests.webapp.pages.test_applications import completed_application
from webapp.db import Database
from webapp.models import Rectification
from webapp.services.accounts import get_park
from webapp.services.ratings import rate_application, record_measures


@pytest.mark.parametrize("screen", list(SCREENS))
@pytest.mark.parametrize("language", list(LANGUAGES))
def test_rating_and_rectification_pages(
    chromium: Browser, live_server: LiveServer, screenshots: Path, language: str, screen: str
) -> None:
    db = live_server.db
    unrated = completed_application(db)
    rated = completed_application(db)
    rate_application(
        db,
        instance_id=rated,
        grade=1,
        comment="窗口人员态度差，材料退回三次",
        actor="xinghe",
        dimensions={"efficiency": 2, "attitude": 1},
    )
    late = completed_application(db)
    rate_application(db, instance_id=late, grade=2, comment="", actor="xinghe")
    with db.read() as session:
        first = session.scalars(
            select(Rectification.id).where(Rectification.instance_id == rated)
        ).one()
    record_measures(
        db,
        park_id=_park(db),
        rectification_id=first,
        measures="开展窗口服务礼仪培训，补正材料一次性告知",
        actor="admin",
    )
    enterprise = signed_in_as(chromium, live_server, "xinghe", language, screen)
    admin = signed_in_as(chromium, live_server, "admin", language, screen)
    pages = {
        "rating-form": (enterprise, f"/applications/{unrated}"),
        "rating-given": (enterprise, f"/applications/{rated}"),
        "rectifications": (admin, "/admin/rectifications"),
        "rectification": (admin, f"/admin/rectifications/{first}"),
    }
    wide, bare = [], []
    for name, (page, path) in pages.items():
        page.goto(f"{live_server.url}{path}")
        page.wait_for_load_state("networkidle")
        if name == "rating-form":
            page.locator("#rating-title").scroll_into_view_if_needed()
        page.screenshot(path=str(screenshots / f"{name}-{language}-{screen}.png"), full_page=True)
        if wider_than_the_screen(page):
            wide.append(name)
        if unlabelled(page):
            bare.append((name, unlabelled(page)))
    assert wide == [], f"wider than a {screen} screen: {wide}"
    assert bare == []
    enterprise.context.close()
    admin.context.close()


def _park(db: Database) -> str:
    with db.read() as session:
        return get_park(session, "demo").id
