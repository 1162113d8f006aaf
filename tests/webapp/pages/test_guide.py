"""办事指南 beside the application form: the park's own words, in the reader's language."""

from __future__ import annotations

import re
from collections.abc import Callable

from forms import load_forms
from tests.webapp.apptools import Browser, text_of
from tests.webapp.fixtures import PROCESSES
from webapp.db import Database
from webapp.services.accounts import get_park
from webapp.services.processes import deploy

OpenBrowser = Callable[..., Browser]
ENGLISH = "<bpmn:documentation>Policy subsidy application, the park's flagship procedure."
CHINESE = "政策扶持资金申请是园区的重点服务事项。企业按政策条目申报，上传申报材料。"
SHIPPED_CHINESE = "政策扶持资金申请：园区的重点服务事项。"
PROPERTIES = '<camunda:property name="promisedDuration" value="20WD"/>'


def redeploy(db: Database, *changes: tuple[str, str]) -> None:
    """Deploy the shipped procedures with the subsidy diagram's texts replaced."""
    bpmn = {path.name: path.read_bytes() for path in sorted(PROCESSES.glob("*.bpmn"))}
    for old, new in changes:
        assert old.encode() in bpmn["policy_subsidy.bpmn"]
        bpmn["policy_subsidy.bpmn"] = bpmn["policy_subsidy.bpmn"].replace(
            old.encode(), new.encode()
        )
    dmn = {path.name: path.read_bytes() for path in sorted(PROCESSES.glob("*.dmn"))}
    with db.write() as session:
        deploy(
            session,
            park=get_park(session, "demo"),
            actor="admin",
            bpmn=bpmn,
            dmn=dmn,
            forms=load_forms(),
        )


def guide(html: str) -> str:
    found = re.search(r'<aside class="card guide".*?</aside>', html, re.S)
    assert found is not None, "no guide beside the form"
    return found.group(0)


def test_the_guide_tells_materials_steps_and_promise(parks: Database, browser: OpenBrowser) -> None:
    shown = guide(text_of(browser("xinghe").get("/applications/new/policy_subsidy")))
    assert "办事指南" in shown
    assert "申报材料" in shown and "营业执照、资质证书" in shown  # the start form's file field
    steps = re.findall(r"<li>(.*?)</li>", shown.split('class="guide-steps"')[1], re.S)
    assert steps[0].startswith("初审") and "政策审核组" in steps[0] and "3 个工作日" in steps[0]
    assert not any(step.startswith("补正材料") for step in steps)  # the enterprise's own step
    assert "20 个工作日（不含企业补正时间）" in shown
    # the shipped procedure says it in both languages: a Chinese reader gets the Chinese
    assert SHIPPED_CHINESE in shown and "flagship procedure" not in shown
    assert "收费标准" not in shown  # no fees written, none told


def test_a_chinese_reader_gets_the_english_text_when_no_other_was_written(
    parks: Database, browser: OpenBrowser
) -> None:
    shipped = (PROCESSES / "policy_subsidy.bpmn").read_text(encoding="utf-8")
    chinese = re.search(f"<bpmn:documentation>{SHIPPED_CHINESE}.*?</bpmn:documentation>", shipped)
    assert chinese is not None
    redeploy(parks, (chinese.group(0), ""))
    shown = guide(text_of(browser("xinghe").get("/applications/new/policy_subsidy")))
    assert "the park&#39;s flagship procedure" in shown or "the park's flagship" in shown


def test_a_chinese_text_is_preferred_for_a_chinese_reader(
    parks: Database, browser: OpenBrowser
) -> None:
    redeploy(
        parks,
        (ENGLISH, f"<bpmn:documentation>{CHINESE}</bpmn:documentation>\n    {ENGLISH}"),
        (
            PROPERTIES,
            PROPERTIES
            + '<camunda:property name="fees" value="不收费"/>'
            + '<camunda:property name="contact" value="园区企业服务中心 0512-66880000"/>',
        ),
    )
    enterprise = browser("xinghe")
    chinese = guide(text_of(enterprise.get("/applications/new/policy_subsidy")))
    assert CHINESE in chinese and "flagship procedure" not in chinese
    assert "不收费" in chinese and "园区企业服务中心 0512-66880000" in chinese
    catalogue = text_of(enterprise.get("/applications"))  # the catalogue tells the same
    assert CHINESE[:20] in catalogue and "flagship procedure" not in catalogue
    enterprise.post("/language", {"locale": "en"})
    english = guide(text_of(enterprise.get("/applications/new/policy_subsidy")))
    assert "Guide" in english and "Fees" in english and "flagship procedure" in english
    assert CHINESE not in english
    assert "flagship procedure" in text_of(enterprise.get("/applications"))

