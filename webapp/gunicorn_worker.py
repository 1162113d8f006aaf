"""The gunicorn worker Parkflow runs: gunicorn's threaded worker, taking new connections only
while one of its threads is free.

Parkflow's requests are CPU work in Python (the engine, SQLite in-process), so the threads of
one process take turns under the interpreter's lock: more threads per process add switching,
not speed. Parkflow therefore runs one thread per process by default and spreads the load over
processes. gunicorn's threaded worker, though, keeps accepting connections while its threads are
busy (up to ``worker_connections``), and a kept-alive connection stays with the process that
accepted it: a burst of clients could all land on one process while the other sits idle. This
worker stops listening while all its threads are busy, so a new connection waits in the
kernel's queue for whichever process is free first, as with gunicorn's sync worker, and
kept-alive connections are still served as before.

With that single thread (the default), the loop's own thread runs each request: handing it to
a pool of one and the answer back cost a thread switch and a wake-up of the loop each way, a
third of gunicorn's own time per request. The loop also tells the arbiter it is alive once a
second rather than on every turn (a file's time is set each time).

A new connection gets FIRST_BYTES_SECONDS to send its request before its thread gives it back
to the loop (gunicorn itself waits five seconds): browsers open connections ahead of need, and
with one thread per process such a silent connection would hold the process that long.
"""

from __future__ import annotations

import time
from collections import deque
from concurrent.futures import Future
from typing import Any

from gunicorn.workers.gthread import _DEFER, ThreadWorker

# how long a thread waits for a new connection's first bytes before the loop waits instead
FIRST_BYTES_SECONDS = 0.05
# how often the loop tells the arbiter it is alive (gunicorn: on every turn)
NOTIFY_SECONDS = 1.0


class BalancedThreadWorker(ThreadWorker):  # type: ignore[misc]
    """gunicorn's ``gthread`` worker that accepts only while it has a free thread."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.requests_in_hand = 0  # handed to the thread pool and not finished yet

    def has_free_thread(self) -> bool:
        return bool(self.requests_in_hand < self.cfg.threads)

    def set_accept_enabled(self, enabled: bool) -> None:
        # the worker's loop asks for accepting whenever it has room for connections
        super().set_accept_enabled(enabled and self.has_free_thread())

    def init_process(self) -> None:
        # with one thread, the loop's own thread runs the requests (see _run_here)
        self.inline = (self.cfg.threads == 1 and "h2" not in self.cfg.http_protocols
                       and self.cfg.http2_cleartext in (None, "", "off"))
        self._queued: deque[Any] | None = None
        self._notified = 0.0
        super().init_process()

    def notify(self) -> None:
        # the loop turns once per request; the arbiter wants a sign of life within `timeout`
        now = time.monotonic()
        if now - self._notified >= NOTIFY_SECONDS:
            self._notified = now
            super().notify()

    def enqueue_req(self, conn: Any) -> None:
        self.requests_in_hand += 1
        if self.inline:
            self._run_here(conn)
            return
        super().enqueue_req(conn)
        if not self.has_free_thread():
            super().set_accept_enabled(False)

    def _run_here(self, conn: Any) -> None:
        """Run the request on the loop's thread.

        With a single thread the loop has nothing to do meanwhile (it accepts nothing while
        no thread is free), and handing the request to the pool and its answer back costs a
        thread switch and a wake-up of the loop each way. A connection whose next request
        is already read (pipelining) comes back through finish_request: it queues here
        instead of nesting one call per request.
        """
        if self._queued is not None:
            self._queued.append(conn)
            return
        self._queued = deque([conn])
        try:
            while self._queued:
                current = self._queued.popleft()
                # handle() answers every error itself; what escapes it ends the process
                done: Future[Any] = Future()
                done.set_result(self.handle(current))
                self.finish_request(current, done)
        finally:
            self._queued = None

    def handle(self, conn: Any) -> Any:
        if not conn.initialized and not conn.data_ready and not conn.wait_for_data(
                FIRST_BYTES_SECONDS):
            return _DEFER  # the loop waits for its bytes; this thread is free again
        return super().handle(conn)

    def finish_request(self, conn: Any, fs: Future[Any]) -> None:
        # runs on the worker's loop, which listens again on its next turn if it may
        self.requests_in_hand -= 1
        super().finish_request(conn, fs)
