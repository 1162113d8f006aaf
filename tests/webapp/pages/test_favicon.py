"""Every page names itself in the browser's tab and shows the park's icon beside it."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.webapp.apptools import Browser, text_of
from webapp.db import Database

OpenBrowser = Callable[..., Browser]


def test_pages_carry_the_icon_and_a_title_of_their_own(
    parks: Database, browser: OpenBrowser
) -> None:
    enterprise, reviewer = browser("xinghe"), browser("zhang.wei")
    titles = set()
    for visitor, path in (
        (enterprise, "/applications"),
        (enterprise, "/applications/new/policy_subsidy"),
        (reviewer, "/inbox"),
        (reviewer, "/notifications"),
    ):
        html = text_of(visitor.get(path))
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in html, path
        title = re.search(r"<title>(.*?)</title>", html, re.S)
        assert title is not None and " · " in title.group(1), path
        titles.add(title.group(1).strip())
    assert len(titles) == 4  # one title per page, not the product's name everywhere
    icon = enterprise.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert b"<svg" in icon.get_data()
