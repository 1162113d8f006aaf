"""The HTTP connector's calls (``service=http`` tasks), made by the job worker.

A connector task waits like an external task of the reserved topic ``HTTP_TOPIC``: when it
opens, ``external_tasks.sync`` queues one ``http_call`` job in the same transaction. The
worker reads the task and the park's settings in a short transaction, makes the call with no
transaction open, and completes the task with the variables the response maps to in a second
one. So a slow bank never holds an application's lock.

Every attempt of one task sends the same ``Idempotency-Key`` (the task's id), so a retry after
a timeout, or a worker that died after the call, never makes the other side act twice. A
connection error, a timeout, 408, 425, 429 and 5xx are tried again after a backoff that
doubles (``retries`` times); any other answer, an address outside the park's allow-list, a
missing secret or an expression that fails is final at once. A final failure is an incident
(a failed ``http_call`` job in /admin/incidents); retrying it tries the call again with fresh
retries.

Park settings: ``http_allowlist`` (addresses the park's diagrams may call: a URL matches an
entry with the same scheme and host whose path is a prefix of its own) and ``secrets`` (name
to value, referenced as ``${secret.NAME}`` in a task's URL or headers, never shown again).
"""

from __future__ import annotations

import re
import urllib.error
import urllib.request
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.orm import Session

from engine import (
    HTTP_TOPIC,
    ConnectorFailed,
    EngineError,
    ErrorNotCaught,
    HttpRequest,
    Snapshot,
    build_request,
    map_response,
    parse_config,
)
from webapp.db import lock_instance
from webapp.models import ExternalTask, Instance, Job, Park
from webapp.services import audit, jobs
from webapp.services.engines import engine_for, version_of
from webapp.services.errors import Invalid
from webapp.services.jobs import ClaimedJob, JobContext

JOB = "http_call"
ALLOWLIST_SETTING = "http_allowlist"
SECRETS_SETTING = "secrets"
RETRYABLE_STATUS = frozenset({408, 425, 429})
ANSWER_LIMIT = 1 << 20
ERROR_TEXT = 4000
MAX_ALLOWLIST = 100
MAX_SECRETS = 100
MAX_SECRET = 4000
_SECRET_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")
_ENTRY = re.compile(r"https?://[^\s/?#]+[^\s?#]*")


class CallFailed(Exception):
    """One attempt failed; ``retry`` says whether another attempt may succeed."""

    def __init__(self, reason: str, *, retry: bool, status: int | None = None) -> None:
        self.reason = reason
        self.retry = retry
        self.status = status
        super().__init__(reason)


@dataclass(frozen=True)
class Attempt:
    """What the worker read before calling: the task, its variables and the park's settings."""

    task_id: str
    instance_id: str
    park_id: str
    element_id: str
    variables: Mapping[str, Any]
    retries_left: int
    allowlist: tuple[str, ...]
    secrets: Mapping[str, str]


# --- queueing (in the transaction that opened the task) ------------------------------------


def call_jobs(
    park_id: str, instance_id: str, tasks: Iterable[Any], now: datetime
) -> list[dict[str, Any]]:
    """One ``http_call`` job per connector task that just opened (queued once per task)."""
    return [
        jobs.job_row(
            kind=JOB,
            park_id=park_id,
            instance_id=instance_id,
            task_id=task.task_id,
            due_at=now,
            dedupe_key=f"http:{task.task_id}",
            payload={"element_id": task.element_id, "properties": dict(task.properties)},
        )
        for task in tasks
        if task.topic == HTTP_TOPIC
    ]


# --- the park's allow-list and secrets -----------------------------------------------------


def allowed(url: str, allowlist: Iterable[str]) -> bool:
    """Whether ``url`` falls under an entry: same scheme and host, the entry's path a prefix."""
    try:
        target = urlsplit(url)
    except ValueError:
        return False
    for entry in allowlist:
        try:
            base = urlsplit(entry)
        except ValueError:
            continue
        if (base.scheme.lower(), base.netloc.lower()) != (
            target.scheme.lower(),
            target.netloc.lower(),
        ):
            continue
        prefix = base.path.rstrip("/")
        rest = target.path[len(prefix) :]
        if target.path.startswith(prefix) and (not rest or rest.startswith("/")):
            return True
    return False


