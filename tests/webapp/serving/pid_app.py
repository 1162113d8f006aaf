"""A WSGI application for testing how gunicorn spreads requests: each request takes
PAUSE_SECONDS and answers with the id of the process that served it (``/thread`` answers at
once which kind of thread ran it). A process that loads it leaves a file named after its pid
in $PID_APP_READY_DIR, so a test knows when all are up."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

PAUSE_SECONDS = 0.4

if os.environ.get("PID_APP_READY_DIR"):
    (Path(os.environ["PID_APP_READY_DIR"]) / str(os.getpid())).touch()


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    if environ.get("PATH_INFO") == "/thread":
        # which thread runs requests: the process's main one (its listening loop) or a pool's
        main = threading.current_thread() is threading.main_thread()
        body = b"main" if main else b"pool"
    else:
        time.sleep(PAUSE_SECONDS)
        body = str(os.getpid()).encode()
    start_response("200 OK", [("Content-Type", "text/plain"),
                              ("Content-Length", str(len(body)))])
    return [body]
