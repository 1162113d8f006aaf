"""The enterprise's grade of a finished application (好差评): five grades and a comment, once."""

from __future__ import annotations

from sqlalchemy.orm import Session

from webapp.db import Database, lock_instance, utcnow
from webapp.models import Membership, Rating
from webapp.services import audit
from webapp.services.accounts import find_user
from webapp.services.errors import AlreadyExists, Conflict, Forbidden, Invalid, NotFound

# grade -> its name in the national 好差评 scheme, best first
GRADES = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}
MAX_COMMENT = 1000


def rate_application(db: Database, *, instance_id: str, grade: int, comment: str,
                     actor: str) -> Rating:
    """Record the applying enterprise's grade of its completed application."""
    if grade not in GRADES:
        raise Invalid("choose one of the five grades", details={"grade": ["is not a grade"]})
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise Invalid(f"the comment is longer than {MAX_COMMENT} characters",
                      details={"comment": [f"is longer than {MAX_COMMENT} characters"]})
    with db.write() as session:
        instance = lock_instance(session, instance_id)
        user = find_user(session, actor)
        if user is None or not user.is_active:
            raise NotFound(f"user {actor!r}")
        membership = session.get(Membership, (user.id, instance.park_id))
        if (membership is None or membership.role != "enterprise"
                or membership.enterprise_id != instance.enterprise_id):
            raise Forbidden("only the applying enterprise rates its application")
        if instance.status != "completed":
            raise Conflict(f"application {instance.reference} is not completed yet")
        if session.get(Rating, instance.id) is not None:
            raise AlreadyExists(f"a rating of application {instance.reference}")
        rating = Rating(instance_id=instance.id, park_id=instance.park_id, grade=grade,
                        comment=comment or None, rated_by=user.id, rated_at=utcnow())
        session.add(rating)
        audit.record(session, park_id=instance.park_id, actor=actor, action="application.rated",
                     instance_id=instance.id,
                     details={"grade": grade, "grade_name": GRADES[grade],
                              "comment": comment})
        return rating


def rating_of(session: Session, instance_id: str) -> Rating | None:
    """The application's rating, if it has one."""
    return session.get(Rating, instance_id)
