"""Users, groups and enterprises of the park, changed by its administrator and audited."""

from __future__ import annotations

import html as markup
import re
from collections.abc import Callable

from sqlalchemy import select

from tests.webapp.admin.helpers import audits
from tests.webapp.apptools import PASSWORD, Browser, text_of
from webapp.db import Database
from webapp.models import Enterprise, Group, Membership, Park, User

OpenBrowser = Callable[..., Browser]
NEW_PASSWORD = "a-new-secret-1"


def ids(db: Database) -> dict[str, str]:
    """Ids of the demo park's users, groups and enterprises, by name."""
    with db.read() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        found = {u.username: u.id for u in session.scalars(select(User))}
        found.update({g.name: g.id for g in session.scalars(
            select(Group).where(Group.park_id == park.id))})
        found.update({e.name: e.id for e in session.scalars(
            select(Enterprise).where(Enterprise.park_id == park.id))})
        return found


def membership(db: Database, username: str, park: str = "demo") -> tuple[str, str | None,
                                                                         list[str]]:
    """A user's role, enterprise name and group names in a park."""
    with db.read() as session:
        user = session.scalars(select(User).where(User.username == username)).one()
        park_row = session.scalars(select(Park).where(Park.slug == park)).one()
        found = session.get_one(Membership, (user.id, park_row.id))
        groups = sorted(g.name for g in user.groups if g.park_id == park_row.id)
        return found.role, found.enterprise.name if found.enterprise else None, groups


def field_error(html: str, name: str) -> str:
    found = re.search(rf'<div class="field-error" id="e-{name}">(.*?)</div>', html, re.S)
    assert found is not None, f"no message beside {name}"
    return markup.unescape(" ".join(re.sub(r"<[^>]+>", " ", found.group(1)).split()))


def can_sign_in(browser: OpenBrowser, username: str, password: str) -> bool:
    visitor = browser(None)
    page = visitor.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', text_of(page)).group(1)
    answer = visitor.client.post("/login", data={"username": username, "password": password,
                                                 "csrf_token": token})
    return answer.status_code == 302


def test_the_user_list_shows_roles_groups_and_enterprises(admin: Browser) -> None:
    html = text_of(admin.get("/admin/users"))
    row = re.search(r'<tr data-username="zhang.wei">(.*?)</tr>', html, re.S).group(1)
    assert "政策审核组" in row
    row = re.search(r'<tr data-username="xinghe">(.*?)</tr>', html, re.S).group(1)
    assert "星河科技有限公司" in row
    assert "other.reviewer" not in html


def test_a_reviewer_is_created_with_groups(parks: Database, admin: Browser,
                                           browser: OpenBrowser) -> None:
    found = ids(parks)
    answer = admin.post("/admin/users", {
        "username": "sun.li", "display_name": "孙丽", "email": "sun.li@park.example",
        "password": PASSWORD, "role": "reviewer",
        "groups": [found["政策审核组"], found["财务部"]]})
    assert answer.status_code == 302
    assert membership(parks, "sun.li") == ("reviewer", None, ["政策审核组", "财务部"])
    assert can_sign_in(browser, "sun.li", PASSWORD)
    assert [e.actor for e in audits(parks, "user.created")][-1] == "admin"


def test_an_enterprise_user_is_created_for_an_enterprise(parks: Database, admin: Browser) -> None:
    answer = admin.post("/admin/users", {"username": "xinghe2", "password": PASSWORD,
                                         "role": "enterprise",
                                         "enterprise": ids(parks)["星河科技有限公司"]})
    assert answer.status_code == 302
    assert membership(parks, "xinghe2") == ("enterprise", "星河科技有限公司", [])


