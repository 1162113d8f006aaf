"""Deploying procedures through the API, listing them and reading their BPMN."""

from __future__ import annotations

import io
import json
from typing import Any

from flask.testing import FlaskClient

from tests.webapp.api.conftest import DATA, Login
from tests.webapp.api.helpers import error_code

URL = "/api/v1/parks/demo/processes"


def _probe_json(**changes: Any) -> dict[str, Any]:
    body = {"bpmn_xml": (DATA / "probe.bpmn").read_text(),
            "forms": {"probe_review": json.loads((DATA / "probe_review.json").read_text())}}
    return {**body, **changes}


def _changed_probe() -> str:
    return (DATA / "probe.bpmn").read_text().replace('name="Review"', 'name="Second look"')


def test_deploy_json_new_then_unchanged(client: FlaskClient, login: Login) -> None:
    changed = _probe_json(bpmn_xml=_changed_probe())

    first = client.post(URL, json=changed, headers=login("admin"))
    again = client.post(URL, json=changed, headers=login("admin"))

    assert first.status_code == 201
    assert first.json == {"processes": [
        {"key": "api_probe", "version": 2, "name": "API probe", "created": True}], "warnings": []}
    assert again.status_code == 200
    assert again.json["processes"][0]["version"] == 2
    assert again.json["processes"][0]["created"] is False


def test_deploy_unchanged_content_keeps_the_version(client: FlaskClient, login: Login) -> None:
    response = client.post(URL, json=_probe_json(), headers=login("admin"))

    assert response.status_code == 200
    assert response.json["processes"][0]["version"] == 1


def test_deploy_multipart(client: FlaskClient, login: Login) -> None:
    response = client.post(URL, headers=login("admin"), content_type="multipart/form-data", data={
        "bpmn": (io.BytesIO(_changed_probe().encode()), "probe.bpmn"),
        "form:probe_review": (io.BytesIO((DATA / "probe_review.json").read_bytes()),
                              "probe_review.json"),
    })

    assert response.status_code == 201, response.json
    assert response.json["processes"][0]["version"] == 2


def test_deploy_multipart_with_dmn(client: FlaskClient, login: Login) -> None:
    processes = DATA.parents[3] / "processes"
    response = client.post(URL, headers=login("admin"), content_type="multipart/form-data", data={
        "bpmn": [(io.BytesIO((processes / "policy_subsidy.bpmn").read_bytes()), "p.bpmn")],
        "dmn": [(io.BytesIO((processes / "subsidy_eligibility.dmn").read_bytes()), "e.dmn")],
        **{f"form:{path.stem}": (io.BytesIO(path.read_bytes()), path.name)
           for path in (DATA.parents[3] / "forms").glob("policy_subsidy_*.json")},
    })

    assert response.status_code == 200, response.json
    assert response.json["processes"][0]["key"] == "policy_subsidy"


def test_deploy_invalid_lists_every_problem(client: FlaskClient, login: Login) -> None:
    body = {"bpmn_xml": (DATA / "broken.bpmn").read_text()}

    response = client.post(URL, json=body, headers=login("admin"))

    assert response.status_code == 422
    assert error_code(response) == "invalid_process"
    details = response.json["error"]["details"]
    assert len(details) >= 3
    # API.md's three keys, and where the engine names the kind of problem its code and facts
    assert all({"element_id", "line", "message"} <= set(problem)
               <= {"element_id", "line", "message", "code", "params"} for problem in details)
    assert all(set(problem) == {"element_id", "line", "message", "code", "params"}
               for problem in details if "code" in problem)
    assert any(problem.get("code") for problem in details)
    assert {"b_java", "b_review"} <= {problem["element_id"] for problem in details}
    assert any(problem["line"] == 7 for problem in details)


def test_deploy_garbage_xml_is_422(client: FlaskClient, login: Login) -> None:
    for text in ("not xml at all", "<definitions/>", "<?xml version='1.0'?><a><b></a>"):
        response = client.post(URL, json={"bpmn_xml": text}, headers=login("admin"))
        assert response.status_code == 422, text
        assert response.json["error"]["details"], text


def test_deploy_bytes_that_are_not_utf8(client: FlaskClient, login: Login) -> None:
    response = client.post(URL, headers=login("admin"), content_type="multipart/form-data",
                           data={"bpmn": (io.BytesIO(b"<a>\xff\xfe</a>"), "bad.bpmn")})

    assert response.status_code == 422
    assert "not UTF-8" in response.json["error"]["details"][0]["message"]


def test_deploy_needs_a_bpmn(client: FlaskClient, login: Login) -> None:
    as_json = client.post(URL, json={"dmn_xml": []}, headers=login("admin"))
    as_form = client.post(URL, headers=login("admin"), content_type="multipart/form-data",
                          data={"dmn": (io.BytesIO(b"<x/>"), "x.dmn")})

    assert as_json.status_code == 422
    assert as_json.json["error"]["details"][0]["field"] == "bpmn_xml"
    assert as_form.status_code == 422
    assert as_form.json["error"]["details"][0]["field"] == "bpmn"


