"""The demo park: groups, people, enterprises and the four shipped procedures.

Creating it is idempotent: what exists is kept, what is missing is added, and procedures are
deployed again only when their content changed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from forms import FORMS_DIR, load_forms
from webapp.models import Group, Membership, Park
from webapp.services import accounts, processes
from webapp.services.processes import Deployed

PARK_SLUG = "demo"
PARK_NAME = "示范产业园"
PASSWORD = "parkflow-demo"  # noqa: S105 -- the demo park is for trying Parkflow, printed on purpose
PROCESSES_DIR = Path(os.environ.get("PARKFLOW_PROCESSES_DIR",
                                    Path(__file__).resolve().parent.parent / "processes"))
GROUPS = ("政策审核组", "部门负责人", "园区领导", "财务部", "招商服务部", "税务服务组")


@dataclass(frozen=True)
class DemoUser:
    """One demo login."""

    username: str
    display_name: str
    role: str
    groups: tuple[str, ...] = ()
    enterprise: str | None = None


USERS = (
    DemoUser("admin", "园区管理员", "admin"),
    DemoUser("zhang.wei", "张伟（政策审核）", "reviewer", ("政策审核组",)),
    DemoUser("li.na", "李娜（部门负责人）", "reviewer", ("部门负责人",)),
    DemoUser("wang.qiang", "王强（园区领导）", "reviewer", ("园区领导",)),
    DemoUser("zhao.min", "赵敏（财务）", "reviewer", ("财务部",)),
    DemoUser("chen.jie", "陈杰（招商服务）", "reviewer", ("招商服务部",)),
    DemoUser("liu.yang", "刘洋（税务服务）", "reviewer", ("税务服务组",)),
    DemoUser("xinghe", "星河科技 经办人", "enterprise", enterprise="星河科技有限公司"),
    DemoUser("lanhai", "蓝海新材料 经办人", "enterprise", enterprise="蓝海新材料股份有限公司"),
)


def create_demo(session: Session, *, actor: str | None) -> list[Deployed]:
    """Create or complete the demo park; returns the deployed procedures."""
    park = session.scalars(select(Park).where(Park.slug == PARK_SLUG)).one_or_none()
    if park is None:
        park = accounts.create_park(session, actor=actor, slug=PARK_SLUG, name=PARK_NAME)
    existing = set(session.scalars(select(Group.name).where(Group.park_id == park.id)))
    for name in GROUPS:
        if name not in existing:
            accounts.create_group(session, actor=actor, park_slug=PARK_SLUG, name=name)
    for user in USERS:
        _ensure_user(session, park, user, actor)
    bpmn, dmn = _sources()
    return processes.deploy(session, park=park, actor=actor, bpmn=bpmn, dmn=dmn,
                            forms=load_forms(FORMS_DIR))


def _ensure_user(session: Session, park: Park, user: DemoUser, actor: str | None) -> None:
    found = accounts.find_user(session, user.username)
    if found is not None and session.get(Membership, (found.id, park.id)) is not None:
        return
    accounts.create_user(session, actor=actor, username=user.username, password=PASSWORD,
                         park_slug=PARK_SLUG, role=user.role, groups=user.groups,
                         enterprise=user.enterprise, display_name=user.display_name)


def _sources() -> tuple[dict[str, bytes], dict[str, bytes]]:
    bpmn = {p.name: p.read_bytes() for p in sorted(PROCESSES_DIR.glob("*.bpmn"))}
    dmn = {p.name: p.read_bytes() for p in sorted(PROCESSES_DIR.glob("*.dmn"))}
    return bpmn, dmn
