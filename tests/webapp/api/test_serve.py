"""``parkflow serve`` as a real process: gunicorn answers, races resolve, SIGTERM stops it."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from tests.webapp.api.helpers import SUBSIDY_DATA
from webapp.demo import PASSWORD

PARKFLOW = [sys.executable, "-c", "from webapp.cli import main; main()"]
STARTUP_SECONDS = 60
RACERS = 10

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _environment(instance: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PARKFLOW_")}
    env["PARKFLOW_INSTANCE_PATH"] = str(instance)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[3])
    return env


def _run(env: dict[str, str], *args: str) -> None:
    done = subprocess.run([*PARKFLOW, *args], env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def _wait_until_healthy(base: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        assert server.poll() is None, "parkflow serve exited during startup"
        try:
            if requests.get(f"{base}/healthz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass  # not listening yet, or no worker booted yet
        time.sleep(0.2)
    pytest.fail("parkflow serve did not become healthy")


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A running ``parkflow serve --no-worker`` on a fresh SQLite demo database."""
    env = _environment(tmp_path / "instance")
    _run(env, "db", "upgrade")
    _run(env, "demo")
    port = _free_port()
    with (tmp_path / "serve.log").open("wb") as log:
        process = subprocess.Popen([*PARKFLOW, "serve", "--no-worker", "--port", str(port)],
                                   env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_healthy(base, process)
        yield base, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _token(base: str, username: str) -> dict[str, str]:
    response = requests.post(f"{base}/api/v1/auth/token", timeout=30,
                             json={"username": username, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def test_serve_races_and_stops_cleanly(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, process = server
    view = requests.post(f"{base}/api/v1/parks/demo/instances", headers=_token(base, "xinghe"),
                         json={"process_key": "policy_subsidy", "data": SUBSIDY_DATA},
                         timeout=30).json()
    [task_id] = [s["task_id"] for s in view["current_steps"]]
    reviewer = _token(base, "zhang.wei")
    barrier = threading.Barrier(RACERS)

    def complete(_index: int) -> int:
        barrier.wait()
        return requests.post(f"{base}/api/v1/tasks/{task_id}/complete", headers=reviewer,
                             json={"data": {"outcome": "approve"}}, timeout=60).status_code

    with ThreadPoolExecutor(max_workers=RACERS) as pool:
        outcomes = Counter(pool.map(complete, range(RACERS)))

    assert outcomes == Counter({200: 1, 409: RACERS - 1})
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0


def test_ctrl_c_stops_cleanly(server: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, process = server

    process.send_signal(signal.SIGINT)

    assert process.wait(timeout=60) == 0
    with pytest.raises(requests.ConnectionError):
        requests.get(f"{base}/healthz", timeout=2)


def test_serve_fails_when_the_port_is_taken(tmp_path: Path) -> None:
    env = _environment(tmp_path / "instance")
    _run(env, "db", "upgrade")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run([*PARKFLOW, "serve", "--no-worker", "--port", str(port)], env=env,
                              capture_output=True, text=True, timeout=120, check=False)

    assert done.returncode == 1
    assert "error: the web process stopped unexpectedly" in done.stderr


def test_serve_refuses_a_database_without_schema(tmp_path: Path) -> None:
    done = subprocess.run([*PARKFLOW, "serve", "--no-worker", "--port", str(_free_port())],
                          env=_environment(tmp_path / "instance"), capture_output=True,
                          text=True, timeout=60, check=False)

    assert done.returncode == 1
    assert "run `parkflow db upgrade`" in done.stderr


def _error_code(answer: requests.Response) -> str:
    assert answer.headers["Content-Type"].startswith("application/json"), answer.text[:200]
    code: str = answer.json()["error"]["code"]
    return code


def test_every_error_of_the_served_api_is_json(
        server: tuple[str, subprocess.Popen[bytes]]) -> None:
    base, _process = server
    token = f"{base}/api/v1/auth/token"

    absent = requests.get(f"{base}/api/v1/no-such-thing", timeout=30)
    wrong_method = requests.put(token, json={}, timeout=30)
    too_large = requests.post(token, data=b"x" * (6 * 1024 * 1024), timeout=60,
                              headers={"Content-Type": "application/json"})
    long_url = requests.get(f"{base}/api/v1/tasks?q={'x' * 8100}", timeout=30)
    # beyond gunicorn's largest request line the app never sees the request
    beyond = requests.get(f"{base}/api/v1/tasks?q={'x' * 9000}", timeout=30)

    assert (absent.status_code, _error_code(absent)) == (404, "not_found")
    assert (wrong_method.status_code, _error_code(wrong_method)) == (405, "method_not_allowed")
    assert (too_large.status_code, _error_code(too_large)) == (413, "too_large")
    assert (long_url.status_code, _error_code(long_url)) == (414, "uri_too_long")
    assert beyond.status_code in (400, 414)
