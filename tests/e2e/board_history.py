"""Eight weeks of the demo park for the board's browser test, written as rows like the stats
tests' fixed history (``tests.webapp.api.stats_history``): policy subsidies through their
five steps, some late, some still open, a third of them rated, and a few tax dockings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from webapp.db import Database
from webapp.models import (
    AuditEvent,
    Enterprise,
    HumanTask,
    Instance,
    Park,
    ProcessDefinition,
    Rating,
)

# element, name, lane, group, days the step takes (before the spread), days allowed
SUBSIDY_STEPS = [
    ("preliminary_review", "初审", "政策审核组", "政策审核组", 2, 3),
    ("correction", "补正材料", "企业", None, 3, 5),
    ("director_review", "复核", "部门负责人", "部门负责人", 1, 2),
    ("leader_review", "领导审定", "园区领导", "园区领导", 3, 2),
    ("disbursement_handover", "拨付确认", "财务部", "财务部", 2, 5),
]
TAX_STEPS = [("tax_review", "税务专员审核", None, "税务服务组", 1, 3)]


def build_board_history(db: Database, now: datetime, applications: int = 40) -> None:
    """Write the history into the demo park, ending at ``now``."""
    with db.write() as session:
        park = session.scalars(select(Park).where(Park.slug == "demo")).one()
        enterprise = session.scalars(
            select(Enterprise.id).where(Enterprise.park_id == park.id)
        ).first()
        latest = {
            key: session.scalars(
                select(ProcessDefinition.id)
                .where(ProcessDefinition.park_id == park.id, ProcessDefinition.key == key)
                .order_by(ProcessDefinition.version.desc())
            ).first()
            for key in ("policy_subsidy", "tax_docking")
        }
        for number in range(applications):
            tax = number % 5 == 4
            steps = TAX_STEPS if tax else SUBSIDY_STEPS
            started = now - timedelta(days=56) + timedelta(hours=number * 31)
            instance = Instance(
                park_id=park.id,
                definition_id=latest["tax_docking" if tax else "policy_subsidy"],
                enterprise_id=enterprise,
                reference=f"BOARD-2026-{number + 1:06d}",
                status="active",
                state=b"{}",
                data_summary={},
                correlations={},
                started_at=started,
                promised_at=started + timedelta(days=15),
                paused_seconds=0,
            )
            session.add(instance)
            session.flush()
            at = started
            for index, (element, name, lane, group, days, allowed) in enumerate(steps):
                if element == "correction" and number % 3:
                    continue  # only every third application came back for a correction
                if element == "leader_review" and number % 2:
                    continue  # the leader sees the larger amounts only
                took = timedelta(days=days + (number * 7 + index * 3) % 4, hours=number % 5)
                done = at + took <= now - timedelta(days=2)
                session.add(
                    HumanTask(
                        id=f"board-task-{number}-{index}",
                        instance_id=instance.id,
                        park_id=park.id,
                        element_id=element,
                        name=name,
                        lane=lane,
                        candidate_groups=[group] if group else [],
                        candidate_users=[],
                        created_at=at,
                        due_at=at + timedelta(days=allowed),
                        completed_at=at + took if done else None,
                        completed_by="zhang.wei" if done else None,
                        status="completed" if done else "open",
                    )
                )
                if not done:
                    break
                at += took
            else:
                instance.status, instance.result, instance.ended_at = "completed", "approved", at
                if number % 3 == 0:
                    grade = 1 + number % 5
                    session.add(
                        Rating(
                            instance_id=instance.id,
                            park_id=park.id,
                            grade=grade,
                            rated_at=at + timedelta(days=1),
                        )
                    )
                    if grade <= 2 and number % 2 == 0:
                        session.add(
                            AuditEvent(
                                park_id=park.id,
                                instance_id=instance.id,
                                at=at + timedelta(days=3),
                                actor="admin",
                                action="rating.rectified",
                                details={"grade": grade},
                            )
                        )


def utc_now() -> datetime:
    return datetime.now(UTC)
