"""One engine per park policy and one ProcessVersion per deployed definition, cached.

Both are immutable for the life of a process: a definition never changes once deployed, and a
park's engine is keyed by the settings it was built from, so a changed setting builds a new one.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict

from engine import Engine, ProcessVersion, RunLimits
from engine.calendars import ParkCalendar
from webapp.config import run_limits_from_env
from webapp.models import Park, ProcessDefinition
from webapp.services.calendars import park_calendar

_lock = threading.Lock()
# keyed by the calendar itself (zone + the park's entries): an edited day builds a new engine
_engines: OrderedDict[tuple[ParkCalendar, bool], Engine] = OrderedDict()
MAX_ENGINES = 64
_versions: OrderedDict[str, ProcessVersion] = OrderedDict()
MAX_VERSIONS = 512


def engine_for(park: Park) -> Engine:
    """The engine running this park's procedures (its calendar, its script policy)."""
    key = (park_calendar(park), bool(park.settings.get("scripts_enabled", True)))
    with _lock:
        found = _engines.get(key)
    if found is None:
        found = Engine(calendar=key[0], scripts_enabled=key[1], run_limits=run_limits())
        with _lock:
            _engines[key] = found
            while len(_engines) > MAX_ENGINES:
                _engines.popitem(last=False)
    return found


@functools.cache
def run_limits() -> RunLimits:
    """The engine's bounds, read from the environment once per process."""
    return run_limits_from_env()


def version_of(definition: ProcessDefinition) -> ProcessVersion:
    """The runnable version of a stored definition."""
    with _lock:
        found = _versions.get(definition.content_hash + definition.key)
    if found is not None:
        return found
    version = ProcessVersion.from_sources(
        definition.key, definition.bpmn_xml.encode("utf-8"), tuple(
            d.encode("utf-8") for d in definition.dmn_xml), definition.forms,
        called=tuple(c.encode("utf-8") for c in definition.called_bpmn_xml or ()))
    with _lock:
        _versions[definition.content_hash + definition.key] = version
        while len(_versions) > MAX_VERSIONS:
            _versions.popitem(last=False)
    return version

