"""Tenant isolation: another park's or another enterprise's objects are 404 on every endpoint.

Never 403, which would confirm that the object exists. The endpoint list is checked against
the generated OpenAPI document, so a new endpoint cannot slip past this test.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from tests.webapp.api.conftest import OTHER_PARK, Login
from tests.webapp.api.helpers import SUBSIDY_DATA, start, step
from tests.webapp.apptools import OTHER_ENTERPRISE
from webapp.db import Database
from webapp.models import Enterprise, Notification, Park, Policy, PolicyOffer, User

PUBLIC = {("post", "/api/v1/auth/token"), ("delete", "/api/v1/auth/token"), ("get", "/healthz")}


@dataclass(frozen=True)
class Target:
    """Ids of one tenant's objects."""

    park: str
    instance_id: str
    task_id: str
    notification_id: int
    phrase_id: int = 0
    offer_id: int = 0
    filter_id: str = ""


def endpoints(target: Target) -> list[tuple[str, str, str, Any]]:
    """(method, path template, concrete path, JSON body) for every endpoint with an id."""
    park, instance, task = target.park, target.instance_id, target.task_id
    probe = {"bpmn_xml": "<definitions/>"}
    return [
        ("post", "/api/v1/parks/{park}/processes", f"/api/v1/parks/{park}/processes", probe),
        ("get", "/api/v1/parks/{park}/processes", f"/api/v1/parks/{park}/processes", None),
        ("get", "/api/v1/parks/{park}/processes/{key}/versions/{version}/bpmn",
         f"/api/v1/parks/{park}/processes/api_probe/versions/1/bpmn", None),
        ("post", "/api/v1/parks/{park}/instances", f"/api/v1/parks/{park}/instances",
         {"process_key": "api_probe", "enterprise": "远方制造有限公司"}),
        ("get", "/api/v1/parks/{park}/instances", f"/api/v1/parks/{park}/instances", None),
        ("get", "/api/v1/instances/{instance_id}", f"/api/v1/instances/{instance}", None),
        ("get", "/api/v1/instances/{instance_id}/audit",
         f"/api/v1/instances/{instance}/audit", None),
        ("get", "/api/v1/instances/{instance_id}/history",
         f"/api/v1/instances/{instance}/history", None),
        ("post", "/api/v1/instances/{instance_id}/messages/{message_name}",
         f"/api/v1/instances/{instance}/messages/payment_received", {"payload": {}}),
        ("post", "/api/v1/instances/{instance_id}/cancel",
         f"/api/v1/instances/{instance}/cancel", {}),
        ("get", "/api/v1/tasks/{task_id}", f"/api/v1/tasks/{task}", None),
        ("post", "/api/v1/tasks/{task_id}/claim", f"/api/v1/tasks/{task}/claim", None),
        ("post", "/api/v1/tasks/{task_id}/unclaim", f"/api/v1/tasks/{task}/unclaim", None),
        ("post", "/api/v1/tasks/{task_id}/assign", f"/api/v1/tasks/{task}/assign",
         {"username": "other.reviewer"}),
        ("post", "/api/v1/tasks/{task_id}/complete", f"/api/v1/tasks/{task}/complete",
         {"data": {"outcome": "approve"}}),
        *[("post", f"/api/v1/tasks/{{task_id}}/{action}", f"/api/v1/tasks/{task}/{action}", body)
          for action, body in (("transfer", {"username": "other.reviewer"}),
                               ("delegate", {"username": "other.reviewer"}),
                               ("add-signers", {"usernames": ["other.reviewer"],
                                                "position": "before"}),
                               ("remove-signers", {"usernames": ["other.reviewer"]}))],
        ("get", "/api/v1/parks/{park}/substitutes", f"/api/v1/parks/{park}/substitutes", None),
        ("get", "/api/v1/parks/{park}/stats", f"/api/v1/parks/{park}/stats", None),
        ("get", "/api/v1/parks/{park}/export/{what}.{fmt}",
         f"/api/v1/parks/{park}/export/applications.csv", None),
        ("delete", "/api/v1/parks/{park}/substitutes/{substitution_id}",
         f"/api/v1/parks/{park}/substitutes/none", None),
        ("get", "/api/v1/tasks/{task_id}/return-targets",
         f"/api/v1/tasks/{task}/return-targets", None),
        ("post", "/api/v1/tasks/{task_id}/return", f"/api/v1/tasks/{task}/return",
         {"to": "probe_review", "reasons": ["x"]}),
        ("post", "/api/v1/notifications/{notification_id}/read",
         f"/api/v1/notifications/{target.notification_id}/read", None),
        ("post", "/api/v1/instances/{instance_id}/withdraw",
         f"/api/v1/instances/{instance}/withdraw", {}),
        ("post", "/api/v1/instances/{instance_id}/urge", f"/api/v1/instances/{instance}/urge", {}),
        ("post", "/api/v1/instances/{instance_id}/cc", f"/api/v1/instances/{instance}/cc",
         {"usernames": ["other.admin"]}),
        ("post", "/api/v1/instances/{instance_id}/cc/read",
         f"/api/v1/instances/{instance}/cc/read", None),
        ("get", "/api/v1/parks/{park}/settings", f"/api/v1/parks/{park}/settings", None),
        ("patch", "/api/v1/parks/{park}/settings", f"/api/v1/parks/{park}/settings",
         {"urge_interval_hours": 2}),
        ("delete", "/api/v1/me/phrases/{phrase_id}", f"/api/v1/me/phrases/{target.phrase_id}",
         None),
        ("delete", "/api/v1/me/filters/{filter_id}", f"/api/v1/me/filters/{target.filter_id}",
         None),
        *[("post", f"/api/v1/external-tasks/{{task_id}}/{what}",
           f"/api/v1/external-tasks/{task}/{what}", {"worker_id": "w", **body})
          for what, body in (("complete", {}), ("failure", {"message": "m", "retries": 1}),
                             ("bpmn-error", {"code": "X"}), ("extend-lock", {"seconds": 5}))],
        ("post", "/api/v1/parks/{park}/service-tokens", f"/api/v1/parks/{park}/service-tokens",
         {"name": "n"}),
        ("delete", "/api/v1/parks/{park}/service-tokens/{token_id}",
         f"/api/v1/parks/{park}/service-tokens/t", None),
        # integrations: webhooks and the HTTP connector's settings
        ("get", "/api/v1/parks/{park}/webhooks", f"/api/v1/parks/{park}/webhooks", None),
        ("post", "/api/v1/parks/{park}/webhooks", f"/api/v1/parks/{park}/webhooks",
         {"url": "https://x.example/h", "events": ["task.overdue"]}),
        ("get", "/api/v1/parks/{park}/webhooks/{subscription_id}",
         f"/api/v1/parks/{park}/webhooks/s", None),
        ("patch", "/api/v1/parks/{park}/webhooks/{subscription_id}",
         f"/api/v1/parks/{park}/webhooks/s", {"enabled": False}),
        ("get", "/api/v1/parks/{park}/webhooks/{subscription_id}/deliveries",
         f"/api/v1/parks/{park}/webhooks/s/deliveries", None),
        ("post", "/api/v1/parks/{park}/webhook-deliveries/{delivery_id}/redeliver",
         f"/api/v1/parks/{park}/webhook-deliveries/d/redeliver", None),
        ("get", "/api/v1/parks/{park}/http-connector", f"/api/v1/parks/{park}/http-connector",
         None),
        ("put", "/api/v1/parks/{park}/http-connector/allowlist",
         f"/api/v1/parks/{park}/http-connector/allowlist", {"allowlist": []}),
        ("put", "/api/v1/parks/{park}/secrets/{name}", f"/api/v1/parks/{park}/secrets/n",
         {"value": "v"}),
        ("delete", "/api/v1/parks/{park}/secrets/{name}", f"/api/v1/parks/{park}/secrets/n",
         None),
        # 好差评: the rating, the park's rules for it, rectifications
        ("get", "/api/v1/instances/{instance_id}/rating",
         f"/api/v1/instances/{instance}/rating", None),
        ("post", "/api/v1/instances/{instance_id}/rating",
         f"/api/v1/instances/{instance}/rating", {"grade": 5}),
        ("get", "/api/v1/parks/{park}/rating-settings", f"/api/v1/parks/{park}/rating-settings",
         None),
        ("patch", "/api/v1/parks/{park}/rating-settings",
         f"/api/v1/parks/{park}/rating-settings", {"rating_invitation_days": 3}),
        ("get", "/api/v1/parks/{park}/rectifications", f"/api/v1/parks/{park}/rectifications",
         None),
        ("get", "/api/v1/rectifications/{rectification_id}", "/api/v1/rectifications/r", None),
        ("post", "/api/v1/rectifications/{rectification_id}/measures",
         "/api/v1/rectifications/r/measures", {"measures": "x"}),
        ("post", "/api/v1/rectifications/{rectification_id}/follow-up",
         "/api/v1/rectifications/r/follow-up", {"answer": "x", "accepted": True}),
        # 免申即享: profiles, policies and offers
        ("get", "/api/v1/parks/{park}/enterprises/{enterprise_id}/profile",
         f"/api/v1/parks/{park}/enterprises/e/profile", None),
        ("put", "/api/v1/parks/{park}/enterprises/{enterprise_id}/profile",
         f"/api/v1/parks/{park}/enterprises/e/profile", {"facts": {"rd_spend": 1}}),
        ("get", "/api/v1/parks/{park}/policies", f"/api/v1/parks/{park}/policies", None),
        ("get", "/api/v1/parks/{park}/policies/{key}", f"/api/v1/parks/{park}/policies/k", None),
        ("put", "/api/v1/parks/{park}/policies/{key}", f"/api/v1/parks/{park}/policies/k",
         {"name": "n", "process_key": "api_probe", "eligibility": "<definitions/>"}),
        ("post", "/api/v1/offers/{offer_id}/confirm",
         f"/api/v1/offers/{target.offer_id}/confirm", None),
        ("post", "/api/v1/offers/{offer_id}/decline",
         f"/api/v1/offers/{target.offer_id}/decline", None),
        ("post", "/api/v1/instances/{instance_id}/migrate/check",
         f"/api/v1/instances/{instance}/migrate/check", {"version": 1}),
        ("post", "/api/v1/instances/{instance_id}/migrate",
         f"/api/v1/instances/{instance}/migrate", {"version": 1}),
        ("post", "/api/v1/parks/{park}/processes/{key}/migrate",
         f"/api/v1/parks/{park}/processes/api_probe/migrate", {"version": 1}),
        ("get", "/api/v1/parks/{park}/holiday-schedules",
         f"/api/v1/parks/{park}/holiday-schedules", None),
        ("post", "/api/v1/parks/{park}/holiday-schedules",
         f"/api/v1/parks/{park}/holiday-schedules",
         {"year": 2027, "text": "2027-01-01 放假", "preview": True}),
        ("delete", "/api/v1/parks/{park}/holiday-schedules/{year}",
         f"/api/v1/parks/{park}/holiday-schedules/2027", None),
    ]