def test_deploy_form_file_must_be_json(client: FlaskClient, login: Login) -> None:
    response = client.post(URL, headers=login("admin"), content_type="multipart/form-data", data={
        "bpmn": (io.BytesIO((DATA / "probe.bpmn").read_bytes()), "probe.bpmn"),
        "form:probe_review": (io.BytesIO(b"{not json"), "probe_review.json"),
    })

    assert response.status_code == 422
    assert response.json["error"]["details"][0]["field"] == "form:probe_review"


def test_deploy_is_for_admins(client: FlaskClient, login: Login) -> None:
    for username in ("zhang.wei", "xinghe"):
        response = client.post(URL, json=_probe_json(), headers=login(username))
        assert response.status_code == 403, username
        assert error_code(response) == "forbidden"


def test_deploy_too_large(client: FlaskClient, login: Login) -> None:
    padding = " " * (5 * 1024 * 1024)
    as_form = client.post(URL, headers=login("admin"), content_type="multipart/form-data",
                          data={"bpmn": (io.BytesIO(padding.encode()), "big.bpmn")})
    as_json = client.post(URL, json={"bpmn_xml": padding}, headers=login("admin"))

    assert as_form.status_code == 413 and error_code(as_form) == "too_large"
    assert as_json.status_code == 413


def test_deploy_wrong_content_type_and_malformed(client: FlaskClient, login: Login) -> None:
    text = client.post(URL, data="<definitions/>", content_type="application/xml",
                       headers=login("admin"))
    broken = client.post(URL, data="{", content_type="application/json", headers=login("admin"))

    assert text.status_code == 415
    assert broken.status_code == 400


def test_list_latest_versions(client: FlaskClient, login: Login) -> None:
    client.post(URL, json=_probe_json(bpmn_xml=_changed_probe()), headers=login("admin"))

    response = client.get(URL, headers=login("xinghe"))

    assert response.status_code == 200
    listed = {item["key"]: item for item in response.json}
    assert set(listed) == {"api_probe", "policy_subsidy", "enterprise_registration",
                           "tax_docking", "fund_disbursement"}
    assert listed["api_probe"]["version"] == 2
    assert set(listed["api_probe"]) == {"key", "name", "version", "deployed_at",
                                        "promised_duration"}
    # most recently deployed first
    assert response.json[0]["key"] == "api_probe"


def test_list_pages(client: FlaskClient, login: Login) -> None:
    seen: list[str] = []
    url: str | None = f"{URL}?limit=2"
    while url is not None:
        response = client.get(url, headers=login("admin"))
        assert len(response.json) <= 2
        seen.extend(item["key"] for item in response.json)
        link = response.headers.get("Link")
        url = link[1:link.index(">")] if link else None

    assert len(seen) == len(set(seen)) == 5


def test_get_bpmn_of_a_version(client: FlaskClient, login: Login) -> None:
    client.post(URL, json=_probe_json(bpmn_xml=_changed_probe()), headers=login("admin"))

    first = client.get(f"{URL}/api_probe/versions/1/bpmn", headers=login("zhang.wei"))
    second = client.get(f"{URL}/api_probe/versions/2/bpmn", headers=login("zhang.wei"))

    assert first.status_code == 200
    assert first.mimetype == "application/xml"
    assert 'name="Review"' in first.get_data(as_text=True)
    assert 'name="Second look"' in second.get_data(as_text=True)


def test_get_bpmn_absent(client: FlaskClient, login: Login) -> None:
    for path in ("api_probe/versions/9/bpmn", "nope/versions/1/bpmn",
                 f"api_probe/versions/{2**70}/bpmn"):
        response = client.get(f"{URL}/{path}", headers=login("admin"))
        assert response.status_code == 404, path
        assert error_code(response) == "not_found"


def test_deploy_camunda_decisions_and_run_them(client: FlaskClient, login: Login) -> None:
    dmn = DATA.parents[2] / "engine" / "data" / "dmn"
    response = client.post(URL, headers=login("admin"), content_type="multipart/form-data", data={
        "bpmn": [(io.BytesIO((dmn / "rating.bpmn").read_bytes()), "rating.bpmn")],
        "dmn": [(io.BytesIO((dmn / name).read_bytes()), name)
                for name in ("park_rating.dmn", "hit_policies.dmn")],
    })
    assert response.status_code in (200, 201), response.json

    started = client.post("/api/v1/parks/demo/instances", headers=login("xinghe"), json={
        "process_key": "rating_process",
        "data": {"employees": 57, "sector": "tech", "amount": 1},
    })

    # two rules of a UNIQUE table match: the application stops at the decision, not a 500
    assert started.status_code == 201, started.json
    assert started.json["status"] == "error"
    assert "Rule_overlap" in json.dumps(started.json["error"])


def test_deploy_refuses_a_decision_cycle(client: FlaskClient, login: Login) -> None:
    broken = DATA.parents[2] / "engine" / "data" / "broken" / "unsupported_decisions.dmn"
    response = client.post(URL, headers=login("admin"), content_type="multipart/form-data", data={
        "bpmn": [(io.BytesIO((DATA.parents[2] / "engine" / "data" / "dmn" / "rating.bpmn")
                             .read_bytes()), "rating.bpmn")],
        "dmn": [(io.BytesIO(broken.read_bytes()), "unsupported.dmn")],
    })
    assert response.status_code == 422
    messages = [problem["message"] for problem in response.json["error"]["details"]]
    assert any("cycle: ranked -> looping -> ranked" in message for message in messages)
