"""File sizes as people read them."""

from __future__ import annotations

import pytest

from webapp.pages.i18n import file_size


@pytest.mark.parametrize(
    ("count", "shown"),
    [
        (0, "0 KB"),
        (1, "0.1 KB"),  # a file is never shown as nothing
        (307, "0.3 KB"),
        (1536, "1.5 KB"),
        (500 * 1024, "500 KB"),
        (1024 * 1024, "1 MB"),
        (int(1.5 * 1024 * 1024), "1.5 MB"),
        (11 * 1024 * 1024, "11 MB"),
    ],
)
def test_sizes_in_kb_and_mb(count: int, shown: str) -> None:
    assert file_size(count, "zh_CN") == shown
    assert file_size(count, "en") == shown
