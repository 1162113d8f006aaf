"""Notifications: who is told what, in-app rows, and the outbox of e-mails and webhook posts.

An event (a task waits, an application came back for correction, a task is due soon or
overdue, an overdue task is escalated, an application finished) is announced once: the worker
resolves its recipients, writes one in-app Notification per person and queues one ``notify``
job per e-mail and per webhook, each with a dedupe key, so an event repeated by an
at-least-once delivery reaches nobody twice. Failed deliveries retry through the job queue.
Each person is told in their language (``User.locale``: English for ``en``, else Chinese).
"""

from __future__ import annotations

import hashlib
import json
import smtplib
import ssl
import urllib.request
from collections.abc import Iterable, Mapping
from datetime import datetime
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from webapp.dates import ZH, due_text
from webapp.models import (
    Group,
    GroupMember,
    HumanTask,
    Instance,
    Job,
    Membership,
    Notification,
    Park,
    User,
)
from webapp.services import jobs
from webapp.services.calendars import day_end_of
from webapp.services.jobs import ClaimedJob, JobContext
from webapp.services.people import is_applicant_task

WEBHOOK_FORMATS = ("json", "wecom", "dingtalk")
TITLE_LENGTH = 255


class DeliveryFailed(Exception):
    """A channel refused or could not take a message; the job queue retries it."""

    def __init__(self, channel: str, reason: str) -> None:
        self.channel = channel
        self.reason = reason
        super().__init__(f"{channel}: {reason}")


# --- what is said ---------------------------------------------------------------------------

# the hand-offs (webapp.services.handoffs): title, and what the one who acted did
HANDOFF_NOTICES = {
    "transferred": ("转办", "将以下事项转办给您："),
    "delegated": ("委派", "委派您处理（处理后交回其确认）："),
    "delegation_resolved": ("委派已处理", "已处理您委派的事项，请确认并完成："),
    "signers_added": ("加签", "请您加签："),
}


def render(
    kind: str,
    instance: Instance,
    task: HumanTask | None,
    details: Mapping[str, Any],
    *,
    locale: str | None = None,
) -> tuple[str, str]:
    """Title and body of a notification, naming the application and the task: in Chinese,
    or in English with ``locale`` ``en``."""
    if kind in RATING_KINDS:
        return _rating_text(kind, instance, details, locale)
    if locale == "en":
        return _render_en(kind, instance, task, details)
    ref = instance.reference
    procedure = instance.definition.name
    zone = ZoneInfo(instance.park.timezone)
    name = task.name if task is not None else ""
    due = (
        f"，办理期限 {due_text(task.due_at, zone, day_end_of(instance.park), ZH)}"
        if task and task.due_at
        else ""
    )
    if kind == "task_waiting":
        return (f"待办：{name}（{ref}）", f"{procedure}（{ref}） 的“{name}”正在等待办理{due}。")
    if kind == "returned" and details.get("from"):
        reasons = [str(reason) for reason in details.get("reasons") or ()]
        listed = "".join(f"\n{i}. {reason}" for i, reason in enumerate(reasons, 1))
        return (
            f"退回：{name}（{ref}）",
            f"{procedure}（{ref}） 被“{details['from']}”退回到“{name}”，请重新办理{due}。"
            + (f"\n退回原因：{listed}" if listed else ""),
        )
    if kind == "returned":
        reasons = [str(reason) for reason in details.get("reasons") or ()]
        listed = "".join(f"\n{i}. {reason}" for i, reason in enumerate(reasons, 1))
        return (
            f"申请 {ref} 被退回补正",
            f"您提交的{procedure}（{ref}） 需要补正材料，请在“{name}”中一次性补正"
            f"{due}。" + (f"\n补正事项：{listed}" if listed else ""),
        )
    if kind == "reminded":
        count = details.get("count") or 1
        return (
            f"催办：{name}（{ref}）",
            f"{procedure}（{ref}） 的“{name}”已到办理期限{due}，请尽快办理（第 {count} 次提醒）。",
        )
    if kind == "due_soon":
        return (
            f"即将到期：{name}（{ref}）",
            f"{procedure}（{ref}） 的“{name}”即将到期{due}，请尽快办理。",
        )
    if kind == "overdue":
        return (
            f"已逾期：{name}（{ref}）",
            f"{procedure}（{ref}） 的“{name}”已超过办理期限{due}，请立即办理。",
        )
    if kind == "escalated":
        holder = (task.assignee if task else None) or "、".join(
            task.candidate_groups if task else ()
        )
        return (
            f"逾期督办：{name}（{ref}）",
            f"{procedure}（{ref}） 的“{name}”已超过办理期限{due}，仍未办结"
            f"（当前处理：{holder or '未指定'}）。请督促办理。",
        )
    if kind in ACTION_KINDS:
        return _action_text(kind, instance, task, details)
    if kind in HANDOFF_NOTICES:
        title, said = HANDOFF_NOTICES[kind]
        by = details.get("by") or "同事"
        note = f"\n意见：{details['comment']}" if details.get("comment") else ""
        return (
            f"{title}：{name}（{ref}）",
            f"{by} {said}{procedure}（{ref}） 的“{name}”{due}。{note}",
        )
    if kind == "completed":
        return (
            f"申请 {ref} 已办结",
            f"您的{procedure}（{ref}） 已办结。欢迎对本次服务进行评价（好差评），"
            f"您的评价将帮助园区改进服务。",
        )
    raise ValueError(f"unknown notification kind {kind!r}")