def connector_settings(park: Park) -> dict[str, Any]:
    """The allow-list and the names (never the values) of the park's secrets."""
    return {
        "allowlist": list(park.settings.get(ALLOWLIST_SETTING) or []),
        "secrets": sorted((park.settings.get(SECRETS_SETTING) or {}).keys()),
    }


def set_allowlist(session: Session, park: Park, *, actor: str, entries: Sequence[str]) -> None:
    """Replace the park's allow-list; every entry is an http(s) address without query."""
    cleaned = []
    for index, entry in enumerate(entries):
        text = str(entry).strip()
        if not text:
            continue
        if len(text) > 2000 or not _ENTRY.fullmatch(text):
            raise Invalid(
                f"{text!r} is not an http(s) address",
                details={f"allowlist.{index}": ["is not an http(s) address"]},
            )
        if text not in cleaned:
            cleaned.append(text)
    if len(cleaned) > MAX_ALLOWLIST:
        raise Invalid(
            f"at most {MAX_ALLOWLIST} addresses",
            details={"allowlist": [f"holds at most {MAX_ALLOWLIST} addresses"]},
        )
    before = list(park.settings.get(ALLOWLIST_SETTING) or [])
    park.settings = {**park.settings, ALLOWLIST_SETTING: cleaned}
    session.flush()
    audit.record(
        session,
        park_id=park.id,
        actor=actor,
        action="park.http_allowlist_changed",
        details={"count": len(cleaned)},
        before={"allowlist": before},
        after={"allowlist": cleaned},
    )


def set_secret(session: Session, park: Park, *, actor: str, name: str, value: str) -> None:
    """Store (or replace) a secret; the audit log records its name, never its value."""
    if not _SECRET_NAME.fullmatch(name):
        raise Invalid(
            f"{name!r} is not a secret name",
            details={"name": ["letters, digits and _, not starting with a digit"]},
        )
    if not value or len(value) > MAX_SECRET or any(char in value for char in "\r\n\0"):
        raise Invalid(
            "a secret is 1 to 4000 characters on one line",
            details={"value": ["is 1 to 4000 characters on one line"]},
        )
    secrets = dict(park.settings.get(SECRETS_SETTING) or {})
    if name not in secrets and len(secrets) >= MAX_SECRETS:
        raise Invalid(
            f"at most {MAX_SECRETS} secrets",
            details={"name": [f"a park holds at most {MAX_SECRETS} secrets"]},
        )
    replaced = name in secrets
    secrets[name] = value
    park.settings = {**park.settings, SECRETS_SETTING: secrets}
    session.flush()
    audit.record(
        session,
        park_id=park.id,
        actor=actor,
        action="park.secret_set",
        details={"name": name, "replaced": replaced},
    )


def remove_secret(session: Session, park: Park, *, actor: str, name: str) -> bool:
    """Forget a secret; False when the park had none of that name."""
    secrets = dict(park.settings.get(SECRETS_SETTING) or {})
    if secrets.pop(name, None) is None:
        return False
    park.settings = {**park.settings, SECRETS_SETTING: secrets}
    session.flush()
    audit.record(
        session, park_id=park.id, actor=actor, action="park.secret_removed", details={"name": name}
    )
    return True


# --- the worker's handler ------------------------------------------------------------------


def run_call(ctx: JobContext, job: ClaimedJob, now: datetime) -> datetime | None:
    """Handle an ``http_call`` job: call, then complete the task, retry later or give up."""
    properties = dict(job.payload.get("properties") or {})
    attempt = _begin(ctx, job, now)
    if attempt is None:
        return None  # the task is done or gone: nothing to call
    try:
        config = parse_config(properties)
        request = build_request(config, attempt.variables, attempt.secrets)
        if not allowed(request.url, attempt.allowlist):
            raise CallFailed(
                f"{_shown(request.url)} is not in the park's allow-list ({ALLOWLIST_SETTING})",
                retry=False,
            )
        status, headers, body = send(
            request, idempotency_key=attempt.task_id, timeout=config.timeout
        )
        variables = map_response(config, status, headers, body)
    except ConnectorFailed as exc:
        return _failed(ctx, job, attempt, CallFailed(str(exc), retry=False), now, backoff=0)
    except CallFailed as exc:
        config = parse_config(properties)
        refused = not exc.retry and exc.status is not None and config.error_code
        if refused and _throw(ctx, attempt, str(config.error_code), exc, now):
            return None
        return _failed(ctx, job, attempt, exc, now, backoff=config.backoff if exc.retry else 0)
    _complete(ctx, attempt, variables, status, now)
    return None


