"""What a procedure tells its readers about itself in its BPMN: the process's documentation
(one per language, marked ``xml:lang`` or told apart by their script) and its
``camunda:properties`` (fees, contact and the like), for the web's 办事指南."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from lxml import etree

from .xmlsafe import parse_xml

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class GuideTexts:
    """The documentation texts of one process as (language, text), "zh" or "en", in the
    order written (whitespace folded), and its ``camunda:properties`` by name."""

    overviews: tuple[tuple[str, str], ...] = ()
    properties: Mapping[str, str] = field(default_factory=dict)


def guide_texts(bpmn_xml: str, process_key: str) -> GuideTexts:
    """The texts of the process ``process_key`` in ``bpmn_xml`` (empty when it is absent)."""
    root = parse_xml(bpmn_xml).getroot()
    process = next(
        (p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("id") == process_key), None
    )
    if process is None:
        return GuideTexts()
    overviews = tuple(
        (_language(doc), text)
        for doc in process.findall(f"{{{BPMN_NS}}}documentation")
        if (text := " ".join((doc.text or "").split()))
    )
    found = {
        str(prop.get("name")): str(prop.get("value") or "")
        for prop in process.findall(
            f"{{{BPMN_NS}}}extensionElements/{{{CAMUNDA_NS}}}properties/{{{CAMUNDA_NS}}}property"
        )
        if prop.get("name")
    }
    return GuideTexts(overviews, found)


def _language(doc: etree._Element) -> str:
    marked = str(doc.get(XML_LANG) or "").lower()
    if marked:
        return "zh" if marked.startswith("zh") else "en"
    return "zh" if _CJK.search(doc.text or "") else "en"


__all__ = ["GuideTexts", "guide_texts"]
