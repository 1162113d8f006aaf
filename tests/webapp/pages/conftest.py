"""Fixtures of the page tests: the demo park, a second park, and a browser-like test client.

Park ``other`` has its own reviewer and enterprise and runs the same procedures, and
``zhang.wei`` belongs to both parks, so every test can check that nothing of one tenant or
enterprise shows in another. Every answer of the client is checked to be no 5xx.
"""

from __future__ import annotations

import pytest

from forms import FORMS_DIR, load_forms
from tests.conftest import Seed
from tests.webapp.apptools import (
    OTHER_ENTERPRISE,
    OTHER_PARK,
    PASSWORD,
    app,
    browser,
    fast_password_hashing,
)
from tests.webapp.fixtures import PROCESSES
from webapp import demo
from webapp.db import Database
from webapp.models import Membership
from webapp.services import accounts, processes

__all__ = ["app", "browser", "fast_password_hashing"]
PDF = (b"%PDF-1.4\n1 0 obj <</Type /Catalog /Pages 2 0 R>> endobj\n"
       b"2 0 obj <</Type /Pages /Kids [] /Count 0>> endobj\ntrailer <</Root 1 0 R>>\n%%EOF\n")


def build_parks(db: Database) -> None:
    """The demo park, a second park ``other`` and a user who belongs to no park."""
    with db.write() as session:
        demo.create_demo(session, actor="test")
        other = accounts.create_park(session, actor="test", slug=OTHER_PARK, name="远方园区")
        for group in demo.GROUPS:
            accounts.create_group(session, actor="test", park_slug=OTHER_PARK, name=group)
        for username, role, extra in (
                ("other.reviewer", "reviewer", {"groups": ["政策审核组"]}),
                ("other.ent", "enterprise", {"enterprise": OTHER_ENTERPRISE}),
                ("zhang.wei", "reviewer", {"groups": ["政策审核组"]})):
            accounts.create_user(session, actor="test", username=username, password=PASSWORD,
                                 park_slug=OTHER_PARK, role=role, **extra)
        processes.deploy(session, park=other, actor="test",
                         bpmn={p.name: p.read_bytes() for p in PROCESSES.glob("*.bpmn")},
                         dmn={p.name: p.read_bytes() for p in PROCESSES.glob("*.dmn")},
                         forms=load_forms(FORMS_DIR))
        user = accounts.create_user(session, actor="test", username="nomad", password=PASSWORD,
                                    park_slug=OTHER_PARK, role="reviewer")
        session.flush()
        session.delete(session.get_one(Membership, (user.id, other.id)))


PARKS = Seed("page_parks", build_parks)


@pytest.fixture
def seed(seed: Seed | None, request: pytest.FixtureRequest) -> Seed | None:
    """Both parks for tests that ask for ``parks``."""
    return PARKS if "parks" in request.fixturenames else seed


@pytest.fixture
def parks(db: Database) -> Database:
    """The database with both parks in it."""
    return db
