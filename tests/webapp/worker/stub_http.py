"""A local HTTP server standing in for a bank or a park system, for connector and webhook tests.

It answers each request with the next of its planned answers (then 200), records what it was
sent, and acts like a payment API that honours ``Idempotency-Key``: the first request of a key
makes a payment, a later one of the same key is answered with that payment again.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")


@dataclass
class Stub:
    """What the server received and what it answers next."""

    base: str = ""
    received: list[Received] = field(default_factory=list)
    # (status, seconds to wait before answering) per request, in order; then 200 at once
    plan: list[tuple[int, float]] = field(default_factory=list)
    payments: dict[str, dict[str, Any]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def keys(self) -> set[str]:
        """The distinct idempotency keys the server saw."""
        return {r.headers.get("Idempotency-Key", "") for r in self.received}


@contextmanager
def stub_server() -> Iterator[Stub]:
    stub = Stub()

    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with stub.lock:
                stub.received.append(Received(self.command, self.path, dict(self.headers), body))
                status, wait = stub.plan.pop(0) if stub.plan else (200, 0.0)
                key = self.headers.get("Idempotency-Key") or ""
                if status < 300 and key:
                    # the effect happens even when the answer comes too late for the caller
                    payment = stub.payments.setdefault(
                        key, {"id": f"P-{len(stub.payments) + 1}", "amount": _amount(body)}
                    )
                else:
                    payment = {"error": status}
            if wait:
                time.sleep(wait)
            answer = json.dumps(payment).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
            except OSError:
                pass  # the caller gave up waiting

        def do_GET(self) -> None:
            self._handle()

        def do_POST(self) -> None:
            self._handle()

        def do_PUT(self) -> None:
            self._handle()

        def do_DELETE(self) -> None:
            self._handle()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stub.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield stub
    finally:
        server.shutdown()
        server.server_close()


def _amount(body: bytes) -> Any:
    try:
        return json.loads(body).get("amount")
    except (ValueError, AttributeError):
        return None
