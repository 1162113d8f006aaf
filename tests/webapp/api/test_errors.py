"""Errors are JSON of one shape with the right status, and bad input never causes a 500."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import error_code, start, step
from tests.webapp.apptools import make_app

TASKS = "/api/v1/tasks"


def test_unknown_api_url_is_json_404(client: FlaskClient, login: Login) -> None:
    response = client.get("/api/v1/nothing/here", headers=login("admin"))

    assert response.status_code == 404
    assert error_code(response) == "not_found"


def test_wrong_method_is_json_405(client: FlaskClient, login: Login) -> None:
    response = client.put(TASKS, headers=login("admin"))

    assert response.status_code == 405
    assert error_code(response) == "method_not_allowed"
    assert "GET" in response.headers["Allow"]


def test_pages_outside_the_api_keep_flask_errors(client: FlaskClient) -> None:
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response.mimetype == "text/html"


@pytest.mark.parametrize("body", [
    "[" * 5000 + "]" * 5000,
    '{"data": ' + '{"a": ' * 40 + "1" + "}" * 40 + "}",
    '{"data": {"x": NaN}}',
    '{"data": {"x": Infinity}}',
    '{"data": {"x": 1e999}}',
    '{"data": {"x": 123456789012345678901234567890}}',
    '{"data": {"x": 9223372036854775808}}',
    '{"data": {"x": "nul \\u0000 inside"}}',
    '{"data": {"x\\u0000": 1}}',
    '{"data": {"x": "\\ud800"}}',
    '{"data": "unterminated',
])
def test_unusable_json_is_400(client: FlaskClient, login: Login, body: str) -> None:
    task = step(start(client, login("xinghe")), "probe_review")

    response = client.post(f"{TASKS}/{task}/complete", data=body,
                           content_type="application/json", headers=login("zhang.wei"))

    assert response.status_code == 400
    assert error_code(response) == "bad_request"


def test_body_that_is_not_utf8_is_400(client: FlaskClient, login: Login) -> None:
    response = client.post("/api/v1/parks/demo/instances", data=b'{"process_key": "\xff"}',
                           content_type="application/json", headers=login("xinghe"))

    assert response.status_code == 400


def test_json_body_over_1_mb_is_413(client: FlaskClient, login: Login) -> None:
    body = '{"process_key": "api_probe", "data": {"x": "' + "a" * 1024 * 1024 + '"}}'

    response = client.post("/api/v1/parks/demo/instances", data=body,
                           content_type="application/json", headers=login("xinghe"))

    assert response.status_code == 413
    assert error_code(response) == "too_large"


def test_nul_in_the_url_is_400(client: FlaskClient, login: Login) -> None:
    for url in ("/api/v1/instances/a%00b", "/api/v1/parks/demo/instances?process_key=a%00"):
        response = client.get(url, headers=login("admin"))
        assert response.status_code == 400, url


def test_body_must_be_an_object(client: FlaskClient, login: Login) -> None:
    for body in ("[]", "3", '"text"', "null"):
        response = client.post("/api/v1/parks/demo/instances", data=body,
                               content_type="application/json", headers=login("xinghe"))
        assert response.status_code == 422, body


def test_validation_details_list_every_field(client: FlaskClient, login: Login) -> None:
    response = client.post("/api/v1/parks/demo/instances",
                           json={"process_key": "", "data": 3, "enterprise": 5},
                           headers=login("admin"))

    assert response.status_code == 422
    details = response.json["error"]["details"]
    assert {d["field"] for d in details} == {"process_key", "data", "enterprise"}
    assert all(set(d) == {"field", "message"} for d in details)


def test_a_bug_is_a_logged_json_500(app: Flask, caplog: pytest.LogCaptureFixture) -> None:
    @app.get("/api/v1/broken-on-purpose")
    def broken() -> None:
        raise RuntimeError("secret internals")

    client = app.test_client()
    client.allow_5xx = True  # type: ignore[attr-defined]
    with caplog.at_level(logging.ERROR):
        response = client.get("/api/v1/broken-on-purpose")

    assert response.status_code == 500
    assert error_code(response) == "internal_error"
    assert "secret" not in response.get_data(as_text=True)
    assert "secret internals" in caplog.text


def test_openapi_document_is_generated(client: FlaskClient) -> None:
    response = client.get("/api/v1/openapi.json")

    assert response.status_code == 200
    document = response.json
    assert document["info"]["title"] == "Parkflow"
    assert "/api/v1/tasks/{task_id}/complete" in document["paths"]
    assert document["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    token = document["paths"]["/api/v1/auth/token"]["post"]
    assert token["security"] == []


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json == {"status": "ok"}


def test_database_down_is_503(tmp_path: Path) -> None:
    app = make_app(f"sqlite:///{tmp_path / 'missing' / 'parkflow.db'}", tmp_path / "instance")
    client = app.test_client()
    client.allow_5xx = True  # type: ignore[attr-defined]

    health = client.get("/healthz")
    api = client.get("/api/v1/tasks", headers={"Authorization": "Bearer pf_anything"})

    assert health.status_code == 503
    assert api.status_code == 503
    assert error_code(api) == "unavailable"
    assert api.headers["Retry-After"] == "5"