def test_bad_user_input_is_shown_beside_its_field(parks: Database, admin: Browser) -> None:
    other_enterprise = _other_park_enterprise(parks)
    cases = [
        ({"username": "", "password": PASSWORD, "role": "reviewer"}, "username"),
        ({"username": "a b", "password": PASSWORD, "role": "reviewer"}, "username"),
        # taken here, and taken in the other park: both refused, neither is attached
        ({"username": "zhang.wei", "password": PASSWORD, "role": "reviewer"}, "username"),
        ({"username": "other.reviewer", "password": PASSWORD, "role": "reviewer"}, "username"),
        ({"username": "newbie", "password": "short", "role": "reviewer"}, "password"),
        ({"username": "newbie", "password": PASSWORD, "role": "king"}, "role"),
        ({"username": "newbie", "password": PASSWORD, "role": "enterprise"}, "enterprise"),
        ({"username": "newbie", "password": PASSWORD, "role": "enterprise",
          "enterprise": other_enterprise}, "enterprise"),
        ({"username": "newbie", "password": PASSWORD, "role": "reviewer",
          "groups": ["not-a-group"]}, "groups"),
        ({"username": "newbie", "password": PASSWORD, "role": "reviewer",
          "email": "nowhere"}, "email"),
    ]
    for data, field in cases:
        answer = admin.post("/admin/users", data)
        assert answer.status_code == 422, data
        assert field_error(text_of(answer), field), data
    with parks.read() as session:
        assert session.scalars(select(User).where(User.username == "newbie")).first() is None
    assert membership(parks, "other.reviewer", "other")[0] == "reviewer"
    with parks.read() as session:
        other = session.scalars(select(User).where(User.username == "other.reviewer")).one()
        assert len(other.memberships) == 1


def test_a_role_is_changed_and_audited(parks: Database, admin: Browser) -> None:
    found = ids(parks)
    answer = admin.post(f"/admin/users/{found['li.na']}/role", {"role": "admin"})
    assert answer.status_code == 302
    assert membership(parks, "li.na")[0] == "admin"
    event = audits(parks, "membership.changed")[-1]
    assert event.before == {"role": "reviewer", "enterprise_id": None}
    assert event.after == {"role": "admin", "enterprise_id": None}
    to_enterprise = admin.post(f"/admin/users/{found['li.na']}/role",
                               {"role": "enterprise", "enterprise": found["星河科技有限公司"]})
    assert to_enterprise.status_code == 302
    assert membership(parks, "li.na")[:2] == ("enterprise", "星河科技有限公司")
    missing = admin.post(f"/admin/users/{found['li.na']}/role", {"role": "enterprise"})
    assert missing.status_code == 422 and field_error(text_of(missing), "enterprise")


def test_the_admin_cannot_remove_their_own_admin_role(parks: Database, admin: Browser) -> None:
    answer = admin.post(f"/admin/users/{ids(parks)['admin']}/role", {"role": "reviewer"})
    assert answer.status_code == 422 and field_error(text_of(answer), "role")
    assert membership(parks, "admin")[0] == "admin"


def test_groups_are_set_in_this_park_only(parks: Database, admin: Browser) -> None:
    found = ids(parks)
    answer = admin.post(f"/admin/users/{found['zhang.wei']}/groups",
                        {"groups": [found["园区领导"], found["财务部"]]})
    assert answer.status_code == 302
    assert membership(parks, "zhang.wei")[2] == ["园区领导", "财务部"]
    assert membership(parks, "zhang.wei", "other")[2] == ["政策审核组"]  # untouched
    event = audits(parks, "user.groups_set")[-1]
    assert event.before == {"groups": ["政策审核组"]}
    admin.post(f"/admin/users/{found['zhang.wei']}/groups", {})
    assert membership(parks, "zhang.wei")[2] == []
    html = text_of(admin.get(f"/admin/users/{found['zhang.wei']}"))
    assert 'name="groups"' in html and "checked" not in re.search(
        r'<fieldset id="f-groups".*?</fieldset>', html, re.S).group(0)


