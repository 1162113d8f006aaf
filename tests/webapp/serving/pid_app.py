"""A WSGI application for testing how gunicorn spreads requests: each request takes
PAUSE_SECONDS and answers with the id of the process that served it. A process that loads it
leaves a file named after its pid in $PID_APP_READY_DIR, so a test knows when all are up."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

PAUSE_SECONDS = 0.4

if os.environ.get("PID_APP_READY_DIR"):
    (Path(os.environ["PID_APP_READY_DIR"]) / str(os.getpid())).touch()


def app(_environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    time.sleep(PAUSE_SECONDS)
    body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
