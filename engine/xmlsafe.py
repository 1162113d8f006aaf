"""Parse uploaded XML (BPMN, DMN) without trusting it.

Diagrams come from park administrators' browsers and from files they upload, so the parser
must not fetch anything, expand entities or let a small upload grow into a huge tree. Every
refusal is an ``InvalidProcess`` with one ``Problem`` that says what was wrong and where.
"""

from __future__ import annotations

import re
from typing import NoReturn

from lxml import etree

from .errors import InvalidProcess, Problem

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 200
# lxml never processes XInclude by itself, but a tool that later calls xinclude() would
# read files or URLs named in an upload: such documents are refused outright
_XINCLUDE = ("{http://www.w3.org/2001/XInclude}*", "{http://www.w3.org/2003/XInclude}*")

# Only the declaration is stripped from text input: its encoding label would contradict the
# UTF-8 bytes handed to the parser, and lxml refuses such str input outright.
_DECLARATION = re.compile(r"^\ufeff?\s*<\?xml[^>]*\?>")
# A DOCTYPE is refused before libxml2 ever reads its declarations (the parsed tree is checked
# as well, for encodings this look misses). A CDATA section quoting "<!DOCTYPE" is refused
# too: a small price for never handing a DTD to the parser.
_DOCTYPES = tuple(
    re.compile(re.escape("<!DOCTYPE".encode(encoding)), re.IGNORECASE)
    for encoding in ("ascii", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be")
)


def parse_xml(
    content: bytes | str,
    *,
    what: str = "BPMN",
    max_bytes: int = MAX_BYTES,
    max_depth: int = MAX_DEPTH,
) -> etree._ElementTree:
    """Parse untrusted XML, refusing DOCTYPEs, entities, oversize and overly deep documents.

    ``bytes`` input may declare any encoding libxml2 knows; ``str`` input is encoded to UTF-8
    after its XML declaration is dropped. Raises ``InvalidProcess`` with a single problem.
    """
    data = _as_bytes(content)
    if len(data) > max_bytes:
        _refuse(None, f"{what} file is too large: {len(data)} bytes, at most {max_bytes}")
    for pattern in _DOCTYPES:
        match = pattern.search(data)
        if match is not None:
            _refuse(data.count(b"\n", 0, match.start()) + 1, _doctype_message(what))
    tree = _parse(data, what)
    if tree.docinfo.doctype or tree.docinfo.internalDTD is not None:
        _refuse(1, _doctype_message(what))
    _check_depth(tree.getroot(), what, max_depth)
    include = next(tree.getroot().iter(*_XINCLUDE), None)
    if include is not None:
        _refuse(include.sourceline, f"{what} must not contain XInclude elements")
    return tree


def _as_bytes(content: bytes | str) -> bytes:
    if isinstance(content, str):
        return _DECLARATION.sub("", content, count=1).encode("utf-8")
    return bytes(content)


def _parser() -> etree.XMLParser:
    # A fresh parser per call: lxml parsers must not be shared between threads.
    return etree.XMLParser(
        resolve_entities=False,
        load_dtd=False,
        dtd_validation=False,
        no_network=True,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def _parse(data: bytes, what: str) -> etree._ElementTree:
    try:
        root = etree.fromstring(data, _parser())
    except etree.XMLSyntaxError as exc:
        message = exc.msg or str(exc)
        if "Excessive depth" in message:
            _refuse(exc.lineno, f"{what} is nested too deeply")
        _refuse(exc.lineno, f"{what} is not well-formed XML: {message}")
    except ValueError as exc:
        _refuse(None, f"{what} cannot be read as XML: {exc}")
    if root is None:
        _refuse(None, f"{what} file is empty")
    return etree.ElementTree(root)


def _check_depth(root: etree._Element, what: str, max_depth: int) -> None:
    depth = 0
    for event, element in etree.iterwalk(root, events=("start", "end")):
        if event == "end":
            depth -= 1
            continue
        depth += 1
        if depth > max_depth:
            message = f"{what} is nested too deeply (more than {max_depth} levels)"
            _refuse(element.sourceline, message)


def _doctype_message(what: str) -> str:
    return f"{what} must not contain a DOCTYPE (DTDs and entities are not allowed)"


def _refuse(line: int | None, message: str) -> NoReturn:
    raise InvalidProcess([Problem("", line, message)])
