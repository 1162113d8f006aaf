"""The package's gunicorn settings spread simultaneous clients over the web processes.

gunicorn runs with ``webapp.gunicorn_conf`` (one thread per process, the balanced worker) and
a stand-in application whose requests each take a while and name the process that served them.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.webapp.serving.pid_app import PAUSE_SECONDS

WORKERS = 2
TRIALS = 3
ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _served(tmp_path: Path, workers: int, *options: str) -> Iterator[int]:
    """gunicorn with the package's config (and ``options``), serving the stand-in
    application; yields its port once every worker is up."""
    port = _free_port()
    ready = tmp_path / "ready"
    ready.mkdir()
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PARKFLOW_")},
           "PYTHONPATH": str(ROOT), "PID_APP_READY_DIR": str(ready),
           "PARKFLOW_LOG_LEVEL": "warning"}
    with (tmp_path / "gunicorn.log").open("wb") as log:
        server = subprocess.Popen(  # noqa: S603 -- gunicorn of this environment
            [sys.executable, "-m", "gunicorn", "--config", "python:webapp.gunicorn_conf",
             "--bind", f"127.0.0.1:{port}", "--workers", str(workers), *options,
             "tests.webapp.serving.pid_app:app"],
            env=env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while len(list(ready.iterdir())) < workers:
            assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
            assert time.monotonic() < deadline, "the gunicorn workers did not start"
            time.sleep(0.05)
        time.sleep(0.3)  # each has loaded the application; let it start listening
        yield port
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)


@pytest.fixture
def port(tmp_path: Path) -> Iterator[int]:
    """gunicorn with the package's config, serving the stand-in application."""
    with _served(tmp_path, WORKERS) as port:
        yield port


def _simultaneous(port: int, count: int) -> tuple[list[str], float]:
    """``count`` clients, each on its own kept-alive connection, send one request at the same
    moment; the pids that answered and how long the slowest took."""
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                   for _ in range(count)]
    for connection in connections:
        connection.connect()
    barrier = threading.Barrier(count)
    answers: list[str] = [""] * count

    def client(index: int) -> None:
        barrier.wait()
        connections[index].request("GET", "/")
        answers[index] = connections[index].getresponse().read().decode()

    began = time.monotonic()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    took = time.monotonic() - began
    for connection in connections:
        connection.close()
    return answers, took


def test_simultaneous_clients_are_served_by_different_processes(port: int) -> None:
    # a busy process does not take the connection: the free one does, so both run at once
    for _ in range(TRIALS):
        answers, took = _simultaneous(port, WORKERS)

        assert len(set(answers)) == WORKERS, answers
        assert took < 2 * PAUSE_SECONDS


def test_more_clients_than_processes_wait_for_a_free_one(port: int) -> None:
    answers, took = _simultaneous(port, 2 * WORKERS)

    # each process served two of them, one after the other
    assert sorted(answers.count(pid) for pid in set(answers)) == [2] * WORKERS
    assert took >= 2 * PAUSE_SECONDS


def test_a_silent_connection_does_not_hold_a_process(port: int) -> None:
    # browsers open connections before they need them; each process accepts one of these
    silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(WORKERS)]
    try:
        time.sleep(0.3)  # accepted, and given back to the loop

        answers, took = _simultaneous(port, WORKERS)

        assert len(set(answers)) == WORKERS, answers
        assert took < 2 * PAUSE_SECONDS
        # a silent connection that speaks at last is answered
        silent[0].sendall(b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        silent[0].settimeout(30)
        assert silent[0].recv(1024).startswith(b"HTTP/1.1 200")
    finally:
        for connection in silent:
            connection.close()


def test_requests_sent_ahead_on_one_connection_are_all_answered(port: int) -> None:
    # pipelining: the next requests are read with the first; each is answered in turn
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(b"GET / HTTP/1.1\r\nHost: test\r\n\r\n" * 2
                           + b"GET / HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n")
        connection.settimeout(30)
        received = b""
        while chunk := connection.recv(65536):
            received += chunk

    assert received.count(b"HTTP/1.1 200 OK") == 3
    pids = {part.rsplit(b"\r\n\r\n", 1)[-1][:12] for part in received.split(b"HTTP/1.1 ")[1:]}
    assert len(pids) == 1, received


def _thread_kind(port: int) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", "/thread")
        return connection.getresponse().read().decode()
    finally:
        connection.close()


def test_with_one_thread_the_listening_thread_runs_the_request(port: int) -> None:
    assert _thread_kind(port) == "main"


def test_with_more_threads_a_process_serves_that_many_at_once(tmp_path: Path) -> None:
    # the thread pool (for slow clients without a buffering proxy in front)
    with _served(tmp_path, 1, "--threads", "2") as port:
        answers, took = _simultaneous(port, 2)
        kind = _thread_kind(port)

    assert len(set(answers)) == 1
    assert took < 2 * PAUSE_SECONDS
    assert kind == "pool"