def send(
    request: HttpRequest, *, idempotency_key: str, timeout: float
) -> tuple[int, dict[str, str], bytes]:
    """Make one call; (status, headers, body) of a 2xx, else CallFailed."""
    headers = {**request.headers, "Idempotency-Key": idempotency_key}
    prepared = urllib.request.Request(  # noqa: S310 -- the scheme is checked at deploy
        request.url, data=request.body, method=request.method, headers=headers
    )
    try:
        with urllib.request.urlopen(prepared, timeout=timeout) as response:  # noqa: S310
            return response.status, dict(response.headers.items()), response.read(ANSWER_LIMIT)
    except urllib.error.HTTPError as exc:
        status = exc.code
        retry = status in RETRYABLE_STATUS or status >= 500
        raise CallFailed(
            f"{request.method} {_shown(request.url)} answered {status}", retry=retry, status=status
        ) from exc
    except TimeoutError as exc:
        raise CallFailed(
            f"{request.method} {_shown(request.url)}: no answer within {timeout:g} s", retry=True
        ) from exc
    except OSError as exc:  # URLError, refused connections, resets
        reason = getattr(exc, "reason", exc)
        retry = not isinstance(reason, ValueError)
        if isinstance(reason, TimeoutError):
            raise CallFailed(
                f"{request.method} {_shown(request.url)}: no answer within {timeout:g} s",
                retry=True,
            ) from exc
        raise CallFailed(f"{request.method} {_shown(request.url)}: {reason}", retry=retry) from exc


def _begin(ctx: JobContext, job: ClaimedJob, now: datetime) -> Attempt | None:
    with ctx.db.write() as session:
        row = session.get(ExternalTask, job.task_id or "", with_for_update=True)
        if row is None or row.status not in ("open", "failed"):
            return None
        if row.status == "failed":
            # an administrator retried the incident: the call gets its retries afresh
            row.status, row.retries = "open", None
        park = session.get_one(Park, row.park_id)
        configured = parse_retries(job.payload.get("properties") or {})
        return Attempt(
            task_id=row.id,
            instance_id=row.instance_id,
            park_id=row.park_id,
            element_id=row.element_id,
            variables=dict(row.variables),
            retries_left=configured if row.retries is None else row.retries,
            allowlist=tuple(park.settings.get(ALLOWLIST_SETTING) or ()),
            secrets=dict(park.settings.get(SECRETS_SETTING) or {}),
        )


def parse_retries(properties: Mapping[str, Any]) -> int:
    """How many times a failed call of these properties is tried again."""
    try:
        return parse_config(properties).retries
    except ConnectorFailed:
        return 0


def _failed(
    ctx: JobContext,
    job: ClaimedJob,
    attempt: Attempt,
    failure: CallFailed,
    now: datetime,
    *,
    backoff: int,
) -> datetime | None:
    final = not failure.retry or attempt.retries_left <= 0
    used = parse_retries(job.payload.get("properties") or {}) - attempt.retries_left
    later = None if final else now + timedelta(seconds=backoff * (2 ** max(0, used)))
    with ctx.db.write() as session:
        row = session.get(ExternalTask, attempt.task_id, with_for_update=True)
        if row is None or row.status != "open":
            return None
        row.error = failure.reason[:ERROR_TEXT]
        row.retries = attempt.retries_left if final else attempt.retries_left - 1
        if later is not None:
            row.available_at = later
        else:
            row.status = "failed"
            session.add(
                Job(
                    kind=JOB,
                    park_id=row.park_id,
                    instance_id=row.instance_id,
                    task_id=row.id,
                    due_at=now,
                    attempts=1,
                    status="failed",
                    payload=dict(job.payload),
                    last_error=f"{row.name}: {failure.reason}"[:ERROR_TEXT],
                )
            )
        audit.append(
            session,
            park_id=row.park_id,
            actor=None,
            action="connector.http_failed",
            instance_id=row.instance_id,
            at=now,
            details={
                "task_id": row.id,
                "element_id": row.element_id,
                "name": row.name,
                "reason": failure.reason,
                "status": failure.status,
                "retries_left": row.retries,
                "incident": later is None,
                "retry_at": later.isoformat() if later else None,
            },
        )
    return later


