"""差评整改 in the administration: the enterprise's bad rating on its page opens a
rectification, listed for the park's administrator, who records the measures and the
follow-up (回访) on its page; the enterprise then sees the outcome on its application."""

from __future__ import annotations

import re
from collections.abc import Callable

from sqlalchemy import select

from tests.webapp.apptools import Browser, text_of
from tests.webapp.pages.test_applications import completed_application
from webapp.db import Database
from webapp.models import AuditEvent, Rating, Rectification

OpenBrowser = Callable[[str | None], Browser]


def actions(db: Database, instance_id: str) -> list[str]:
    with db.read() as session:
        return list(
            session.scalars(
                select(AuditEvent.action)
                .where(AuditEvent.instance_id == instance_id)
                .order_by(AuditEvent.id)
            )
        )


def rate_badly(parks: Database, browser: OpenBrowser) -> tuple[str, str]:
    instance_id = completed_application(parks)
    enterprise = browser("xinghe")
    page = text_of(enterprise.get(f"/applications/{instance_id}"))
    for label in ("分项评价（选填）", "办事效率", "便捷度", "服务态度", "规范性"):
        assert label in page
    bad = enterprise.post(
        f"/applications/{instance_id}/rating", {"grade": "1", "dimension-attitude": "9"}
    )
    assert bad.status_code == 422 and "请选择五个评价等级之一" in text_of(bad)
    sent = enterprise.post(
        f"/applications/{instance_id}/rating",
        {
            "grade": "1",
            "dimension-efficiency": "2",
            "dimension-attitude": "1",
            "comment": "窗口人员态度差",
        },
    )
    assert sent.status_code == 302
    with parks.read() as session:
        rating = session.get_one(Rating, instance_id)
        assert rating.dimensions == {"efficiency": 2, "attitude": 1}
        rectification_id = session.scalars(
            select(Rectification.id).where(Rectification.instance_id == instance_id)
        ).one()
    shown = text_of(enterprise.get(f"/applications/{instance_id}"))
    assert "待整改" in shown and "办事效率" in shown
    return instance_id, rectification_id


def test_a_bad_rating_is_rectified_and_followed_up_in_the_admin(
    parks: Database, browser: OpenBrowser, admin: Browser
) -> None:
    instance_id, rectification_id = rate_badly(parks, browser)
    listing = text_of(admin.get("/admin/rectifications"))
    assert f'data-rectification="{rectification_id}"' in listing
    assert "非常不满意" in listing and "待整改" in listing and "园区管理员" in listing
    assert "已逾期" not in listing.split('id="rectifications"')[1].split("</table>")[0]
    assert admin.get("/admin/rectifications?status=closed").status_code == 200
    assert admin.get("/admin/rectifications?status=bogus").status_code == 400
    assert admin.get("/admin/rectifications?overdue=yes").status_code == 200

    path = f"/admin/rectifications/{rectification_id}"
    page = text_of(admin.get(path))
    assert "窗口人员态度差" in page and "请先记录整改措施。" in page
    early = admin.post(f"{path}/follow-up", {"answer": "认可", "accepted": "yes"})
    assert early.status_code == 422 and "请先记录整改措施再回访" in text_of(early)
    empty = admin.post(f"{path}/measures", {"measures": "  "})
    assert empty.status_code == 422 and 'id="e-measures"' in text_of(empty)
    assert admin.post(f"{path}/measures", {"measures": "开展窗口服务礼仪培训"}).status_code == 302
    unsure = admin.post(f"{path}/follow-up", {"answer": "电话回访，企业认可"})
    assert unsure.status_code == 422 and 'id="e-accepted"' in text_of(unsure)
    assert "电话回访，企业认可" in text_of(unsure)  # the form again, as it was filled in
    closed = admin.post(f"{path}/follow-up", {"answer": "电话回访，企业认可", "accepted": "yes"})
    assert closed.status_code == 302
    page = text_of(admin.get(path))
    assert "企业认可整改" in page and "已办结" in page
    again = admin.post(f"{path}/measures", {"measures": "再改"})
    assert again.status_code == 422 and "该整改已办结。" in text_of(again)
    assert [
        a for a in actions(parks, instance_id) if a.startswith(("rating.", "rectification."))
    ] == [
        "rectification.opened",
        "rectification.recorded",
        "rating.followed_up",
        "rating.rectified",
    ]

    outcome = text_of(browser("xinghe").get(f"/applications/{instance_id}"))
    assert "整改措施：开展窗口服务礼仪培训" in outcome
    # another park's administrator finds nothing
    assert browser("other.admin").get(path).status_code == 404


def test_the_rating_settings_are_checked_and_saved(parks: Database, admin: Browser) -> None:
    page = text_of(admin.get("/admin/rectifications"))
    assert re.search(r'name="rectification_working_days"[^>]*value="5"', page)
    bad = admin.post(
        "/admin/rectifications/settings",
        {
            "rectification_working_days": "0",
            "rating_invitation_days": "abc",
            "rectification_group": "",
        },
    )
    assert bad.status_code == 422
    assert text_of(bad).count("请输入 1 到 60 之间的整数天数。") >= 2
    unknown = admin.post(
        "/admin/rectifications/settings",
        {
            "rectification_working_days": "15",
            "rating_invitation_days": "3",
            "rectification_group": "没有这个组",
        },
    )
    assert unknown.status_code == 422
    saved = admin.post(
        "/admin/rectifications/settings",
        {
            "rectification_working_days": "15",
            "rating_invitation_days": "7",
            "rectification_group": "政策审核组",
        },
    )
    assert saved.status_code == 302
    page = text_of(admin.get("/admin/rectifications"))
    assert re.search(r'name="rectification_working_days"[^>]*value="15"', page)
    assert '<option value="政策审核组" selected>' in page
