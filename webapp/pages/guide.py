"""办事指南: what an enterprise reads beside a procedure's application form.

Everything comes from the deployed procedure, as the park wrote it:

* the overview is the process's ``bpmn:documentation``; a procedure may carry one per language
  (marked ``xml:lang="zh-CN"`` / ``"en"``, or told apart by their script), and the reader gets
  the one in their language, else the first: English is not shown to a Chinese reader when a
  Chinese text exists;
* the materials are the file fields of the start form, with their hints;
* the steps are the park's user tasks in the order the diagram lists them, with their time
  limits; the enterprise's own steps (corrections) are left out;
* the promised time is the procedure's ``promisedDuration``; fees and contact are its
  ``fees`` and ``contact`` properties (``camunda:properties`` on the process), shown when set.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cachetools import LRUCache, cached

from engine.guide_texts import GuideTexts, guide_texts
from webapp.models import Park, ProcessDefinition
from webapp.pages.forms_render import properties, widget_of
from webapp.services.engines import version_of
from webapp.services.people import waits_for_applicant

MAX_TEXTS = 256


@dataclass(frozen=True)
class GuideStep:
    """One step the park takes, with its time limit as written (e.g. 3WD)."""

    name: str
    lane: str | None
    limit: str | None


@dataclass(frozen=True)
class Guide:
    """The guide of one procedure for one reader."""

    overview: str
    materials: tuple[tuple[str, str], ...]  # (field label, its hint)
    steps: tuple[GuideStep, ...]
    promised: str | None
    fees: str | None
    contact: str | None


_texts: LRUCache[str, GuideTexts] = LRUCache(MAX_TEXTS)


def guide_of(definition: ProcessDefinition, park: Park, start_schema: Mapping[str, Any] | None,
             locale: str) -> Guide:
    """The guide of ``definition`` for a reader of ``locale`` (zh_CN or en)."""
    texts = _texts_of(definition)
    version = version_of(definition)
    steps = tuple(GuideStep(task.name, task.lane, task.due_date)
                  for task in version.human_tasks.values()
                  if not waits_for_applicant(park, task.lane, task.candidate_groups))
    materials = tuple((str(prop.get("title") or name), str(prop.get("description") or ""))
                      for name, prop in properties(start_schema or {}).items()
                      if widget_of(prop) == "file")
    return Guide(overview=choose(texts.overviews, locale), materials=materials, steps=steps,
                 promised=version.promised_duration or None,
                 fees=texts.properties.get("fees") or None,
                 contact=texts.properties.get("contact") or None)


def overview(definition: ProcessDefinition, locale: str) -> str:
    """The procedure's documentation in the reader's language (as in the guide)."""
    return choose(_texts_of(definition).overviews, locale)


def choose(texts: tuple[tuple[str, str], ...], locale: str) -> str:
    """The text in the reader's language, else the first one (empty when there is none)."""
    wanted = "zh" if locale.startswith("zh") else "en"
    return next((text for language, text in texts if language == wanted),
                texts[0][1] if texts else "")


def _texts_of(definition: ProcessDefinition) -> GuideTexts:
    return _read(f"{definition.content_hash}:{definition.key}", definition.bpmn_xml,
                 definition.key)


@cached(_texts, key=lambda key, *_: key, lock=threading.Lock())
def _read(_key: str, bpmn_xml: str, process_key: str) -> GuideTexts:
    return guide_texts(bpmn_xml, process_key)


__all__ = ["Guide", "GuideStep", "choose", "guide_of", "overview"]
