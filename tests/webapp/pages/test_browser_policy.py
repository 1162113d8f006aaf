"""What browsers are told: a CSP with no inline script, HSTS and Secure cookies over HTTPS."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.test import TestResponse

from tests.webapp.apptools import Browser, csrf_of, make_app
from webapp.app import config_from_env
from webapp.config import ConfigError
from webapp.db import Database
from webapp.extensions import DATABASE_KEY

OpenBrowser = Callable[..., Browser]
TEMPLATES = Path(__file__).resolve().parents[3] / "webapp" / "templates"
SCRIPT_TAG = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)
EVENT_ATTRIBUTE = re.compile(r"<[^>]*\son[a-z]+\s*=", re.IGNORECASE)


def policy(answer: TestResponse) -> dict[str, str]:
    found = answer.headers["Content-Security-Policy"]
    return dict(part.strip().split(" ", 1) for part in found.split(";"))


def session_cookie(answer: TestResponse) -> str:
    [cookie] = [c for c in answer.headers.getlist("Set-Cookie") if c.startswith("session=")]
    return cookie


def sign_in(app: Flask, base_url: str, **headers: str) -> TestResponse:
    client = app.test_client()
    page = client.get("/login", base_url=base_url, headers=headers)
    return client.post(
        "/login",
        base_url=base_url,
        headers=headers,
        data={"username": "zhang.wei", "password": "parkflow-demo", "csrf_token": csrf_of(page)},
    )


@pytest.mark.parametrize("path", ["/login", "/inbox", "/no-such-page", "/healthz", "/api/v1/tasks"])
def test_every_answer_forbids_scripts_from_anywhere_but_the_site(
    browser: OpenBrowser, path: str
) -> None:
    answer = browser("zhang.wei").get(path)

    rules = policy(answer)
    assert rules["script-src"] == "'self'"
    assert rules["frame-ancestors"] == "'none'" and rules["object-src"] == "'none'"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert "Strict-Transport-Security" not in answer.headers  # plain HTTP: no HSTS


def test_no_template_runs_inline_script() -> None:
    inline, handlers = [], []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        for attributes in SCRIPT_TAG.findall(text):
            # a JSON data block is never run; anything else must come from /static
            if "src=" not in attributes and 'type="application/json"' not in attributes:
                inline.append(template.name)
        handlers += [template.name] * len(EVENT_ATTRIBUTE.findall(text))

    assert inline == [] and handlers == []


def test_the_session_cookie_over_plain_http_is_lax_and_http_only(app: Flask) -> None:
    answer = sign_in(app, "http://localhost")

    cookie = session_cookie(answer)
    assert "SameSite=Lax" in cookie and "HttpOnly" in cookie
    assert "Secure" not in cookie


def test_over_https_the_cookie_is_secure_and_hsts_is_sent(app: Flask) -> None:
    answer = sign_in(app, "https://localhost")

    assert "Secure" in session_cookie(answer)
    assert answer.headers["Strict-Transport-Security"] == "max-age=31536000"


def test_behind_a_trusted_proxy_that_says_https_the_cookie_is_secure(
    parks: Database, database_url: str, tmp_path: Path
) -> None:
    app = make_app(database_url, tmp_path / "proxied", PARKFLOW_TRUSTED_PROXIES=1)
    try:
        proxied = sign_in(
            app, "http://localhost", **{"X-Forwarded-Proto": "https", "X-Forwarded-For": "10.0.0.1"}
        )
    finally:
        app.extensions[DATABASE_KEY].dispose()

    assert "Secure" in session_cookie(proxied)
    assert "Strict-Transport-Security" in proxied.headers


def test_an_untrusted_forwarded_proto_changes_nothing(app: Flask) -> None:
    answer = sign_in(app, "http://localhost", **{"X-Forwarded-Proto": "https"})

    assert "Secure" not in session_cookie(answer)
    assert "Strict-Transport-Security" not in answer.headers


def test_secure_cookies_can_be_forced_for_a_tls_proxy_that_says_nothing(
    parks: Database, database_url: str, tmp_path: Path
) -> None:
    app = make_app(
        database_url, tmp_path / "forced", **config_from_env({"PARKFLOW_SECURE_COOKIES": "always"})
    )
    try:
        answer = sign_in(app, "http://localhost")
    finally:
        app.extensions[DATABASE_KEY].dispose()

    assert "Secure" in session_cookie(answer)


def test_a_malformed_secure_cookies_setting_is_named() -> None:
    with pytest.raises(ConfigError, match="PARKFLOW_SECURE_COOKIES"):
        config_from_env({"PARKFLOW_SECURE_COOKIES": "sometimes"})
