"""Messages an application threw that nothing in it caught: queued for delivery.

The engine reports them in `Snapshot.messages`; each becomes a ``message`` job in the same
transaction as the step that threw it (an outbox), so a message is delivered if and only if
its step was kept. The worker hands it on (:mod:`webapp.services.messaging`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import orjson

from engine import Snapshot
from webapp.models import Instance
from webapp.services import jobs

MESSAGE = "message"


def message_jobs(instance: Instance, snapshot: Snapshot, now: datetime) -> list[dict[str, Any]]:
    """One pending ``message`` job per message the step threw."""
    return [
        jobs.job_row(
            kind=MESSAGE,
            park_id=instance.park_id,
            due_at=now,
            instance_id=instance.id,
            payload={
                "name": message.name,
                "body": _json(message.payload),
                "correlation": _json(dict(message.correlation)),
                "from": instance.reference,
            },
        )
        for message in snapshot.messages
    ]


def _json(value: Any) -> Any:
    # task data is JSON already but for the odd date a script left: kept as its text
    return orjson.loads(orjson.dumps(value, default=str))


__all__ = ["MESSAGE", "message_jobs"]
