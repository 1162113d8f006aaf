"""Uploads cannot pull in other documents: XInclude and bpmn:import are refused at deploy."""

from __future__ import annotations

import pytest

from engine import InvalidProcess, prepare_deployment
from engine.xmlsafe import parse_xml
from tests.engine.bounds_diagrams import diagram
from tests.engine.test_deploy_checks import through


@pytest.mark.parametrize(
    "namespace", ["http://www.w3.org/2001/XInclude", "http://www.w3.org/2003/XInclude"]
)
def test_xinclude_is_refused(namespace: str) -> None:
    bpmn = through('<bpmn:task id="it"/>').replace(
        b'<bpmn:task id="it"/>',
        f'<bpmn:task id="it"/>\n<xi:include xmlns:xi="{namespace}" href="/etc/passwd"/>'.encode(),
    )

    with pytest.raises(InvalidProcess) as refused:
        prepare_deployment({"checks.bpmn": bpmn}, {}, {})

    (found,) = [p for p in refused.value.problems if "XInclude" in p.message]
    assert found.message == "BPMN must not contain XInclude elements"
    assert found.line == 9


def test_xinclude_is_refused_in_decisions_too() -> None:
    dmn = (
        b'<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/">'
        b'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="x.dmn"/></definitions>'
    )

    with pytest.raises(InvalidProcess, match="DMN must not contain XInclude"):
        parse_xml(dmn, what="DMN")


def test_bpmn_import_is_refused() -> None:
    bpmn = diagram(
        "checks",
        '<bpmn:import importType="http://www.omg.org/spec/BPMN/20100524/MODEL"'
        ' location="other.bpmn" namespace="urn:other"/>',
    )
    bpmn = bpmn.replace(
        b"</bpmn:definitions>",
        through('<bpmn:task id="it"/>').split(b'targetNamespace="urn:parkflow:tests">')[1],
    )

    with pytest.raises(InvalidProcess) as refused:
        prepare_deployment({"checks.bpmn": bpmn}, {}, {})

    assert any("bpmn:import is not supported" in p.message for p in refused.value.problems)
