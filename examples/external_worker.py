"""A small Parkflow external worker: fetch and lock tasks of one topic, work them, report back.

Standard library only. Run it with a park service token (an admin creates one with
POST /api/v1/parks/<park>/service-tokens):

    PARKFLOW_URL=http://localhost:8000 PARKFLOW_TOKEN=pfs_... \
        python examples/external_worker.py tax_check

This example "checks" an application's tax standing: it completes the task with
``tax_ok`` set, reports a BPMN error ``TAX_REFUSED`` for a negative amount, and reports a
failure (retried after 30 s, three times) when its own work raises.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
import urllib.error
import urllib.request
from typing import Any

URL = os.environ.get("PARKFLOW_URL", "http://localhost:8000").rstrip("/")
TOKEN = os.environ.get("PARKFLOW_TOKEN", "")
WORKER_ID = f"example-{socket.gethostname()}-{os.getpid()}"
LOCK_SECONDS = 60
RETRIES = 3


def call(path: str, body: dict[str, Any]) -> Any:
    """POST ``body`` as JSON to the Parkflow API; the decoded answer, or None for 204."""
    if not URL.startswith(("http://", "https://")):
        raise SystemExit("PARKFLOW_URL must be an http:// or https:// address")
    request = urllib.request.Request(  # noqa: S310 -- the scheme is checked just above
        f"{URL}/api/v1/external-tasks{path}",
        data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 -- as above
        raw = response.read()
    return json.loads(raw) if raw else None


class Refused(Exception):
    """The business answer is no: reported as a BPMN error the diagram catches."""


def work(variables: dict[str, Any]) -> dict[str, Any]:
    """The worker's own job: here, a stand-in for asking the tax bureau."""
    if variables.get("amount", 0) < 0:
        raise Refused("a negative amount cannot be checked")
    return {"tax_ok": True}


def handle(task: dict[str, Any]) -> None:
    """Work one locked task and report how it went."""
    path = f"/{task['id']}"
    try:
        result = work(task["variables"])
    except Refused as refusal:
        call(
            f"{path}/bpmn-error",
            {"worker_id": WORKER_ID, "code": "TAX_REFUSED", "message": str(refusal)},
        )
    except Exception as exc:  # noqa: BLE001 -- any failure is reported, retried by Parkflow
        left = RETRIES if task["retries"] is None else task["retries"] - 1
        call(
            f"{path}/failure",
            {
                "worker_id": WORKER_ID,
                "message": str(exc),
                "retries": max(left, 0),
                "retry_seconds": 30,
            },
        )
    else:
        call(f"{path}/complete", {"worker_id": WORKER_ID, "variables": result})


def main(topic: str) -> None:
    """Poll for tasks of ``topic`` until interrupted."""
    while True:
        try:
            tasks = call(
                "/fetch-and-lock",
                {
                    "worker_id": WORKER_ID,
                    "max_tasks": 5,
                    "topics": [{"name": topic, "lock_seconds": LOCK_SECONDS}],
                },
            )
            for task in tasks:
                handle(task)
        except urllib.error.HTTPError as exc:
            print(f"Parkflow answered {exc.code}: {exc.read().decode()}", file=sys.stderr)
            tasks = []
        if not tasks:
            time.sleep(5)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "tax_check")
