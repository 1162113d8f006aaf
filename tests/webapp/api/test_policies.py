"""免申即享: a policy's eligibility table finds exactly the enterprises it describes, each gets
a notice and a prefilled application it only confirms; profiles and policies that change
offer and withdraw; bad input is refused with the reason."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.conftest import Seed
from tests.webapp.api.conftest import DATA, Login
from tests.webapp.api.helpers import error_code
from tests.webapp.api.test_decisions import build_two_step_parks
from tests.webapp.apptools import PASSWORD
from webapp import demo
from webapp.db import Database
from webapp.models import Enterprise, Instance
from webapp.services import accounts

PARK = demo.PARK_SLUG
TABLE = (DATA / "rd_award_eligibility.dmn").read_text()
XINGHE, LANHAI, HONGXIN = "星河科技有限公司", "蓝海新材料股份有限公司", "宏信电子有限公司"


def build_policy_parks(db: Database) -> None:
    """The two-step award procedure's parks, with a third enterprise in the demo park."""
    build_two_step_parks(db)
    with db.write() as session:
        accounts.create_user(session, actor="test", username="hongxin", password=PASSWORD,
                             park_slug=PARK, role="enterprise", enterprise=HONGXIN)


POLICY_PARKS = Seed("policy_parks", build_policy_parks)


@pytest.fixture
def seed(seed: Seed | None, request: pytest.FixtureRequest) -> Seed | None:
    return POLICY_PARKS if "parks" in request.fixturenames else seed


@pytest.fixture
def parks(db: Database) -> Database:
    return db


def enterprise_ids(db: Database) -> dict[str, str]:
    with db.read() as session:
        return {e.name: e.id for e in session.query(Enterprise).all()}


def profile(client: FlaskClient, headers: dict[str, str], enterprise_id: str,
            **facts: Any) -> Any:
    return client.put(f"/api/v1/parks/{PARK}/enterprises/{enterprise_id}/profile",
                      json={"tags": ["研发"], "facts": facts}, headers=headers)


def policy(client: FlaskClient, headers: dict[str, str], key: str = "rd-award",
           **changes: Any) -> Any:
    body = {"name": "研发投入奖励", "description": "研发投入达标企业免申即享。",
            "process_key": "two_step", "eligibility": TABLE, **changes}
    return client.put(f"/api/v1/parks/{PARK}/policies/{key}", json=body, headers=headers)


def reasons(response: Any) -> dict[str, list[str]]:
    """The refusal's messages by field."""
    found: dict[str, list[str]] = {}
    for item in response.json["error"]["details"] or []:
        found.setdefault(item["field"], []).append(item["message"])
    return found