@contextmanager
def _open_task(
    ctx: JobContext, attempt: Attempt
) -> Iterator[tuple[Session, Instance, ExternalTask] | None]:
    """The attempt's application locked and its task row, in a write transaction; None when
    the task is no longer open (completed, cancelled or moved on meanwhile)."""
    with ctx.db.write() as session:
        instance = lock_instance(session, attempt.instance_id)
        row = session.get(
            ExternalTask, attempt.task_id, with_for_update=True, populate_existing=True
        )
        yield (session, instance, row) if row is not None and row.status == "open" else None


def _record(
    session: Session,
    instance: Instance,
    row: ExternalTask,
    snapshot: Snapshot,
    now: datetime,
    action: str,
    **details: Any,
) -> None:
    """Write the step the engine took and audit the call's outcome."""
    from webapp.services.projections import write_snapshot  # projections queues these jobs

    write_snapshot(session, instance, instance.park, snapshot, actor=None, now=now)
    audit.append(
        session,
        park_id=row.park_id,
        actor=None,
        action=action,
        instance_id=row.instance_id,
        at=now,
        details={"task_id": row.id, "element_id": row.element_id, "name": row.name, **details},
    )


def _complete(
    ctx: JobContext, attempt: Attempt, variables: Mapping[str, Any], status: int, now: datetime
) -> None:
    with _open_task(ctx, attempt) as held:
        if held is None:
            return
        session, instance, row = held
        row.status, row.completed_at, row.lock_expires_at = "completed", now, None
        session.flush()
        version, engine = version_of(instance.definition), engine_for(instance.park)
        try:
            snapshot = engine.complete_external_task(
                version, instance.state, row.id, variables, actor=None
            )
        except EngineError as exc:
            # variables the process refuses: the call is made, but the task cannot go on
            raise CallFailedAfterCall(str(exc)) from exc
        _record(session, instance, row, snapshot, now, "connector.http_called",
                status=status, variables=sorted(variables))


def _throw(
    ctx: JobContext, attempt: Attempt, code: str, failure: CallFailed, now: datetime
) -> bool:
    """Throw the task's errorCode at it; False when no error event catches it."""
    with _open_task(ctx, attempt) as held:
        if held is None:
            return True  # gone meanwhile: nothing left to fail
        session, instance, row = held
        version, engine = version_of(instance.definition), engine_for(instance.park)
        try:
            snapshot = engine.throw_external_error(
                version, instance.state, row.id, code, {"http_status": failure.status}
            )
        except ErrorNotCaught:
            return False
        row.status, row.completed_at, row.lock_expires_at = "bpmn_error", now, None
        row.error = f"{code}: {failure.reason}"[:ERROR_TEXT]
        session.flush()
        _record(session, instance, row, snapshot, now, "connector.http_refused",
                status=failure.status, code=code)
    return True


class CallFailedAfterCall(Exception):
    """The call succeeded but the process refused what it mapped; the job retries, then an
    incident (the other side saw the idempotency key, so a retry does not repeat the effect)."""


def _shown(url: str) -> str:
    # a URL as the logs show it: without its query, where a secret might travel
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


__all__ = [
    "ALLOWLIST_SETTING",
    "JOB",
    "SECRETS_SETTING",
    "CallFailed",
    "allowed",
    "call_jobs",
    "connector_settings",
    "remove_secret",
    "run_call",
    "send",
    "set_allowlist",
    "set_secret",
]
