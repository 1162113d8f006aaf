"""Every string of the pages is in Simplified Chinese and English, and compiled as it reads."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.checkers import python_format
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
TRANSLATIONS = ROOT / "webapp" / "translations"
# Babel names Simplified Chinese (China) zh_Hans_CN; the pages call it zh_CN
LOCALES = ("zh_Hans_CN", "en")


def source_messages() -> set[str]:
    """The message ids the templates and page modules use, extracted as pybabel does."""
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
    return {str(message[2]) for message in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords) if message[2]}


def catalog(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=locale)


def test_the_sources_have_messages() -> None:
    assert len(source_messages()) > 150


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(locale: str) -> None:
    found = catalog(locale)
    translated = {str(m.id): m for m in found if m.id and m.string and not m.fuzzy}
    missing = sorted(source_messages() - set(translated))
    assert missing == [], f"untranslated in {locale}: {missing}"
    for message in translated.values():
        python_format(found, message)  # raises when the placeholders differ


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalog_matches_its_source(locale: str) -> None:
    folder = TRANSLATIONS / locale / "LC_MESSAGES"
    with (folder / "messages.mo").open("rb") as compiled:
        machine = gettext.GNUTranslations(compiled)
    stale = f"{locale}: messages.mo is stale; run pybabel compile -d webapp/translations"
    for message in catalog(locale):
        if not (message.id and message.string):
            continue
        if isinstance(message.id, tuple):  # singular and plural: one form, or one and many
            singular, plural = (str(text) for text in message.id)
            assert machine.ngettext(singular, plural, 1) == message.string[0], stale
            assert machine.ngettext(singular, plural, 5) == message.string[-1], stale
        elif message.context:  # the same words meaning something else where they stand
            assert machine.pgettext(message.context, str(message.id)) == message.string, stale
        else:
            assert machine.gettext(str(message.id)) == message.string, stale


def test_chinese_reads_as_chinese() -> None:
    found = catalog("zh_Hans_CN")
    assert found.get("Inbox").string == "待办"
    assert found.get("Returned for correction").string == "退回补正"
    assert found.get("Very satisfied").string == "非常满意"
