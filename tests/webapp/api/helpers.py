"""Small builders shared by the API tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.testing import FlaskClient

SUBSIDY_DATA: dict[str, Any] = {
    "company_name": "星河科技有限公司",
    "credit_code": "91310000MA1FL0000X",
    "enterprise_type": "高新技术企业",
    "policy_item": "研发投入补助",
    "requested_amount": 200000,
    "rd_spend": 3000000,
    "revenue": 20000000,
    "employee_count": 120,
    "contact_name": "周敏",
    "contact_phone": "13800000000",
    "attachments": ["营业执照.pdf"],
    "commitment": True,
}


def start(client: FlaskClient, headers: dict[str, str], process_key: str = "api_probe", *,
          park: str = "demo", data: dict[str, Any] | None = None,
          enterprise: str | None = None) -> dict[str, Any]:
    """Start an application through the API; returns its view."""
    body: dict[str, Any] = {"process_key": process_key, "data": data or {}}
    if enterprise is not None:
        body["enterprise"] = enterprise
    response = client.post(f"/api/v1/parks/{park}/instances", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return dict(response.json)


def step(view: dict[str, Any], element_id: str) -> str:
    """The task id of the open step ``element_id`` in an instance view."""
    found = [s["task_id"] for s in view["current_steps"] if s["element_id"] == element_id]
    assert len(found) == 1, view["current_steps"]
    return str(found[0])


def error_code(response: Any) -> str:
    """The ``error.code`` of an error response, checking the error shape on the way."""
    body = response.json
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["message"], body
    return str(body["error"]["code"])


def complete_step(client: FlaskClient, login: Callable[[str], dict[str, str]],
                  view: dict[str, Any], element_id: str, data: dict[str, Any],
                  who: str = "zhang.wei") -> dict[str, Any]:
    """Complete the application's open ``element_id`` as ``who``; the instance view after."""
    response = client.post(f"/api/v1/tasks/{step(view, element_id)}/complete",
                           json={"data": data}, headers=login(who))
    assert response.status_code == 200, response.json
    return dict(response.json)
