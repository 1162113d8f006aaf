"""Many open tasks at once, written straight into the tables (for the inbox and its bench)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import insert, select

from webapp.db import Database, new_id
from webapp.models import Enterprise, HumanTask, Instance
from webapp.services.accounts import get_park
from webapp.services.processes import get_latest

REFERENCE = "SYN-2026-{:06d}"


def add_open_tasks(db: Database, count: int, *, park_slug: str = "demo",
                   group: str = "政策审核组", now: datetime | None = None) -> list[str]:
    """``count`` subsidy applications, each with an open 初审 for ``group``; the task ids.

    Task ``i`` is due ``i - count // 10`` hours and a half from ``now`` (so a tenth is
    overdue) and its follow-up date is a day before that; references run SYN-2026-000000
    upwards.
    """
    now = now or datetime.now(UTC)
    with db.write() as session:
        park = get_park(session, park_slug)
        definition = get_latest(session, park, "policy_subsidy")
        enterprise_id = session.scalars(select(Enterprise.id).where(
            Enterprise.park_id == park.id).order_by(Enterprise.name)).first()
        instances = []
        tasks = []
        for i in range(count):
            instance_id = new_id()
            due = now + timedelta(hours=i - count // 10, minutes=30)
            instances.append({
                "id": instance_id, "park_id": park.id, "definition_id": definition.id,
                "enterprise_id": enterprise_id, "reference": REFERENCE.format(i),
                "status": "active", "state": b"", "data_summary": {}, "correlations": {},
                "version": 1, "started_at": now - timedelta(days=1), "paused_seconds": 0})
            tasks.append({
                "id": new_id(), "instance_id": instance_id, "park_id": park.id,
                "element_id": "preliminary_review", "name": "初审", "lane": group,
                "candidate_groups": [group], "candidate_users": [], "assignee": None,
                "form_key": "policy_subsidy_review", "priority": 50,
                "created_at": now - timedelta(days=1, seconds=i), "due_at": due,
                "follow_up_at": due - timedelta(days=1), "status": "open"})
        session.execute(insert(Instance), instances)
        session.execute(insert(HumanTask), tasks)
    return [task["id"] for task in tasks]