# the hand-offs in English: title, and what the one who acted did
HANDOFF_NOTICES_EN = {
    "transferred": ("Transferred to you", "{by} transferred {task} to you"),
    "delegated": (
        "Delegated to you",
        "{by} delegated {task} to you: resolve it, then it goes back to them to confirm",
    ),
    "delegation_resolved": (
        "Delegation resolved",
        "{by} resolved {task}, which you delegated: please confirm and complete it",
    ),
    "signers_added": ("Your signature is asked", "{by} asks for your signature on {task}"),
}


def _render_en(
    kind: str, instance: Instance, task: HumanTask | None, details: Mapping[str, Any]
) -> tuple[str, str]:
    """The English of `render`, for a recipient who reads English."""
    ref = instance.reference
    procedure = instance.definition.name
    zone = ZoneInfo(instance.park.timezone)
    name = task.name if task is not None else ""
    due = (
        f", due {due_text(task.due_at, zone, day_end_of(instance.park), 'en')}"
        if task and task.due_at
        else ""
    )
    reasons = [str(reason) for reason in details.get("reasons") or ()]
    listed = "".join(f"\n{i}. {reason}" for i, reason in enumerate(reasons, 1))
    if kind == "task_waiting":
        return (
            f"To do: {name} ({ref})",
            f"“{name}” of {procedure} ({ref}) is waiting for you{due}.",
        )
    if kind == "returned" and details.get("from"):
        return (
            f"Returned: {name} ({ref})",
            f"{procedure} ({ref}) was returned from “{details['from']}” to “{name}”: "
            f"please handle it again{due}." + (f"\nReasons:{listed}" if listed else ""),
        )
    if kind == "returned":
        return (
            f"Application {ref} returned for correction",
            f"Your {procedure} ({ref}) needs corrections: please make all of them at once "
            f"in “{name}”{due}." + (f"\nTo correct:{listed}" if listed else ""),
        )
    if kind == "reminded":
        count = details.get("count") or 1
        return (
            f"Reminder: {name} ({ref})",
            f"“{name}” of {procedure} ({ref}) has reached its time limit{due}: please "
            f"handle it soon (reminder {count}).",
        )
    if kind == "due_soon":
        return (
            f"Due soon: {name} ({ref})",
            f"“{name}” of {procedure} ({ref}) is due soon{due}: please handle it soon.",
        )
    if kind == "overdue":
        return (
            f"Overdue: {name} ({ref})",
            f"“{name}” of {procedure} ({ref}) is past its time limit{due}: please handle it now.",
        )
    if kind == "escalated":
        holder = (task.assignee if task else None) or ", ".join(
            task.candidate_groups if task else ()
        )
        return (
            f"Overdue, escalated: {name} ({ref})",
            f"“{name}” of {procedure} ({ref}) is past its time limit{due} and still open "
            f"(now with: {holder or 'nobody'}). Please follow it up.",
        )
    if kind in ACTION_KINDS:
        return _action_text_en(kind, instance, task, details)
    if kind in HANDOFF_NOTICES_EN:
        title, said = HANDOFF_NOTICES_EN[kind]
        by = details.get("by") or "A colleague"
        note = f"\nComment: {details['comment']}" if details.get("comment") else ""
        when = (
            f" Due {due_text(task.due_at, zone, day_end_of(instance.park), 'en')}."
            if task and task.due_at
            else ""
        )
        return (
            f"{title}: {name} ({ref})",
            said.format(by=by, task=f"“{name}” of {procedure} ({ref})") + f".{when}{note}",
        )
    if kind == "completed":
        return (
            f"Application {ref} completed",
            f"Your {procedure} ({ref}) is completed. Please rate the service: your rating "
            "helps the park improve.",
        )
    raise ValueError(f"unknown notification kind {kind!r}")


