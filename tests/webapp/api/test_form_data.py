"""A diagram whose forms are drawn in Camunda Modeler (camunda:formData) deploys, and its
generated forms behave as form files do: checked on the server (422 with every field's error),
drawn on the application and task pages in the order drawn, enum as a select, boolean as a
check box, date as a date, prefilled with their defaults."""

from __future__ import annotations

import re

from flask.testing import FlaskClient

from tests.webapp.api.conftest import DATA, Login
from tests.webapp.api.helpers import complete_step, start, step
from tests.webapp.apptools import Browser, text_of

URL = "/api/v1/parks/demo/processes"
BOOKING = {
    "event_name": "园区开放日",
    "guests": 30,
    "room": "studio",
    "event_date": "2027-06-01",
    "catering": True,
}


def _deploy(client: FlaskClient, login: Login) -> dict:
    body = {"bpmn_xml": (DATA / "form_data.bpmn").read_text()}
    answer = client.post(URL, json=body, headers=login("admin"))
    assert answer.status_code == 201, answer.json
    return dict(answer.json)


def _fields(html: str) -> list[tuple[str, str]]:
    """(input kind, name) of every form control of a page, in page order."""
    found = []
    for match in re.finditer(r"<(input|select|textarea)\b([^>]*)>", html):
        attributes = match.group(2)
        name = re.search(r'name="([^"]+)"', attributes)
        kind = re.search(r'type="([^"]+)"', attributes)
        if name and not (kind and kind.group(1) == "hidden"):
            found.append((kind.group(1) if kind else match.group(1), name.group(1)))
    return found


def test_the_diagram_deploys_with_its_forms(client: FlaskClient, login: Login) -> None:
    answer = _deploy(client, login)
    assert answer["processes"][0]["key"] == "venue_booking"
    assert answer["warnings"] == []


def test_the_start_form_is_checked_on_the_server(client: FlaskClient, login: Login) -> None:
    _deploy(client, login)
    refused = client.post(
        "/api/v1/parks/demo/instances",
        headers=login("xinghe"),
        json={
            "process_key": "venue_booking",
            "data": {
                "event_name": "",
                "guests": 500,
                "room": "garden",
                "event_date": "June",
                "other": 1,
            },
        },
    )
    assert refused.status_code == 422, refused.json
    fields = {d["field"] for d in refused.json["error"]["details"]}
    assert fields == {"event_name", "guests", "room", "event_date", "other"}


def test_a_task_with_a_drawn_form_completes_with_valid_data_only(
    client: FlaskClient, login: Login
) -> None:
    _deploy(client, login)
    view = start(client, login("xinghe"), "venue_booking", data=BOOKING)
    url = f"/api/v1/tasks/{step(view, 'Activity_review')}/complete"
    refused = client.post(
        url, json={"data": {"approved": "yes", "remark": "x"}}, headers=login("zhang.wei")
    )
    assert refused.status_code == 422, refused.json
    assert {d["field"] for d in refused.json["error"]["details"]} == {"approved", "remark"}
    done = complete_step(
        client, login, view, "Activity_review", {"approved": True, "remark": "可以"}
    )
    assert done["status"] == "completed"


def test_the_pages_draw_the_generated_forms(client: FlaskClient, login: Login) -> None:
    _deploy(client, login)
    applicant = Browser(client.application.test_client()).login("xinghe")
    page = text_of(applicant.get("/applications/new/venue_booking"))
    assert _fields(page) == [
        ("text", "event_name"),
        ("number", "guests"),
        ("select", "room"),
        ("date", "event_date"),
        ("checkbox", "catering"),
    ]
    assert "As it will appear on the notice board" in page
    # the defaults the modeller drew are filled in
    assert re.search(r'name="guests"[^>]*value="20"', page)
    assert re.search(r'<option value="hall"\s+selected>Conference hall</option>', page)
    assert re.search(r'name="event_date"[^>]*value="2027-06-01"', page)
    assert re.search(r'name="catering"(?![^>]*checked)[^>]*>', page)

    refused = applicant.post(
        "/applications/new/venue_booking",
        {"event_name": "", "guests": "0", "room": "hall", "event_date": "2027-06-01"},
    )
    assert refused.status_code == 422
    assert "This field is required." in text_of(refused) or "此项为必填项" in text_of(refused)

    sent = applicant.post(
        "/applications/new/venue_booking",
        {
            "event_name": "园区开放日",
            "guests": "30",
            "room": "studio",
            "event_date": "2027-06-01",
            "catering": "on",
        },
    )
    assert sent.status_code == 302, text_of(sent)
    reviewer = Browser(client.application.test_client()).login("zhang.wei")
    (task,) = [
        t["task_id"]
        for t in client.get("/api/v1/tasks", headers=login("zhang.wei")).json
        if t["element_id"] == "Activity_review"
    ]
    html = text_of(reviewer.get(f"/tasks/{task}"))
    assert _fields(html)[:2] == [("checkbox", "approved"), ("textarea", "remark")]
    assert "园区开放日" in html  # the read-only field shows what the applicant wrote
