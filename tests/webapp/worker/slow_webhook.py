"""A webhook receiver whose first caller waits: it holds a worker in a job for as long as a
test needs, while the worker's later deliveries are answered at once."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from sqlalchemy import select

from webapp.db import Database
from webapp.models import Park
from webapp.services import jobs

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
# one byte of the status line at a time, each well inside the worker's 10 s read timeout
TRICKLE_SECONDS = 1.0


@contextmanager
def slow_webhook() -> Iterator[str]:
    """The URL of a receiver that trickles its first answer and answers the rest at once."""
    listener = socket.create_server(("127.0.0.1", 0))
    stopped = threading.Event()

    def serve() -> None:
        first = True
        while not stopped.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                return  # closed: the test is over
            threading.Thread(target=_answer, args=(connection, first, stopped), daemon=True).start()
            first = False

    threading.Thread(target=serve, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/hook"
    finally:
        stopped.set()
        listener.close()


def _answer(connection: socket.socket, slowly: bool, stopped: threading.Event) -> None:
    with connection:
        try:
            connection.recv(65536)
            if not slowly:
                connection.sendall(OK)
                return
            for byte in OK:
                if stopped.wait(TRICKLE_SECONDS):
                    return
                connection.sendall(bytes([byte]))
        except OSError:
            return  # the worker was killed mid-answer: nobody is listening any more


def queue_webhook(db: Database, park_slug: str, url: str, due_at: datetime) -> None:
    """Queue one webhook delivery in the park, due at ``due_at``."""
    payload: dict[str, Any] = {
        "channel": "webhook",
        "url": url,
        "title": "t",
        "body": "b",
        "event": "test",
        "reference": "-",
        "instance_id": None,
        "park": park_slug,
    }
    with db.write() as session:
        park_id = session.scalars(select(Park.id).where(Park.slug == park_slug)).one()
        jobs.enqueue(
            session, [jobs.job_row(kind="notify", park_id=park_id, due_at=due_at, payload=payload)]
        )