# the 好差评 loop (webapp.services.ratings): the invitation and the outcome go to the
# enterprise, a new rectification to the people its details name
RATING_KINDS = ("rating_invited", "rectification_opened", "rectified")


def _rating_text(kind: str, instance: Instance, details: Mapping[str, Any],
                 locale: str | None) -> tuple[str, str]:
    ref, procedure = instance.reference, instance.definition.name
    if locale == "en":
        return _rating_text_en(kind, instance, details)
    if kind == "rating_invited":
        return (f"请评价：{procedure}（{ref}）",
                f"您的{procedure}（{ref}） 已办结。请对本次服务进行评价（好差评），"
                "包括办事效率、便捷度、服务态度和规范性。")
    if kind == "rectification_opened":
        due = details.get("due_at")
        park = instance.park
        limit = (due_text(datetime.fromisoformat(due), ZoneInfo(park.timezone),
                          day_end_of(park), ZH) if due else "")
        by_when = f"，整改期限 {limit}" if limit else ""
        return (f"差评整改：{procedure}（{ref}）",
                f"企业对{procedure}（{ref}） 给出了差评，已生成整改任务{by_when}。")
    measures = details.get("measures") or ""
    said = f"\n整改措施：{measures}" if measures else ""
    return (f"整改结果：{procedure}（{ref}）",
            f"园区已对您就{procedure}（{ref}） 的评价完成整改和回访，感谢您的监督。{said}")


def _rating_text_en(kind: str, instance: Instance,
                    details: Mapping[str, Any]) -> tuple[str, str]:
    ref, procedure = instance.reference, instance.definition.name
    if kind == "rating_invited":
        return (f"Please rate: {procedure} ({ref})",
                f"Your {procedure} ({ref}) is finished. Please rate the service: its "
                "efficiency, convenience, attitude and standards.")
    if kind == "rectification_opened":
        due = details.get("due_at")
        park = instance.park
        limit = (due_text(datetime.fromisoformat(due), ZoneInfo(park.timezone),
                          day_end_of(park), "en") if due else "")
        by_when = f", to be rectified by {limit}" if limit else ""
        return (f"Bad rating to rectify: {procedure} ({ref})",
                f"The enterprise rated {procedure} ({ref}) badly: a rectification is "
                f"open{by_when}.")
    measures = details.get("measures") or ""
    said = f"\nMeasures taken: {measures}" if measures else ""
    return (f"Rectified: {procedure} ({ref})",
            f"The park has rectified and followed up your rating of {procedure} ({ref}). "
            f"Thank you for your feedback.{said}")


# the applicant's and the readers' actions: told to the people the event's details name
ACTION_KINDS = ("urged", "cc", "withdrawn")