# endpoints without an id of their own: what they list must leave the other tenant out
LISTS = {("get", "/api/v1/tasks"), ("get", "/api/v1/notifications"), ("get", "/api/v1/people"),
         ("get", "/api/v1/me/substitute"), ("put", "/api/v1/me/substitute"),
         ("delete", "/api/v1/me/substitute"), ("post", "/api/v1/external-tasks/fetch-and-lock"),
         # the caller's own phrases
         ("get", "/api/v1/me/phrases"), ("post", "/api/v1/me/phrases"),
         # the policies offered to the caller's own enterprise
         ("get", "/api/v1/me/offers"),
         # the caller's own saved inbox filters
         ("get", "/api/v1/me/filters"), ("post", "/api/v1/me/filters")}
# endpoints naming ids in their body: each one not visible is reported not found
BATCHES = {("post", "/api/v1/tasks/batch-complete")}


def _notification(db: Database, username: str, park_slug: str) -> int:
    with db.write() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        park = session.scalars(select(Park).where(Park.slug == park_slug)).one()
        row = Notification(user_id=user.id, park_id=park.id, kind="task_waiting", title="x")
        session.add(row)
        session.flush()
        return row.id


def _offer(db: Database, park_slug: str, enterprise: str) -> int:
    """A policy of the park offered to ``enterprise``, waiting for its answer."""
    with db.write() as session:
        park = session.scalars(select(Park).where(Park.slug == park_slug)).one()
        found = session.scalars(select(Enterprise).where(
            Enterprise.park_id == park.id, Enterprise.name == enterprise)).one()
        policy = Policy(park_id=park.id, key="isolation", name="x", process_key="api_probe",
                        eligibility="<definitions/>", decision_id="d")
        session.add(policy)
        session.flush()
        offer = PolicyOffer(park_id=park.id, policy_id=policy.id, enterprise_id=found.id)
        session.add(offer)
        session.flush()
        return offer.id


