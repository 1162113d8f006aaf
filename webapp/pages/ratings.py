"""The 好差评 rating of a finished application: the five grades in the user's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext
from sqlalchemy.orm import Session

from webapp.models import Instance
from webapp.pages.access import Here
from webapp.services.ratings import rating_of, rectification_of

# best first, as the national 好差评 scheme lists them
GRADE_LABELS = {
    5: lazy_gettext("Very satisfied"),
    4: lazy_gettext("Satisfied"),
    3: lazy_gettext("Basically satisfied"),
    2: lazy_gettext("Dissatisfied"),
    1: lazy_gettext("Very dissatisfied"),
}
# the online dimensions of 好差评 (webapp.services.ratings.DIMENSIONS)
DIMENSION_LABELS = {
    "efficiency": lazy_gettext("Efficiency"),
    "convenience": lazy_gettext("Convenience"),
    "attitude": lazy_gettext("Service attitude"),
    "standards": lazy_gettext("Conformity to the rules"),
}
# how a rectification stands, in the user's language
RECTIFICATION_LABELS = {
    "open": lazy_gettext("Awaiting rectification"),
    "rectified": lazy_gettext("Rectified, follow-up due"),
    "closed": lazy_gettext("Closed"),
}


def rating_context(session: Session, where: Here, instance: Instance, *,
                   errors: Mapping[str, list[str]], raw: Mapping[str, str]) -> dict[str, Any]:
    """What the application page needs to show the rating, or the form to give one."""
    rating = rating_of(session, instance.id)
    rectification = rectification_of(session, instance.id) if rating is not None else None
    can_rate = (rating is None and instance.status == "completed" and where.is_enterprise
                and where.role.enterprise_id == instance.enterprise_id)
    return {"rating": rating, "can_rate": can_rate, "grades": list(GRADE_LABELS.items()),
            "grade_labels": GRADE_LABELS, "dimension_labels": DIMENSION_LABELS,
            "rectification": rectification, "rectification_labels": RECTIFICATION_LABELS,
            "rating_errors": errors, "rating_raw": raw}