def test_a_password_is_reset_and_the_old_one_stops_working(
        parks: Database, admin: Browser, browser: OpenBrowser) -> None:
    found = ids(parks)
    answer = admin.post(f"/admin/users/{found['li.na']}/password", {"password": NEW_PASSWORD})
    assert answer.status_code == 302
    assert can_sign_in(browser, "li.na", NEW_PASSWORD)
    assert not can_sign_in(browser, "li.na", PASSWORD)
    [event] = audits(parks, "user.password_reset")
    assert event.details == {"username": "li.na"} and NEW_PASSWORD not in str(event.after)
    short = admin.post(f"/admin/users/{found['li.na']}/password", {"password": "1234"})
    assert short.status_code == 422 and field_error(text_of(short), "password")


def test_a_password_of_someone_in_another_park_is_not_reset(
        parks: Database, admin: Browser, browser: OpenBrowser) -> None:
    answer = admin.post(f"/admin/users/{ids(parks)['zhang.wei']}/password",
                        {"password": NEW_PASSWORD})
    assert answer.status_code == 403
    assert can_sign_in(browser, "zhang.wei", PASSWORD)


def test_groups_are_created_and_list_their_members(parks: Database, admin: Browser) -> None:
    answer = admin.post("/admin/groups", {"name": "安全生产组"})
    assert answer.status_code == 302
    html = text_of(admin.get("/admin/groups"))
    assert 'data-group="安全生产组"' in html
    row = re.search(r'<tr data-group="政策审核组">(.*?)</tr>', html, re.S).group(1)
    assert "张伟（政策审核）" in row
    members = text_of(admin.get(f"/admin/groups/{ids(parks)['政策审核组']}"))
    assert "zhang.wei" in members and "li.na" not in members
    for name in ("安全生产组", "", "x" * 101):
        refused = admin.post("/admin/groups", {"name": name})
        assert refused.status_code == 422 and field_error(text_of(refused), "name"), name
    assert [e.details for e in audits(parks, "group.created")][-1] == {"name": "安全生产组"}


def test_enterprises_are_registered_and_renamed(parks: Database, admin: Browser) -> None:
    answer = admin.post("/admin/enterprises", {"name": "云杉生物科技有限公司",
                                               "credit_code": "91320594ma1w2x3y4k"})
    assert answer.status_code == 302
    company = ids(parks)["云杉生物科技有限公司"]
    with parks.read() as session:
        assert session.get_one(Enterprise, company).credit_code == "91320594MA1W2X3Y4K"
    renamed = admin.post(f"/admin/enterprises/{company}", {"name": "云杉生物医药有限公司",
                                                           "credit_code": ""})
    assert renamed.status_code == 302
    event = audits(parks, "enterprise.renamed")[-1]
    assert event.before == {"name": "云杉生物科技有限公司", "credit_code": "91320594MA1W2X3Y4K"}
    assert event.after == {"name": "云杉生物医药有限公司", "credit_code": None}
    html = text_of(admin.get("/admin/enterprises"))
    row = re.search(r'<tr data-enterprise="星河科技有限公司">(.*?)</tr>', html, re.S).group(1)
    assert re.search(r"<td>1</td>\s*<td>0</td>", row)  # one user, no application yet


def test_bad_enterprise_input_is_shown_beside_its_field(parks: Database, admin: Browser) -> None:
    for data, field in (({"name": "星河科技有限公司"}, "name"), ({"name": " "}, "name"),
                        ({"name": "新公司", "credit_code": "12345"}, "credit_code")):
        answer = admin.post("/admin/enterprises", data)
        assert answer.status_code == 422 and field_error(text_of(answer), field), data
    company = ids(parks)["星河科技有限公司"]
    clash = admin.post(f"/admin/enterprises/{company}", {"name": "蓝海新材料股份有限公司"})
    assert clash.status_code == 422 and field_error(text_of(clash), "name")
    assert admin.post("/admin/enterprises/no-such-id", {"name": "x"}).status_code == 404


def _other_park_enterprise(db: Database) -> str:
    with db.read() as session:
        park = session.scalars(select(Park).where(Park.slug == "other")).one()
        return session.scalars(select(Enterprise.id).where(Enterprise.park_id == park.id)).one()