def _saved_filter(client: FlaskClient, headers: dict[str, str]) -> str:
    response = client.post("/api/v1/me/filters", json={"name": "不是你的"}, headers=headers)
    assert response.status_code == 201, response.json
    return str(response.json["id"])


def _phrase(client: FlaskClient, headers: dict[str, str]) -> int:
    response = client.post("/api/v1/me/phrases", json={"text": "不是你的"}, headers=headers)
    assert response.status_code == 201
    return int(response.json["id"])


@pytest.fixture
def other_park(client: FlaskClient, login: Login, parks: Database) -> Target:
    """An application of park ``other`` with a claimed task, and a notification there."""
    view = start(client, login("other.ent"), park=OTHER_PARK)
    task = step(view, "probe_review")
    client.post(f"/api/v1/tasks/{task}/claim", headers=login("other.reviewer"))
    return Target(OTHER_PARK, view["id"], task,
                  _notification(parks, "other.reviewer", OTHER_PARK),
                  _phrase(client, login("other.reviewer")),
                  offer_id=_offer(parks, OTHER_PARK, OTHER_ENTERPRISE),
                  filter_id=_saved_filter(client, login("other.reviewer")))


@pytest.fixture
def other_enterprise(client: FlaskClient, login: Login, parks: Database) -> Target:
    """An application of 蓝海 (not 星河) in the demo park, waiting for its correction."""
    view = start(client, login("lanhai"), "policy_subsidy", data=SUBSIDY_DATA)
    after = client.post(f"/api/v1/tasks/{step(view, 'preliminary_review')}/complete",
                        json={"data": {"outcome": "return", "return_reasons": ["x"]}},
                        headers=login("zhang.wei")).json
    return Target("demo", view["id"], step(after, "correction"),
                  _notification(parks, "lanhai", "demo"), _phrase(client, login("lanhai")),
                  offer_id=_offer(parks, "demo", "蓝海新材料股份有限公司"),
                  filter_id=_saved_filter(client, login("lanhai")))


