"""A park's holiday schedules through the API: previewed, imported, listed, removed."""

from __future__ import annotations

import base64
from pathlib import Path

from flask.testing import FlaskClient

from tests.webapp.api.conftest import Login
from tests.webapp.api.helpers import error_code

URL = "/api/v1/parks/demo/holiday-schedules"
ICS = Path(__file__).resolve().parents[1] / "admin" / "data" / "holidays_2027.ics"
TEXT = "一、元旦：1月1日（周五）至3日（周日）放假调休，共3天。\n2027-01-31 上班"


def test_preview_import_list_and_remove(client: FlaskClient, login: Login) -> None:
    admin = login("admin")
    preview = client.post(URL, json={"year": 2027, "text": TEXT, "preview": True}, headers=admin)
    assert preview.status_code == 200, preview.json
    assert preview.json == {
        "year": 2027,
        "source": "pasted",
        "saved": False,
        "holidays": ["2027-01-01", "2027-01-02", "2027-01-03"],
        "workdays": ["2027-01-31"],
    }
    assert client.get(URL, headers=admin).json == []

    ics = base64.b64encode(ICS.read_bytes()).decode()
    saved = client.post(URL, json={"year": 2027, "ics": ics}, headers=admin)
    assert saved.status_code == 201, saved.json
    assert saved.json["source"] == "ics" and saved.json["workdays"] == ["2027-01-31"]
    [listed] = client.get(URL, headers=admin).json
    assert listed == saved.json

    assert client.delete(f"{URL}/2027", headers=admin).status_code == 204
    assert client.delete(f"{URL}/2027", headers=admin).status_code == 404
    assert client.get(URL, headers=admin).json == []


def test_bad_schedules_and_other_roles_are_refused(client: FlaskClient, login: Login) -> None:
    admin = login("admin")
    for body in (
        {"year": 2027},
        {"year": 2027, "text": "2027-05-01 劳动节"},
        {"year": 2027, "ics": "not base64!"},
        {"year": 2027, "text": "x", "ics": "eA=="},
        {"year": 1900, "text": TEXT},
    ):
        answer = client.post(URL, json=body, headers=admin)
        assert answer.status_code == 422, (body, answer.json)
        assert error_code(answer) == "invalid"
    assert client.get(URL, headers=login("zhang.wei")).status_code == 403
