"""The administration speaks Simplified Chinese and English from its own catalog."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.checkers import python_format
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from tests.webapp.apptools import Browser, text_of

ROOT = Path(__file__).resolve().parents[3]
TRANSLATIONS = ROOT / "webapp" / "admin" / "translations"
LOCALES = ("zh_Hans_CN", "en")


def source_messages() -> set[str | tuple[str, ...]]:
    """The message ids of the administration's templates and modules, as pybabel extracts."""
    with (TRANSLATIONS / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    keywords = {**DEFAULT_KEYWORDS, "lazy_gettext": None}
    found: set[str | tuple[str, ...]] = set()
    for message in extract_from_dir(str(ROOT), method_map, options_map, keywords=keywords):
        text = message[2]
        found.add(tuple(text) if isinstance(text, tuple | list) else text)
    return {m for m in found if m}


def catalog(locale: str) -> Catalog:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return read_po(source, locale=locale)


def test_the_sources_have_messages() -> None:
    assert len(source_messages()) > 200


@pytest.mark.parametrize("locale", LOCALES)
def test_every_message_is_translated(locale: str) -> None:
    found = catalog(locale)
    translated = {m.id if isinstance(m.id, str) else tuple(m.id): m for m in found
                  if m.id and m.string and not m.fuzzy}
    missing = sorted(map(str, source_messages() - set(translated)))
    assert missing == [], f"untranslated in {locale}: {missing}"
    for message in translated.values():
        python_format(found, message)  # raises when the placeholders differ


@pytest.mark.parametrize("locale", LOCALES)
def test_the_compiled_catalog_matches_its_source(locale: str) -> None:
    with (TRANSLATIONS / locale / "LC_MESSAGES" / "messages.mo").open("rb") as compiled:
        machine = gettext.GNUTranslations(compiled)
    for message in catalog(locale):
        if message.id and isinstance(message.id, str) and message.string:
            assert machine.gettext(message.id) == message.string, (
                f"{locale}: messages.mo is stale; run pybabel compile -d webapp/admin/translations")


def test_the_pages_are_in_chinese_by_default_and_in_english_on_request(admin: Browser) -> None:
    chinese = text_of(admin.get("/admin/processes/policy_subsidy/edit"))
    assert ">流程</a>" in chinese and ">校验</button>" in chinese and ">发布</button>" in chinese
    assert "办件" in chinese  # the pages' own words come from their catalog
    admin.post("/language", {"locale": "en", "next": "/admin/forms"})
    english = text_of(admin.get("/admin/processes/policy_subsidy/edit"))
    assert ">Procedures</a>" in english and ">Validate</button>" in english
    assert "流程图已就绪" not in english
