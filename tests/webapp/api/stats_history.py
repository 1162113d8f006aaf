"""A small fixed history of the demo park for the supervision figures and exports.

Shanghai times in March 2026 (Monday 2 March is a working day, and so is every weekday of the
month); "now" is Monday 16 March, 09:00. The expectations in the tests are counted by hand
from this table (working days: from the day of receipt up to the day of the end, that day not
counted; received on or after 17:30 or on a weekend: the next working day).

====  ===========  ================  ================  ================  ======  =========
app   procedure    submitted         ended             promised          paused  result
====  ===========  ================  ================  ================  ======  =========
A1    api_probe    Mon 2 09:00       Thu 5 11:00       Thu 5 17:30       0       approved
A2    api_probe    Mon 2 18:00       Mon 9 10:00       Fri 6 17:30       0       approved
A3    api_probe    Sat 7 10:00       Fri 13 15:00      Sat 14 17:30      2 days  rejected
A4    api_probe    Tue 3 09:00       Tue 3 10:00       Fri 6 17:30       0       withdrawn
A5    api_probe    Tue 3 09:00       (open)            Fri 6 17:30       0
A6    api_probe    Mon 16 08:00      (open)            Thu 19 17:30      0
A7    policy_sub.  Wed 4 10:00       Wed 4 16:00       (none)            0       approved
A8    api_probe    Fri 20 Feb 10:00  Mon 23 Feb 10:00  Tue 24 Feb 17:30  0       approved
====  ===========  ================  ================  ================  ======  =========

A1 took 3 working days (promise 3), A2 4 (promise 3, from Tuesday), A3 2 (Monday to the
Wednesday it would have ended without the pause; promise 3), A7 0.

Tasks (the review of api_probe waits for 政策审核组; the applicant's 补正 is in the 企业 lane;
A7's 初审 is in the 部门负责人 lane):

==  ====  ================  ===============  ===============  ================
T   app   step              created          due              completed
==  ====  ================  ===============  ===============  ================
T1  A1    probe_review      Mon 2 09:00      Wed 4 09:00      Tue 3 10:00
T2  A2    probe_review      Mon 2 18:00      Wed 4 18:00      Mon 9 10:00 (late)
T3  A3    probe_review      Sat 7 10:00      Mon 9 10:00      Mon 9 16:00 (late)
T3b A3    fix_up (企业)     Tue 10 09:00     (none)           Thu 12 09:00
T5  A5    probe_review      Tue 3 09:00      Thu 5 09:00      (open, overdue)
T6  A6    probe_review      Mon 16 08:00     Wed 18 08:00     (open)
T7  A7    preliminary_rev.  Wed 4 10:00      Thu 5 10:00      Wed 4 15:00
T8  A8    probe_review      Fri 20 Feb 10:00 (none)           Mon 23 Feb 10:00
==  ====  ================  ===============  ===============  ================

Ratings: A1 5, A2 1 (rectified), A3 2, A7 4, A8 3.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

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

SHANGHAI = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 3, 16, 9, 0, tzinfo=SHANGHAI)
REVIEW_GROUP = ["政策审核组"]
ENTERPRISE = "星河科技有限公司"


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """A Shanghai time in 2026."""
    return datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


APPLICATIONS = {
    # name: (procedure, submitted, ended, promised, paused seconds, status, result)
    "A1": ("api_probe", at(3, 2, 9), at(3, 5, 11), at(3, 5, 17, 30), 0, "completed", "approved"),
    "A2": ("api_probe", at(3, 2, 18), at(3, 9, 10), at(3, 6, 17, 30), 0, "completed", "approved"),
    "A3": (
        "api_probe",
        at(3, 7, 10),
        at(3, 13, 15),
        at(3, 14, 17, 30),
        2 * 86400,
        "completed",
        "rejected",
    ),
    "A4": ("api_probe", at(3, 3, 9), at(3, 3, 10), at(3, 6, 17, 30), 0, "completed", "withdrawn"),
    "A5": ("api_probe", at(3, 3, 9), None, at(3, 6, 17, 30), 0, "active", None),
    "A6": ("api_probe", at(3, 16, 8), None, at(3, 19, 17, 30), 0, "active", None),
    "A7": ("policy_subsidy", at(3, 4, 10), at(3, 4, 16), None, 0, "completed", "approved"),
    "A8": (
        "api_probe",
        at(2, 20, 10),
        at(2, 23, 10),
        at(2, 24, 17, 30),
        0,
        "completed",
        "approved",
    ),
}
TASKS = [
    # (app, element, name, lane, groups, created, due, completed, completed_by)
    (
        "A1",
        "probe_review",
        "Review",
        None,
        REVIEW_GROUP,
        at(3, 2, 9),
        at(3, 4, 9),
        at(3, 3, 10),
        "zhang.wei",
    ),
    (
        "A2",
        "probe_review",
        "Review",
        None,
        REVIEW_GROUP,
        at(3, 2, 18),
        at(3, 4, 18),
        at(3, 9, 10),
        "zhang.wei",
    ),
    (
        "A3",
        "probe_review",
        "Review",
        None,
        REVIEW_GROUP,
        at(3, 7, 10),
        at(3, 9, 10),
        at(3, 9, 16),
        "zhang.wei",
    ),
    ("A3", "fix_up", "补正", "企业", [], at(3, 10, 9), None, at(3, 12, 9), "xinghe"),
    ("A5", "probe_review", "Review", None, REVIEW_GROUP, at(3, 3, 9), at(3, 5, 9), None, None),
    ("A6", "probe_review", "Review", None, REVIEW_GROUP, at(3, 16, 8), at(3, 18, 8), None, None),
    (
        "A7",
        "preliminary_review",
        "初审",
        "部门负责人",
        ["部门负责人"],
        at(3, 4, 10),
        at(3, 5, 10),
        at(3, 4, 15),
        "li.na",
    ),
    (
        "A8",
        "probe_review",
        "Review",
        None,
        REVIEW_GROUP,
        at(2, 20, 10),
        None,
        at(2, 23, 10),
        "zhang.wei",
    ),
]
RATINGS = {"A1": 5, "A2": 1, "A3": 2, "A7": 4, "A8": 3}
RECTIFIED = ("A2",)


def build_history(db: Database, park_slug: str = "demo") -> dict[str, str]:
    """Write the history into the park; returns the instance ids by name (A1…A8)."""
    ids: dict[str, str] = {}
    with db.write() as session:
        park = session.scalars(select(Park).where(Park.slug == park_slug)).one()
        definitions = {
            key: session.scalars(
                select(ProcessDefinition.id)
                .where(ProcessDefinition.park_id == park.id, ProcessDefinition.key == key)
                .order_by(ProcessDefinition.version.desc())
            ).first()
            for key in ("api_probe", "policy_subsidy")
        }
        enterprise_id = session.scalars(
            select(Enterprise.id).where(
                Enterprise.park_id == park.id, Enterprise.name == ENTERPRISE
            )
        ).one()
        for number, (name, row) in enumerate(APPLICATIONS.items(), 1):
            key, started, ended, promised, paused, status, result = row
            instance = Instance(
                park_id=park.id,
                definition_id=definitions[key],
                enterprise_id=enterprise_id,
                reference=f"HIST-2026-{number:06d}",
                status=status,
                result=result,
                state=b"{}",
                data_summary={},
                correlations={},
                started_at=started,
                ended_at=ended,
                promised_at=promised,
                paused_seconds=paused,
            )
            session.add(instance)
            session.flush()
            ids[name] = instance.id
        for number, row in enumerate(TASKS):
            app, element, name, lane, groups, created, due, completed, by = row
            session.add(
                HumanTask(
                    id=f"hist-task-{number}",
                    instance_id=ids[app],
                    park_id=park.id,
                    element_id=element,
                    name=name,
                    lane=lane,
                    candidate_groups=groups,
                    candidate_users=[],
                    created_at=created,
                    due_at=due,
                    completed_at=completed,
                    completed_by=by,
                    status="completed" if completed else "open",
                    received_at=APPLICATIONS[app][1],
                )
            )
        for app, grade in RATINGS.items():
            session.add(
                Rating(
                    instance_id=ids[app],
                    park_id=park.id,
                    grade=grade,
                    rated_at=APPLICATIONS[app][2],
                )
            )
        for app in RECTIFIED:
            session.add(
                AuditEvent(
                    park_id=park.id,
                    instance_id=ids[app],
                    at=at(3, 12, 10),
                    actor="admin",
                    action="rating.rectified",
                    details={"grade": RATINGS[app]},
                )
            )
    return ids
