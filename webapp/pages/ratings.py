"""The 好差评 rating of a finished application: the five grades in the user's language."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask_babel import lazy_gettext
from sqlalchemy.orm import Session

from webapp.models import Instance
from webapp.pages.access import Here
from webapp.services.ratings import rating_of

# best first, as the national 好差评 scheme lists them
GRADE_LABELS = {
    5: lazy_gettext("Very satisfied"),
    4: lazy_gettext("Satisfied"),
    3: lazy_gettext("Basically satisfied"),
    2: lazy_gettext("Dissatisfied"),
    1: lazy_gettext("Very dissatisfied"),
}


def rating_context(session: Session, where: Here, instance: Instance, *,
                   errors: Mapping[str, list[str]], raw: Mapping[str, str]) -> dict[str, Any]:
    """What the application page needs to show the rating, or the form to give one."""
    rating = rating_of(session, instance.id)
    can_rate = (rating is None and instance.status == "completed" and where.is_enterprise
                and where.role.enterprise_id == instance.enterprise_id)
    return {"rating": rating, "can_rate": can_rate, "grades": list(GRADE_LABELS.items()),
            "grade_labels": GRADE_LABELS, "rating_errors": errors, "rating_raw": raw}
