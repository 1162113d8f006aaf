"""Signing in and out of the pages, CSRF, languages, and the park a user works in."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from flask import Flask

from tests.webapp.apptools import Browser, bearer, csrf_of, make_app, text_of
from webapp.db import Database
from webapp.models import User
from webapp.services.accounts import find_user

OpenBrowser = Callable[..., Browser]


def test_the_login_page_labels_its_fields_and_signs_in(browser: OpenBrowser) -> None:
    visitor = browser()
    page = visitor.get("/login")
    html = text_of(page)
    assert page.status_code == 200
    assert '<label for="username">' in html and 'id="username"' in html
    assert '<label for="password">' in html and 'autofocus' in html

    answer = visitor.client.post("/login", data={"username": "zhang.wei",
                                                 "password": "parkflow-demo",
                                                 "csrf_token": csrf_of(page)})
    assert answer.status_code == 302
    assert answer.location == "/inbox"


def test_an_enterprise_user_starts_at_the_applications(browser: OpenBrowser) -> None:
    visitor = browser()
    page = visitor.get("/login")
    answer = visitor.client.post("/login", data={"username": "xinghe", "password": "parkflow-demo",
                                                 "csrf_token": csrf_of(page)})
    assert answer.location == "/applications"
    assert visitor.client.get("/").location == "/applications"


def test_wrong_or_missing_credentials_are_answered_on_the_page(browser: OpenBrowser) -> None:
    visitor = browser()
    token = csrf_of(visitor.get("/login"))
    wrong = visitor.client.post("/login", data={"username": "zhang.wei", "password": "nope",
                                                "csrf_token": token})
    assert wrong.status_code == 401
    assert 'role="alert"' in text_of(wrong) and 'value="zhang.wei"' in text_of(wrong)
    unknown = visitor.client.post("/login", data={"username": "nobody", "password": "x" * 9,
                                                  "csrf_token": token})
    assert unknown.status_code == 401
    empty = visitor.client.post("/login", data={"username": "", "password": "",
                                                "csrf_token": token})
    assert empty.status_code == 422
    assert visitor.get("/inbox").status_code == 302


def test_pages_need_a_signed_in_user(browser: OpenBrowser) -> None:
    visitor = browser()
    for url in ("/inbox", "/applications", "/notifications", "/tasks/x", "/applications/x",
                "/applications/new/policy_subsidy", "/attachments/x"):
        answer = visitor.get(url)
        assert answer.status_code == 302, url
        assert answer.location.startswith("/login?next="), url


def test_signing_in_returns_to_the_page_asked_for_but_never_elsewhere(
        browser: OpenBrowser) -> None:
    visitor = browser()
    token = csrf_of(visitor.get("/login"))
    credentials = {"username": "zhang.wei", "password": "parkflow-demo", "csrf_token": token}
    answer = visitor.client.post("/login?next=/notifications", data=credentials)
    assert answer.location == "/notifications"

    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        other = browser()
        token = csrf_of(other.get("/login"))
        answer = other.client.post("/login", data={**credentials, "csrf_token": token,
                                                   "next": target})
        assert answer.location == "/inbox", target


def test_every_change_needs_the_csrf_token(browser: OpenBrowser) -> None:
    visitor = browser()
    answer = visitor.client.post("/login", data={"username": "zhang.wei",
                                                 "password": "parkflow-demo"})
    assert answer.status_code == 400
    assert "reload the page" in text_of(answer) or "重新" in text_of(answer)

    reviewer = browser("zhang.wei")
    for url in ("/logout", "/language", "/notifications/read", "/park"):
        assert reviewer.post(url, {"locale": "en", "park": "other"}, csrf=False).status_code == 400
        assert reviewer.post(url, {"csrf_token": "forged", "locale": "en"},
                             csrf=False).status_code == 400
    assert reviewer.get("/inbox").status_code == 200  # still signed in


def test_the_header_token_of_htmx_requests_is_accepted(browser: OpenBrowser) -> None:
    reviewer = browser("zhang.wei")
    answer = reviewer.client.post("/notifications/read",
                                  headers={"X-CSRFToken": reviewer.token, "HX-Request": "true"})
    assert answer.status_code == 302


def test_the_api_keeps_its_bearer_tokens_without_csrf(app: Flask) -> None:
    client = app.test_client()
    answer = client.post("/api/v1/auth/token",
                         json={"username": "zhang.wei", "password": "parkflow-demo"})
    assert answer.status_code == 200


def test_signing_out_asks_then_ends_the_session(browser: OpenBrowser) -> None:
    reviewer = browser("zhang.wei")
    confirm = reviewer.get("/logout")
    assert confirm.status_code == 200 and 'action="/logout"' in text_of(confirm)
    assert reviewer.get("/inbox").status_code == 200
    answer = reviewer.post("/logout")
    assert answer.status_code == 302 and answer.location == "/login"
    assert reviewer.get("/inbox").status_code == 302


def test_too_many_sign_in_attempts_are_refused(parks: Database, database_url: str,
                                               tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path / "limited", RATELIMIT_ENABLED=True,
                   PARKFLOW_LOGIN_RATE_LIMIT="2 per minute")
    client = app.test_client()
    token = csrf_of(client.get("/login"))
    data = {"username": "li.na", "password": "wrong-password", "csrf_token": token}
    assert [client.post("/login", data=data).status_code for _ in range(3)] == [401, 401, 429]


def test_one_address_trying_thirty_usernames_on_the_login_page_is_throttled(
        parks: Database, database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path / "limited", RATELIMIT_ENABLED=True)
    client = app.test_client()
    token = csrf_of(client.get("/login"))
    answers = [client.post("/login", data={"username": f"guess{n}", "password": "x",
                                           "csrf_token": token}) for n in range(30)]

    assert [answer.status_code for answer in answers] == [401] * 20 + [429] * 10
    assert "尝试次数过多" in text_of(answers[-1])


def test_a_user_of_no_park_is_told_so(browser: OpenBrowser) -> None:
    nomad = browser("nomad")
    answer = nomad.get("/inbox")
    assert answer.status_code == 403
    assert "管理员" in text_of(answer)


def test_chinese_is_the_default_and_the_browser_may_ask_for_english(
        browser: OpenBrowser) -> None:
    visitor = browser()
    chinese = text_of(visitor.get("/login"))
    assert '<html lang="zh-CN">' in chinese and "用户名" in chinese
    english = text_of(visitor.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}))
    assert '<html lang="en">' in english and "Username" in english
    asked = text_of(visitor.get("/login", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"}))
    assert "用户名" in asked


def test_the_language_switch_is_remembered_for_the_user(
        browser: OpenBrowser, parks: Database) -> None:
    reviewer = browser("zhang.wei")
    assert "待办" in text_of(reviewer.get("/inbox"))
    answer = reviewer.post("/language", {"locale": "en", "next": "/inbox?scope=mine"})
    assert answer.status_code == 302 and answer.location == "/inbox?scope=mine"
    assert "Inbox" in text_of(reviewer.get("/inbox", headers={"Accept-Language": "zh-CN"}))
    with parks.read() as session:
        user: User | None = find_user(session, "zhang.wei")
        assert user is not None and user.locale == "en"
    # a new session of the same user starts in the saved language
    again = browser("zhang.wei")
    assert "Inbox" in text_of(again.get("/inbox"))
    assert reviewer.post("/language", {"locale": "fr"}).status_code == 400


def test_a_member_of_two_parks_switches_between_them(browser: OpenBrowser) -> None:
    reviewer = browser("zhang.wei")
    page = text_of(reviewer.get("/applications"))
    assert "示范产业园" in page and 'name="park"' in page
    assert reviewer.post("/park", {"park": "other"}).status_code == 302
    assert "远方园区的服务" in text_of(reviewer.get("/applications"))
    assert reviewer.post("/park", {"park": "nowhere"}).status_code == 404


def test_api_calls_leave_the_pages_session_alone(browser: OpenBrowser) -> None:
    visitor = browser("zhang.wei")
    headers = bearer(visitor.client, "zhang.wei")

    answer = visitor.client.get("/api/v1/tasks", headers=headers)

    assert answer.status_code == 200
    assert "Set-Cookie" not in answer.headers and "Cookie" not in answer.vary
    assert visitor.get("/inbox").status_code == 200  # still signed in


def test_a_rotated_secret_key_signs_new_sessions_and_keeps_the_old_ones(
        app: Flask, browser: OpenBrowser) -> None:
    visitor = browser("zhang.wei")
    old = app.secret_key
    app.secret_key = "a-new-secret-key-for-this-park"
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    assert visitor.get("/inbox").status_code == 200  # the old signature still counts

    app.config["SECRET_KEY_FALLBACKS"] = []
    assert visitor.get("/inbox").status_code == 302  # signed out: nothing signs as before
