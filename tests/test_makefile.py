"""The interpreter `make` builds .venv from, as README says: the system's Python 3.11+ where
it can make virtual environments, else python3 on the PATH, or the one PYTHON names."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def venv_command(tmp_path: Path, *assignments: str, python: str | None = None) -> str:
    """The command `make` would run first to create .venv in a fresh folder (``python``:
    PYTHON in the environment)."""
    shutil.copy(ROOT / "Makefile", tmp_path / "Makefile")
    # not what an outer make (make test) or the shell passes down
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHON", "MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    if python is not None:
        env["PYTHON"] = python
    done = subprocess.run(["make", "-n", ".venv/bin/python", *assignments],  # noqa: S603, S607
                          cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    return done.stdout.splitlines()[0]


def fake_python(tmp_path: Path, version: tuple[int, int]) -> Path:
    """An executable that answers the Makefile's question as a Python of ``version`` would."""
    script = tmp_path / f"python{version[0]}.{version[1]}"
    script.write_text(f"#!/bin/sh\nexec {sys.executable} -c "
                      f"'import sys; sys.exit({version} < (3, 11))'\n")
    script.chmod(0o755)
    return script


def test_a_recent_system_python_is_preferred(tmp_path: Path) -> None:
    system = fake_python(tmp_path, (3, 12))
    assert venv_command(tmp_path, f"SYSTEM_PYTHON={system}") == f"{system} -m venv .venv"


def test_an_old_or_missing_system_python_leaves_python3_on_the_path(tmp_path: Path) -> None:
    old = fake_python(tmp_path, (3, 9))
    assert venv_command(tmp_path, f"SYSTEM_PYTHON={old}") == "python3 -m venv .venv"
    missing = tmp_path / "no-such-python"
    assert venv_command(tmp_path, f"SYSTEM_PYTHON={missing}") == "python3 -m venv .venv"


def test_python_chooses_the_interpreter(tmp_path: Path) -> None:
    system = fake_python(tmp_path, (3, 12))
    assert venv_command(tmp_path, f"SYSTEM_PYTHON={system}", "PYTHON=/opt/py/bin/python3") == (
        "/opt/py/bin/python3 -m venv .venv")
    # from the environment too
    assert venv_command(tmp_path, f"SYSTEM_PYTHON={system}", python="/opt/py/bin/python3") == (
        "/opt/py/bin/python3 -m venv .venv")


def test_run_and_test_install_what_printing_needs() -> None:
    # README: the 审批单 is laid out by Pango with the Noto CJK fonts, which make run and make
    # test install where they are missing
    rules = {line.split(":")[0]: line for line in (ROOT / "Makefile").read_text().splitlines()
             if line and not line[0].isspace() and ":" in line and "=" not in line}
    assert "printing" in rules["run"].split(":", 1)[1].split()
    assert "printing" in rules["test"].split(":", 1)[1].split()
    recipe = subprocess.run(["make", "-n", "printing"], cwd=ROOT,  # noqa: S603, S607
                            capture_output=True, text=True, check=True).stdout
    assert "libpangoft2-1.0-0" in recipe and "fonts-noto-cjk" in recipe