def test_every_endpoint_is_covered(client: FlaskClient) -> None:
    document = client.get("/api/v1/openapi.json").json
    operations = {(method, path) for path, item in document["paths"].items()
                  for method in item if method in ("get", "post", "put", "patch", "delete")}
    covered = {(method, template) for method, template, _path, _body in
               endpoints(Target("p", "i", "t", 1))}

    assert operations == covered | LISTS | BATCHES | PUBLIC


@pytest.mark.parametrize("username", ["admin", "zhang.wei", "xinghe"])
def test_another_park_is_404_everywhere(client: FlaskClient, login: Login, other_park: Target,
                                        username: str) -> None:
    _all_absent(client, login(username), other_park)
    assert other_park.task_id not in _listed(client, login(username), "/api/v1/tasks")
    assert other_park.notification_id not in _listed(client, login(username),
                                                     "/api/v1/notifications")


@pytest.mark.parametrize("username", ["other.admin", "other.reviewer", "other.ent"])
def test_the_demo_park_is_404_from_the_other(client: FlaskClient, login: Login,
                                             other_enterprise: Target, username: str) -> None:
    _all_absent(client, login(username), other_enterprise)


@pytest.mark.parametrize("username", ["admin", "zhang.wei", "xinghe"])
def test_a_batch_finds_no_task_of_another_park(client: FlaskClient, login: Login,
                                               other_park: Target, username: str) -> None:
    response = client.post("/api/v1/tasks/batch-complete",
                           json={"task_ids": [other_park.task_id]}, headers=login(username))
    assert response.status_code == 200
    assert [r["code"] for r in response.json["results"]] == ["not_found"]


def test_another_enterprise_is_404_everywhere(client: FlaskClient, login: Login,
                                              other_enterprise: Target) -> None:
    headers = login("xinghe")
    for method, template, path, body in endpoints(other_enterprise):
        if template.startswith("/api/v1/parks/"):
            continue  # the park itself is xinghe's; its lists are checked below
        response = getattr(client, method)(path, json=body, headers=headers)
        assert response.status_code == 404, (method, path, response.json)
    assert other_enterprise.instance_id not in _listed(client, headers,
                                                       "/api/v1/parks/demo/instances")
    assert other_enterprise.task_id not in _listed(client, headers, "/api/v1/tasks")


def _all_absent(client: FlaskClient, headers: dict[str, str], target: Target) -> None:
    for method, _template, path, body in endpoints(target):
        response = getattr(client, method)(path, json=body, headers=headers)
        assert response.status_code == 404, (method, path, response.json)
        assert response.json["error"]["code"] == "not_found"


def _listed(client: FlaskClient, headers: dict[str, str], url: str) -> list[Any]:
    response = client.get(f"{url}?limit=500", headers=headers)
    assert response.status_code == 200
    return [item.get("task_id", item.get("id")) for item in response.json]


def test_same_group_name_in_another_park_gives_no_access(client: FlaskClient, login: Login,
                                                         other_park: Target) -> None:
    # zhang.wei is in 政策审核组 of demo; park "other" has a group of the same name
    headers = login("zhang.wei")

    assert client.get(f"/api/v1/tasks/{other_park.task_id}", headers=headers).status_code == 404
    inbox = client.get("/api/v1/tasks", headers=headers).get_data(as_text=True)
    assert other_park.task_id not in inbox