def _action_text(
    kind: str, instance: Instance, task: HumanTask | None, details: Mapping[str, Any]
) -> tuple[str, str]:
    ref, procedure = instance.reference, instance.definition.name
    said = details.get("comment") or details.get("reason")
    note = f"\n说明：{said}" if said else ""
    if kind == "urged":
        name = task.name if task is not None else procedure
        return (
            f"催办：{name}（{ref}）",
            f"申请人催办{procedure}（{ref}） 的“{name}”，请尽快办理。{note}",
        )
    if kind == "cc":
        by = details.get("by")
        return (
            f"抄送：{procedure}（{ref}）",
            f"{by + ' ' if by else '流程'}将{procedure}（{ref}） 抄送给您，请知悉。"
            "您可以查看该申请，但无需办理。",
        )
    return (
        f"申请 {ref} 已撤回",
        f"{procedure}（{ref}） 已由申请人撤回，其待办已关闭，无需继续办理。{note}",
    )


def _action_text_en(
    kind: str, instance: Instance, task: HumanTask | None, details: Mapping[str, Any]
) -> tuple[str, str]:
    ref, procedure = instance.reference, instance.definition.name
    said = details.get("comment") or details.get("reason")
    note = f"\nNote: {said}" if said else ""
    if kind == "urged":
        name = task.name if task is not None else procedure
        return (
            f"Urged: {name} ({ref})",
            f"The applicant urges “{name}” of {procedure} ({ref}): please handle it soon.{note}",
        )
    if kind == "cc":
        by = details.get("by") or "The procedure"
        return (
            f"Copied to you: {procedure} ({ref})",
            f"{by} copied {procedure} ({ref}) to you for your information. You can read "
            "it; nothing waits for you.",
        )
    return (
        f"Application {ref} withdrawn",
        f"The applicant withdrew {procedure} ({ref}); its open tasks are closed and need "
        f"nothing more from you.{note}",
    )


# --- who is told ----------------------------------------------------------------------------


def applicants(session: Session, instance: Instance) -> list[User]:
    """The active users of the applying enterprise."""
    if instance.enterprise_id is None:
        return []
    return list(
        session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.park_id == instance.park_id,
                Membership.enterprise_id == instance.enterprise_id,
                User.is_active,
            )
            .order_by(User.username)
        )
    )


def group_members(session: Session, park_id: str, groups: Iterable[str]) -> list[User]:
    """The active members of the named groups of a park."""
    names = list(groups)
    if not names:
        return []
    return list(
        session.scalars(
            select(User)
            .join(GroupMember, GroupMember.user_id == User.id)
            .join(Group, Group.id == GroupMember.group_id)
            .where(Group.park_id == park_id, Group.name.in_(names), User.is_active)
            .order_by(User.username)
            .distinct()
        )
    )


def named_users(session: Session, usernames: Iterable[str]) -> list[User]:
    """The active users with these usernames."""
    names = [name for name in usernames if name]
    if not names:
        return []
    return list(
        session.scalars(
            select(User).where(User.username.in_(names), User.is_active).order_by(User.username)
        )
    )


def holders(session: Session, park: Park, task: HumanTask) -> list[User]:
    """Who the task waits for: the enterprise, else the assignee, else all candidates."""
    if is_applicant_task(park, task):
        return applicants(session, task.instance)
    if task.assignee:
        return named_users(session, [task.assignee])
    return everyone_on(session, park, task)


def everyone_on(session: Session, park: Park, task: HumanTask) -> list[User]:
    """The assignee, the candidate users and the members of the candidate groups."""
    if is_applicant_task(park, task):
        return applicants(session, task.instance)
    found = named_users(session, [task.assignee or "", *task.candidate_users])
    found += group_members(session, park.id, task.candidate_groups)
    return _unique(found)


def _unique(users: Iterable[User]) -> list[User]:
    seen: dict[str, User] = {}
    for user in users:
        seen.setdefault(user.id, user)
    return list(seen.values())


# --- announcing -----------------------------------------------------------------------------


