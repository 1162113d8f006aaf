"""Signing in, bearer tokens, their expiry and the sign-in rate limit."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import delete, func, select, update

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import error_code
from tests.webapp.apptools import PASSWORD, make_app
from webapp.api import caller
from webapp.api.caller import OWNER_SECONDS, RECENT_OWNERS_KEY, RecentOwners
from webapp.api.scoping import TokenOwner, Viewer
from webapp.db import Database, utcnow
from webapp.extensions import DATABASE_KEY
from webapp.models import ApiToken, GroupMember, Membership, Park, RateLimitCounter, User
from webapp.services.tokens import token_hash

TOKEN_URL = "/api/v1/auth/token"


def test_token_for_the_right_password(client: FlaskClient, parks: Database) -> None:
    response = client.post(TOKEN_URL, json={"username": "admin", "password": PASSWORD})

    assert response.status_code == 200
    assert set(response.json) == {"token", "expires_at"}
    with parks.read() as session:
        stored = session.query(ApiToken).one()
        # only the hash is kept
        assert stored.token_hash == token_hash(response.json["token"])
        assert response.json["token"] not in (stored.token_hash, stored.id)


def test_token_works_as_bearer(client: FlaskClient, login: Login) -> None:
    response = client.get("/api/v1/tasks", headers=login("zhang.wei"))

    assert response.status_code == 200


def test_wrong_password_and_unknown_user_look_the_same(client: FlaskClient) -> None:
    wrong = client.post(TOKEN_URL, json={"username": "admin", "password": "not-it-at-all"})
    unknown = client.post(TOKEN_URL, json={"username": "nobody", "password": PASSWORD})

    assert wrong.status_code == unknown.status_code == 401
    assert error_code(wrong) == error_code(unknown) == "unauthorized"
    assert wrong.json == unknown.json
    assert wrong.headers["WWW-Authenticate"] == "Bearer"


def test_disabled_user_gets_no_token(client: FlaskClient, parks: Database) -> None:
    with parks.write() as session:
        session.query(User).filter_by(username="admin").one().is_active = False

    response = client.post(TOKEN_URL, json={"username": "admin", "password": PASSWORD})

    assert response.status_code == 401


def test_token_request_needs_both_fields(client: FlaskClient) -> None:
    response = client.post(TOKEN_URL, json={"username": "admin"})

    assert response.status_code == 422
    assert error_code(response) == "invalid"
    assert response.json["error"]["details"] == [
        {"field": "password", "message": "Missing data for required field."}]


def test_token_request_malformed_or_not_json(client: FlaskClient) -> None:
    malformed = client.post(TOKEN_URL, data='{"username": ', content_type="application/json")
    form = client.post(TOKEN_URL, data={"username": "admin", "password": PASSWORD})

    assert malformed.status_code == 400 and error_code(malformed) == "bad_request"
    assert form.status_code == 415 and error_code(form) == "unsupported_media_type"


def test_missing_or_bad_credentials_are_401(client: FlaskClient, login: Login) -> None:
    token = login("admin")["Authorization"].split()[1]
    cases = [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Basic YWRtaW46cGFya2Zsb3c="},
        {"Authorization": "Bearer pf_not-a-token"},
        {"Authorization": "Bearer something-else"},
        {"Authorization": f"Bearer {token}x"},
        {"Authorization": "Bearer pf_" + "x" * 5000},
    ]
    for headers in cases:
        response = client.get("/api/v1/tasks", headers=headers)
        assert response.status_code == 401, headers
        assert error_code(response) == "unauthorized"


def test_token_expires(client: FlaskClient, login: Login) -> None:
    headers = login("zhang.wei")

    with time_machine.travel(utcnow() + timedelta(hours=11, minutes=59)):
        assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    with time_machine.travel(utcnow() + timedelta(hours=12, seconds=1)):
        response = client.get("/api/v1/tasks", headers=headers)

    assert response.status_code == 401
    assert "expired" in response.json["error"]["message"]


def test_token_lifetime_is_configurable(parks: Database, database_url: str,
                                        tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path / "instance", PARKFLOW_TOKEN_LIFETIME=60)
    client = app.test_client()
    try:
        response = client.post(TOKEN_URL, json={"username": "admin", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {response.json['token']}"}
        with time_machine.travel(utcnow() + timedelta(seconds=61)):
            assert client.get("/api/v1/tasks", headers=headers).status_code == 401
    finally:
        app.extensions[DATABASE_KEY].dispose()


def test_sign_out_revokes_the_token(client: FlaskClient, login: Login) -> None:
    headers = login("zhang.wei")

    assert client.delete(TOKEN_URL, headers=headers).status_code == 204
    assert client.get("/api/v1/tasks", headers=headers).status_code == 401
    assert client.delete(TOKEN_URL, headers=headers).status_code == 401


def test_token_of_a_disabled_user_stops_working(client: FlaskClient, login: Login,
                                                parks: Database) -> None:
    headers = login("zhang.wei")
    with parks.write() as session:
        session.query(User).filter_by(username="zhang.wei").one().is_active = False

    assert client.get("/api/v1/tasks", headers=headers).status_code == 401



def test_a_tokens_owner_is_read_once_while_it_is_fresh(
        client: FlaskClient, login: Login, monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[str] = []
    read = caller.token_owner
    monkeypatch.setattr(caller, "token_owner",
                        lambda connection, digest: reads.append(digest) or read(connection, digest))
    headers = login("zhang.wei")

    assert [client.get("/api/v1/tasks", headers=headers).status_code
            for _ in range(3)] == [200, 200, 200]
    assert len(reads) == 1


def _owners(client: FlaskClient) -> RecentOwners:
    owners: RecentOwners = client.application.extensions[RECENT_OWNERS_KEY]
    return owners


def _secret(headers: dict[str, str]) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


@pytest.mark.parametrize("change", ["account", "membership", "group", "park"])
def test_a_change_to_the_owner_in_this_process_counts_at_once(
        client: FlaskClient, login: Login, parks: Database, change: str) -> None:
    headers = login("zhang.wei")
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    digest = token_hash(_secret(headers))
    assert _owners(client).get(digest) is not None
    # through another Database object on the same database: every one of this process counts
    with parks.write() as session:
        user = session.scalars(select(User).where(User.username == "zhang.wei")).one()
        if change == "account":
            user.is_active = False
        elif change == "membership":
            session.execute(delete(Membership).where(Membership.user_id == user.id))
        elif change == "group":
            session.execute(delete(GroupMember).where(GroupMember.user_id == user.id))
        else:
            session.execute(update(Park).values(name="改名的园区"))

    assert _owners(client).get(digest) is None
    if change == "account":
        assert client.get("/api/v1/tasks", headers=headers).status_code == 401


def test_a_change_rolled_back_or_elsewhere_is_seen_within_a_second(
        client: FlaskClient, login: Login, parks: Database) -> None:
    now = [1000.0]
    _owners(client).clock = lambda: now[0]
    headers = login("zhang.wei")
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    # another process's change: on the driver's own connection, which this process does not see
    raw = parks.engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("UPDATE users SET is_active = FALSE WHERE username = 'zhang.wei'")
        cursor.close()
        raw.commit()
    finally:
        raw.close()

    now[0] += OWNER_SECONDS / 2
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    now[0] += OWNER_SECONDS / 2
    assert client.get("/api/v1/tasks", headers=headers).status_code == 401


def test_expiry_is_checked_on_every_request(client: FlaskClient, login: Login) -> None:
    headers = login("zhang.wei")
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200

    with time_machine.travel(utcnow() + timedelta(days=2)):
        assert client.get("/api/v1/tasks", headers=headers).status_code == 401


def test_recent_owners_start_afresh_when_full() -> None:
    now = [0.0]
    owners = RecentOwners(seconds=1.0, most=2, clock=lambda: now[0])
    owner = TokenOwner(Viewer("u", "u", {}), utcnow() + timedelta(hours=1), True)
    owners.put("a", owner)
    owners.put("b", owner)
    assert owners.get("a") is owner and owners.get("nobody") is None
    owners.put("c", owner)  # full: everything goes, then c comes in
    assert (owners.get("a"), owners.get("c")) == (None, owner)
    now[0] = 1.0
    assert owners.get("c") is None

def _rate_limited_app(database_url: str, tmp_path: Path) -> Flask:
    return make_app(database_url, tmp_path / "instance", RATELIMIT_ENABLED=True,
                    PARKFLOW_LOGIN_RATE_LIMIT="3 per minute")


def test_sign_in_is_rate_limited_per_account_from_any_address(
        parks: Database, database_url: str, tmp_path: Path) -> None:
    app = _rate_limited_app(database_url, tmp_path)
    client = app.test_client()
    wrong = {"username": "admin", "password": "wrong-password"}
    try:
        answers = [client.post(TOKEN_URL, json=wrong).status_code for _ in range(3)]
        limited = client.post(TOKEN_URL, json={"username": "admin", "password": PASSWORD})
        other_user = client.post(TOKEN_URL, json={"username": "zhang.wei", "password": PASSWORD})
        # guessing from many addresses is guessing all the same
        other_address = client.post(TOKEN_URL, json={"username": " Admin", "password": PASSWORD},
                                    environ_base={"REMOTE_ADDR": "10.0.0.9"})
    finally:
        app.extensions[DATABASE_KEY].dispose()

    assert answers == [401, 401, 401]
    # even the right password is refused once the limit is reached
    assert limited.status_code == 429
    assert error_code(limited) == "rate_limited"
    assert int(limited.headers["Retry-After"]) > 0
    assert other_user.status_code == 200
    assert other_address.status_code == 429


def test_one_address_spraying_thirty_usernames_is_throttled(
        parks: Database, database_url: str, tmp_path: Path) -> None:
    app = make_app(database_url, tmp_path / "instance", RATELIMIT_ENABLED=True)
    client = app.test_client()
    try:
        answers = [client.post(TOKEN_URL, json={"username": f"guess{n}", "password": "x"}
                               ).status_code for n in range(30)]
        elsewhere = client.post(TOKEN_URL, json={"username": "admin", "password": PASSWORD},
                                environ_base={"REMOTE_ADDR": "10.0.0.9"})
    finally:
        app.extensions[DATABASE_KEY].dispose()

    # the default: 20 attempts a minute from one address, whatever the usernames
    assert answers == [401] * 20 + [429] * 10
    assert elsewhere.status_code == 200


def test_sign_in_counts_are_kept_in_the_database_for_every_process(
        parks: Database, database_url: str, tmp_path: Path) -> None:
    first = make_app(database_url, tmp_path / "one", RATELIMIT_ENABLED=True,
                     PARKFLOW_LOGIN_RATE_LIMIT="2 per minute")
    wrong = {"username": "admin", "password": "wrong-password"}
    try:
        answers = [first.test_client().post(TOKEN_URL, json=wrong).status_code
                   for _ in range(2)]
    finally:
        first.extensions[DATABASE_KEY].dispose()
    # another web process: a new app on the same database, with nothing in memory
    second = make_app(database_url, tmp_path / "two", RATELIMIT_ENABLED=True,
                      PARKFLOW_LOGIN_RATE_LIMIT="2 per minute")
    try:
        limited = second.test_client().post(TOKEN_URL, json=wrong)
    finally:
        second.extensions[DATABASE_KEY].dispose()

    assert answers == [401, 401]
    assert limited.status_code == 429
    with parks.read() as session:
        assert session.scalar(select(func.count()).select_from(RateLimitCounter)) == 2


def test_only_sign_in_is_limited(parks: Database, database_url: str, tmp_path: Path) -> None:
    app = _rate_limited_app(database_url, tmp_path)
    client = app.test_client()
    try:
        token = client.post(TOKEN_URL, json={"username": "zhang.wei", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.get_json()['token']}"}
        inbox = [client.get("/api/v1/tasks", headers=headers).status_code for _ in range(6)]
        health = [client.get("/healthz").status_code for _ in range(6)]
        signed_in = [client.post(TOKEN_URL, json={"username": "zhang.wei", "password": PASSWORD}
                                 ).status_code for _ in range(3)]
    finally:
        app.extensions[DATABASE_KEY].dispose()

    assert inbox == [200] * 6
    assert set(health) == {200}
    # the first sign-in counted: two more pass, the third is one too many
    assert signed_in == [200, 200, 429]


def test_rate_limit_window_passes(parks: Database, database_url: str, tmp_path: Path) -> None:
    app = _rate_limited_app(database_url, tmp_path)
    client = app.test_client()
    body = {"username": "admin", "password": PASSWORD}
    try:
        with time_machine.travel(utcnow(), tick=False) as traveller:
            for _ in range(3):
                assert client.post(TOKEN_URL, json=body).status_code == 200
            assert client.post(TOKEN_URL, json=body).status_code == 429
            traveller.shift(timedelta(seconds=61))
            assert client.post(TOKEN_URL, json=body).status_code == 200
    finally:
        app.extensions[DATABASE_KEY].dispose()
