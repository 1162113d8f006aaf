"""Chinese texts use Chinese punctuation: no ASCII : , ( ) ? ! ; beside a Chinese character."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
CATALOGS = [ROOT / "webapp" / "translations", ROOT / "webapp" / "admin" / "translations"]
CJK = r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef]"
ASCII_BESIDE_CJK = re.compile(rf"{CJK}\s?[:,()?!;]|[:,()?!;]\s?{CJK}")
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]|%[sd]")


def ascii_punctuation(text: str) -> bool:
    """Whether ``text`` puts ASCII punctuation beside a Chinese character (placeholders aside:
    what they stand for may be Chinese or not, so they count as neither)."""
    return ASCII_BESIDE_CJK.search(PLACEHOLDER.sub("\0", text)) is not None


def test_the_check_sees_what_it_looks_for() -> None:
    assert ascii_punctuation("企业名称:此项为必填项")
    assert ascii_punctuation("补正事项(一次性)")
    assert ascii_punctuation("确定提交吗?")
    assert not ascii_punctuation("企业名称：此项为必填项")
    assert not ascii_punctuation("%(field)s：%(problem)s")
    assert not ascii_punctuation("PDF、Word（.docx）和 Excel")
    assert not ascii_punctuation("Word (.docx), Excel: 10 MB")


@pytest.mark.parametrize("folder", CATALOGS, ids=["pages", "admin"])
def test_the_chinese_catalogues_use_full_width_punctuation(folder: Path) -> None:
    path = folder / "zh_Hans_CN" / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        catalog = read_po(source, locale="zh_Hans_CN")
    found = []
    for message in catalog:
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        found += [text for text in strings if text and ascii_punctuation(str(text))]
    assert found == [], f"ASCII punctuation in Chinese texts of {path.relative_to(ROOT)}"