def event_job(
    kind: str,
    instance: Instance,
    *,
    key: str,
    now: datetime,
    task_id: str | None = None,
    details: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A job that announces an event as soon as the worker sees it (queued once per key)."""
    return jobs.job_row(
        kind="event",
        park_id=instance.park_id,
        due_at=now,
        instance_id=instance.id,
        task_id=task_id,
        dedupe_key=f"event:{key}",
        payload={"event": kind, "key": key, "details": dict(details or {})},
    )


def announce(ctx: JobContext, session: Session, job: Job, now: datetime) -> None:
    """Handle an 'event' job: tell the people concerned, unless the moment has passed."""
    instance = session.get(Instance, job.instance_id)
    if instance is None:
        return None
    kind = job.payload["event"]
    task = session.get(HumanTask, job.task_id) if job.task_id else None
    if job.task_id and (task is None or task.status != "open"):
        return None  # the task was done before anyone needed telling
    park = instance.park
    if kind in ("completed", "rectified") or (
        kind == "returned" and not (job.payload.get("details") or {}).get("from")
    ):
        people = applicants(session, instance)
    elif kind in (*ACTION_KINDS, "rectification_opened"):
        people = named_users(session, (job.payload.get("details") or {}).get("usernames") or ())
    elif task is not None:
        people = holders(session, park, task)
    else:
        people = []
    details = job.payload.get("details") or {}
    publish(
        ctx,
        session,
        instance=instance,
        kind=kind,
        task=task,
        people=people,
        key=job.payload["key"],
        details=details,
        now=now,
    )
    return None


def publish(
    ctx: JobContext,
    session: Session,
    *,
    instance: Instance,
    kind: str,
    task: HumanTask | None,
    people: Iterable[User],
    key: str,
    details: Mapping[str, Any],
    now: datetime,
) -> None:
    """Write in-app notifications and queue e-mails and webhook posts for one event.

    Each person reads it in their language (English for a user whose locale is ``en``,
    Chinese for the rest); the park's webhooks, read by a group, get the Chinese one.
    """
    task_id = task.id if task is not None else None
    outbox = []
    everyone = _unique(people)
    for locale, readers in (
        (None, [u for u in everyone if u.locale != "en"]),
        ("en", [u for u in everyone if u.locale == "en"]),
    ):
        if locale is not None and not readers:
            continue
        title, body = render(kind, instance, task, details, locale=locale)
        title = title[:TITLE_LENGTH]
        base = {
            "event": kind,
            "title": title,
            "body": body,
            "reference": instance.reference,
            "sender": instance.park.settings.get("email_sender"),
            "instance_id": instance.id,
            "task_id": task_id,
            "park": instance.park.slug,
            "locale": locale or "zh",
        }
        for user in readers:
            session.add(
                Notification(
                    user_id=user.id,
                    park_id=instance.park_id,
                    at=now,
                    kind=kind,
                    title=title,
                    body=body,
                    instance_id=instance.id,
                    task_id=task_id,
                )
            )
            if ctx.smtp.enabled and user.email:
                outbox.append(
                    _notify(
                        instance,
                        task_id,
                        now,
                        f"{key}:email:{user.id}",
                        {**base, "channel": "email", "to": user.email},
                    )
                )
        if locale is None:
            for url, style in webhooks(instance.park):
                digest = hashlib.sha256(url.encode()).hexdigest()[:16]
                outbox.append(
                    _notify(
                        instance,
                        task_id,
                        now,
                        f"{key}:webhook:{digest}",
                        {**base, "channel": "webhook", "url": url, "format": style},
                    )
                )
    jobs.enqueue(session, outbox)


def _notify(
    instance: Instance, task_id: str | None, now: datetime, key: str, payload: dict[str, Any]
) -> dict[str, Any]:
    return jobs.job_row(
        kind="notify",
        park_id=instance.park_id,
        due_at=now,
        instance_id=instance.id,
        task_id=task_id,
        payload=payload,
        dedupe_key=f"notify:{key}",
    )


def webhooks(park: Park) -> list[tuple[str, str]]:
    """(url, format) of each webhook configured in the park's settings."""
    found = []
    for entry in park.settings.get("webhooks") or ():
        if isinstance(entry, str):
            entry = {"url": entry}
        url = str(entry.get("url") or "") if isinstance(entry, Mapping) else ""
        style = str(entry.get("format") or "json") if isinstance(entry, Mapping) else "json"
        if url.startswith(("http://", "https://")) and style in WEBHOOK_FORMATS:
            found.append((url, style))
    return found


# --- delivering -----------------------------------------------------------------------------


def deliver(ctx: JobContext, job: ClaimedJob, now: datetime) -> None:
    """Handle a 'notify' job: send one e-mail or one webhook post."""
    payload = job.payload
    if payload.get("channel") == "email":
        send_email(ctx, payload)
    elif payload.get("channel") == "webhook":
        post_webhook(ctx, payload)
    else:
        raise DeliveryFailed(str(payload.get("channel")), "unknown channel")
    return None


def send_email(ctx: JobContext, payload: Mapping[str, Any]) -> None:
    """Send the message over the configured SMTP server."""
    smtp = ctx.smtp
    if smtp.host is None:
        raise DeliveryFailed("email", "PARKFLOW_SMTP_HOST is not set")
    message = EmailMessage()
    message["From"] = payload.get("sender") or smtp.sender
    message["To"] = payload["to"]
    message["Subject"] = payload["title"]
    label = "Reference: " if payload.get("locale") == "en" else "申请编号："
    message.set_content(f"{payload['body']}\n\n{label}{payload['reference']}\n")
    with smtplib.SMTP(smtp.host, smtp.port, timeout=ctx.http_timeout) as server:
        if smtp.tls:
            server.starttls(context=ssl.create_default_context())
        if smtp.user:
            server.login(smtp.user, smtp.password or "")
        refused = server.send_message(message)
    if refused:
        raise DeliveryFailed("email", f"refused by the server: {refused}")


def webhook_body(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON a webhook receives, in its format: plain, WeCom robot or DingTalk robot."""
    title, body, style = payload["title"], payload["body"], payload.get("format", "json")
    if style == "wecom":
        return {"msgtype": "markdown", "markdown": {"content": f"**{title}**\n{body}"}}
    if style == "dingtalk":
        return {
            "msgtype": "markdown",
            "markdown": {"title": title, "text": f"#### {title}\n{body}"},
        }
    return {
        "event": payload["event"],
        "title": title,
        "text": body,
        "reference": payload["reference"],
        "instance_id": payload["instance_id"],
        "task_id": payload.get("task_id"),
        "park": payload["park"],
    }


def post_webhook(ctx: JobContext, payload: Mapping[str, Any]) -> None:
    """POST the message; anything but a 2xx (or a robot's errcode) is a failure to retry."""
    url = payload["url"]
    if not url.startswith(("http://", "https://")):
        raise DeliveryFailed("webhook", f"not an http(s) URL: {url}")
    data = json.dumps(webhook_body(payload), ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(  # noqa: S310 -- the scheme is checked above
        url, data=data, method="POST", headers={"Content-Type": "application/json; charset=utf-8"}
    )
    try:
        with urllib.request.urlopen(request, timeout=ctx.http_timeout) as response:  # noqa: S310
            answer = response.read(65536)
    except OSError as exc:  # HTTPError, URLError and timeouts are all OSErrors
        raise DeliveryFailed("webhook", f"{url}: {exc}") from exc
    _check_robot_answer(url, answer)


def _check_robot_answer(url: str, answer: bytes) -> None:
    # WeCom and DingTalk robots answer 200 with {"errcode": n, "errmsg": ...} even on errors
    try:
        parsed = json.loads(answer or b"null")
    except ValueError:
        return
    if isinstance(parsed, dict) and parsed.get("errcode") not in (None, 0):
        raise DeliveryFailed(
            "webhook", f"{url}: errcode {parsed.get('errcode')}: {parsed.get('errmsg', '')}"
        )


__all__ = [
    "ACTION_KINDS",
    "RATING_KINDS",
    "DeliveryFailed",
    "announce",
    "applicants",
    "deliver",
    "event_job",
    "everyone_on",
    "group_members",
    "holders",
    "publish",
    "render",
    "webhook_body",
    "webhooks",
]
