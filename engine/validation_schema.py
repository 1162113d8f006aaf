"""XSD validation of BPMN and DMN files against the schemas SpiffWorkflow ships.

SpiffWorkflow's own validator reports only the last schema error and no element; here every
entry of the error log becomes a problem, located at the element that starts on its line.
"""

from __future__ import annotations

import functools
import re

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import XSD_PATH as BPMN_XSD
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_XSDS

from .bpmn_doc import BPMN_NS, Document, owner_id
from .errors import Problem

XSD_NS = "http://www.w3.org/2001/XMLSchema"
DMN12_NS = "http://www.omg.org/spec/DMN/20180521/MODEL/"
DMN12_DI_NS = "http://www.omg.org/spec/DMN/20180521/DMNDI/"
DMN_NAMESPACES = frozenset(DMN_XSDS)
# A garbage upload can produce thousands of schema errors; the first ones say enough.
MAX_SCHEMA_ERRORS = 100
_CLARK = re.compile(r"\{([^}]*)\}")


def check_bpmn_schema(doc: Document) -> list[Problem]:
    """Problems of a BPMN document against BPMN20.xsd; [] when it is valid."""
    root = doc.root
    if root.tag != f"{{{BPMN_NS}}}definitions":
        message = f"not a BPMN 2.0 file: its root is {root.tag}"
        return [Problem(doc.filename, root.sourceline, message)]
    renamed = _rename_retrieval_expressions(root)
    try:
        return _validate(_bpmn_schema(), doc)
    finally:
        for element, tag in renamed:
            element.tag = tag


def check_dmn_schema(doc: Document) -> list[Problem]:
    """Problems of a DMN document against the DMN XSD of its namespace."""
    root = doc.root
    namespace = etree.QName(root).namespace
    if etree.QName(root).localname != "definitions" or namespace not in DMN_NAMESPACES:
        known = ", ".join(sorted(DMN_NAMESPACES))
        return [Problem(doc.filename, root.sourceline,
                        f"not a DMN 1.1, 1.2 or 1.3 file: its root is {root.tag} (known: {known})")]
    return _validate(_dmn_schema(str(namespace)), doc)


def _validate(schema: etree.XMLSchema, doc: Document) -> list[Problem]:
    if schema.validate(doc.tree):
        return []
    by_line = _elements_by_line(doc.root)
    problems = []
    entries = list(schema.error_log)
    for entry in entries[:MAX_SCHEMA_ERRORS]:
        element = by_line.get(entry.line, doc.root)
        message = _readable(str(entry.message), element.nsmap)
        problems.append(Problem(owner_id(element), entry.line or None, message))
    if len(entries) > MAX_SCHEMA_ERRORS:
        more = len(entries) - MAX_SCHEMA_ERRORS
        problems.append(Problem(doc.filename, None, f"schema: {more} more errors not shown"))
    return problems


def _elements_by_line(root: etree._Element) -> dict[int, etree._Element]:
    found: dict[int, etree._Element] = {}
    for element in root.iter(etree.Element):
        found.setdefault(element.sourceline, element)
    return found


def _readable(message: str, nsmap: dict[str | None, str]) -> str:
    """Write ``{namespace}tag`` as ``prefix:tag`` using the prefixes in scope in the document."""
    prefixes = {uri: prefix or "" for prefix, uri in nsmap.items()}

    def shorten(match: re.Match[str]) -> str:
        prefix = prefixes.get(match.group(1))
        if prefix is None:
            return match.group(0)
        return f"{prefix}:" if prefix else ""  # the default namespace needs no prefix

    return "schema: " + _CLARK.sub(shorten, message)


def _rename_retrieval_expressions(root: etree._Element) -> list[tuple[etree._Element, str]]:
    # bpmn-js writes formalExpression where BPMN20.xsd wants messagePath; SpiffWorkflow's own
    # validator renames it before validating, and so does this one (restored afterwards).
    renamed = []
    path = f"{{{BPMN_NS}}}correlationPropertyRetrievalExpression/{{{BPMN_NS}}}formalExpression"
    for element in root.iterfind(f".//{path}"):
        renamed.append((element, element.tag))
        element.tag = f"{{{BPMN_NS}}}messagePath"
    return renamed


@functools.cache
def _bpmn_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(BPMN_XSD))


@functools.cache
def _dmn_schema(namespace: str) -> etree.XMLSchema:
    path = DMN_XSDS[namespace]
    document = etree.parse(path)
    if namespace == DMN12_NS:
        _relax_dmn12_diagram(document)
    return etree.XMLSchema(document)


def _relax_dmn12_diagram(document: etree._ElementTree) -> None:
    # The DMNDI12.xsd shipped with SpiffWorkflow declares the DI namespace instead of DMNDI, so
    # DMN12.xsd does not compile as shipped. The diagram part is accepted without checking
    # instead; the decision logic is still validated in full.
    xsd = f"{{{XSD_NS}}}"
    root = document.getroot()
    for imported in root.findall(f"{xsd}import"):
        if imported.get("namespace") == DMN12_DI_NS:
            root.remove(imported)
    for ref in root.iter(f"{xsd}element"):
        if (ref.get("ref") or "").endswith(":DMNDI"):
            lax = etree.Element(f"{xsd}any", namespace="##other", processContents="lax",
                                minOccurs="0", maxOccurs="1")
            ref.getparent().replace(ref, lax)

