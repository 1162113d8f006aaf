"""Report what the external diagrams came to, as the closing note of a run quotes it."""

from __future__ import annotations

import sys

import pytest

ORDER = (
    "files",
    "processes run",
    "identical",
    "translated on purpose",
    "refused on purpose",
    "gaps",
    "raw cannot parse",
    "raw refuses, Parkflow runs",
    "different",
)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    # the module keeps its counts while it runs; it is absent when not collected
    module = sys.modules.get("tests.conformance.test_external")
    counts = getattr(module, "COUNTS", None)
    if counts:
        line = ", ".join(f"{name}: {counts.get(name, 0)}" for name in ORDER)
        terminalreporter.write_line(f"external diagrams — {line}")