def offers(client: FlaskClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    found = client.get(f"/api/v1/me/offers?park={PARK}", headers=headers)
    assert found.status_code == 200, found.json
    return list(found.json)


def test_a_policy_finds_exactly_the_matching_enterprises_who_confirm_a_prefilled_application(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    ids = enterprise_ids(parks)
    admin = login("admin")
    assert profile(client, admin, ids[XINGHE], rd_spend=600,
                   certifications=["高新技术企业"]).status_code == 200
    assert profile(client, admin, ids[LANHAI], rd_spend=30, certifications=[]).status_code == 200
    assert profile(client, admin, ids[HONGXIN], rd_spend=150,
                   certifications=[]).status_code == 200

    made = policy(client, admin)
    assert made.status_code == 200, made.json
    assert made.json["offers"] == {"offered": 2, "refreshed": 0, "withdrawn": 0}
    matches = client.get(f"/api/v1/parks/{PARK}/policies/rd-award", headers=admin).json["matches"]
    assert {(m["enterprise"], m["status"]) for m in matches} == {
        (XINGHE, "offered"), (HONGXIN, "offered")}

    assert offers(client, login("lanhai")) == []
    [mine] = offers(client, login("xinghe"))
    assert (mine["policy"], mine["status"], mine["prefilled"]) == (
        "rd-award", "offered", {"amount": 200000})
    assert [o["prefilled"] for o in offers(client, login("hongxin"))] == [{"amount": 50000}]
    notices = client.get("/api/v1/notifications", headers=login("xinghe")).json
    assert any("研发投入奖励" in n["title"] for n in notices)

    confirmed = client.post(f"/api/v1/offers/{mine['id']}/confirm", headers=login("xinghe"))
    assert confirmed.status_code == 201, confirmed.json
    instance_id = confirmed.json["instance_id"]
    view = client.get(f"/api/v1/instances/{instance_id}", headers=login("xinghe")).json
    assert view["enterprise"]["name"] == XINGHE
    with parks.read() as session:
        started = session.get_one(Instance, instance_id).data_summary
    assert (started["amount"], started["company_name"]) == (200000, XINGHE)
    assert [s["element_id"] for s in view["current_steps"]] == ["first_review"]

    again = client.post(f"/api/v1/offers/{mine['id']}/confirm", headers=login("xinghe"))
    assert (again.status_code, error_code(again)) == (409, "conflict")
    [answered] = offers(client, login("xinghe"))
    assert (answered["status"], answered["instance_id"]) == ("confirmed", instance_id)
    trail = client.get(f"/api/v1/instances/{instance_id}/audit", headers=admin).json
    actions = [event["action"] for event in trail]
    assert "policy.confirmed" in actions and "application.started" in actions


def test_changing_profiles_and_policies_offers_and_withdraws(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    ids = enterprise_ids(parks)
    admin, lanhai = login("admin"), login("lanhai")
    assert policy(client, admin).json["offers"]["offered"] == 0  # nobody has a profile yet

    # the enterprise keeps its own profile: what it says now finds it
    grown = profile(client, lanhai, ids[LANHAI], rd_spend=150, certifications=[])
    assert grown.status_code == 200, grown.json
    assert grown.json["offers"] == {"offered": 1, "refreshed": 0, "withdrawn": 0}
    assert [o["prefilled"] for o in offers(client, lanhai)] == [{"amount": 50000}]

    shrunk = profile(client, lanhai, ids[LANHAI], rd_spend=10, certifications=[])
    assert shrunk.json["offers"] == {"offered": 0, "refreshed": 0, "withdrawn": 1}
    assert offers(client, lanhai) == []

    # a stricter policy withdraws what it no longer covers; a looser one offers again
    profile(client, lanhai, ids[LANHAI], rd_spend=150, certifications=[])
    stricter = TABLE.replace("&gt;= 100", "&gt;= 1000")
    assert policy(client, admin, eligibility=stricter).json["offers"]["withdrawn"] == 1
    assert policy(client, admin).json["offers"]["offered"] == 1

    # declined stays declined, whatever changes afterwards
    [offer] = offers(client, lanhai)
    assert client.post(f"/api/v1/offers/{offer['id']}/decline", headers=lanhai).status_code == 204
    assert policy(client, admin, description="第二版").json["offers"] == {
        "offered": 0, "refreshed": 0, "withdrawn": 0}
    later = client.post(f"/api/v1/offers/{offer['id']}/confirm", headers=lanhai)
    assert later.status_code == 409
    # an inactive policy withdraws nothing answered and offers nothing
    assert policy(client, admin, active=False).json["offers"]["offered"] == 0


def test_bad_policies_and_profiles_are_refused_with_the_reason(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    ids = enterprise_ids(parks)
    admin = login("admin")
    broken = policy(client, admin, eligibility="<definitions>")
    assert broken.status_code == 422
    assert "eligibility" in reasons(broken)
    no_output = policy(client, admin, eligibility=TABLE.replace('name="eligible"', 'name="ok"'))
    assert no_output.status_code == 422
    assert "no output named 'eligible'" in " ".join(reasons(no_output)["eligibility"])
    collect = policy(client, admin, eligibility=TABLE.replace('"FIRST"', '"COLLECT"'))
    assert "several results" in " ".join(reasons(collect)["eligibility"])
    unknown = policy(client, admin, process_key="no_such_procedure")
    assert (unknown.status_code, reasons(unknown)) == (
        422, {"process_key": ["is no procedure of the park"]})
    bad_prefill = policy(client, admin, prefill={"no_field": "rd_spend"})
    assert bad_prefill.status_code == 422
    assert policy(client, admin, key="Bad Key!").status_code == 422
    assert policy(client, login("zhang.wei")).status_code == 403
    assert policy(client, login("xinghe")).status_code == 403

    bad_fact = profile(client, admin, ids[XINGHE], **{"rd spend": 1})
    assert bad_fact.status_code == 422
    assert profile(client, admin, ids[XINGHE], size="huge").status_code == 422
    assert profile(client, admin, ids[XINGHE], rd_spend=float("1e300")).status_code == 422
    others = profile(client, login("lanhai"), ids[XINGHE], rd_spend=1)
    assert others.status_code == 404  # another enterprise's profile is not there for it
    assert profile(client, login("zhang.wei"), ids[XINGHE], rd_spend=1).status_code == 403
    peek = client.get(f"/api/v1/parks/{PARK}/enterprises/{ids[XINGHE]}/profile",
                      headers=login("lanhai"))
    assert peek.status_code == 404

    # another park sees nothing of this one's policies
    assert policy(client, admin).status_code == 200
    assert client.get(f"/api/v1/parks/{PARK}/policies/rd-award",
                      headers=login("other.admin")).status_code == 404
    profile(client, admin, ids[XINGHE], rd_spend=600, certifications=["高新技术企业"])
    [offer] = offers(client, login("xinghe"))
    stranger = client.post(f"/api/v1/offers/{offer['id']}/confirm", headers=login("lanhai"))
    assert stranger.status_code == 404
    staff = client.post(f"/api/v1/offers/{offer['id']}/confirm", headers=login("zhang.wei"))
    assert staff.status_code == 403
    assert client.post("/api/v1/offers/999999/confirm",
                       headers=login("xinghe")).status_code == 404
    assert client.post(f"/api/v1/offers/{2**70}/decline",
                       headers=login("xinghe")).status_code == 404


def test_an_application_the_profile_cannot_fill_hands_the_offer_back(
    client: FlaskClient, login: Login, parks: Database
) -> None:
    ids = enterprise_ids(parks)
    admin = login("admin")
    # the table gives no amount: the form's required amount is missing, the confirmation fails
    no_amount = TABLE.replace('<output id="out_amount" name="amount" typeRef="number" />', "")
    for rule in ("r1", "r2", "r3"):
        no_amount = no_amount.replace(
            f'<outputEntry id="{rule}_amount"><text>'
            + {"r1": "200000", "r2": "50000", "r3": "0"}[rule] + "</text></outputEntry>", "")
    assert policy(client, admin, eligibility=no_amount).status_code == 200
    profile(client, admin, ids[HONGXIN], rd_spend=150, certifications=[])
    [offer] = offers(client, login("hongxin"))
    refused = client.post(f"/api/v1/offers/{offer['id']}/confirm", headers=login("hongxin"))
    assert refused.status_code == 422, refused.json
    # nothing was lost: the offer still waits, to be applied for through the form
    assert [o["status"] for o in offers(client, login("hongxin"))] == ["offered"]
