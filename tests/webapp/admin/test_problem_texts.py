"""The modeler's checks speak the administrator's language: validate answers problems and
warnings apart, each with its code and its text in Chinese for a Chinese-speaking
administrator (the engine's English message beside it)."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask

from engine import Problem
from tests.webapp.admin.helpers import post_json
from tests.webapp.apptools import Browser
from webapp.admin.access import use_admin_catalog
from webapp.admin.problems import TEXTS, problem_json

IMPLICIT = (Path(__file__).parent / "data" / "implicit_end.bpmn").read_text(encoding="utf-8")
URL = "/admin/processes/validate"
FACT = re.compile(r"%\((\w+)\)s")
UNKNOWN_SERVICE = IMPLICIT.replace(
    '<bpmn:scriptTask id="note" name="Note" scriptFormat="python">',
    '<bpmn:serviceTask id="note" name="Note"><bpmn:extensionElements><camunda:properties>'
    '<camunda:property name="service" value="fax_machine" /></camunda:properties>'
    "</bpmn:extensionElements>",
).replace("<bpmn:script>noted = True</bpmn:script>\n    </bpmn:scriptTask>", "</bpmn:serviceTask>")


def english(admin: Browser) -> Browser:
    answer = admin.post("/language", {"locale": "en"})
    assert answer.status_code == 302
    return admin


def test_validate_answers_warnings_apart_from_problems(admin: Browser) -> None:
    answer = post_json(admin, URL, {"bpmn_xml": IMPLICIT}).get_json()
    assert answer["problems"] == []
    assert [(w["element_id"], w["code"]) for w in answer["warnings"]] == [
        ("implicit", "not_executable"),
        ("check", "task_without_people"),
    ]
    assert answer["warnings"][1]["text"] == (
        "没有泳道、办理人或候选人指明由谁办理此任务：它将交给园区管理员。"
    )
    assert "park's administrators" in answer["warnings"][1]["message"]
    assert "file" not in answer["warnings"][1]  # the modeler's own diagram needs no naming


def test_a_chinese_administrator_reads_problems_in_chinese(admin: Browser) -> None:
    answer = post_json(admin, URL, {"bpmn_xml": UNKNOWN_SERVICE}).get_json()
    (problem,) = answer["problems"]
    assert problem["code"] == "unknown_service"
    assert problem["text"].startswith("没有登记名为“fax_machine”的服务。已登记的服务：")
    assert problem["message"].startswith("no service named 'fax_machine' is registered")
    # the warnings of a diagram that cannot deploy are answered all the same
    assert [w["code"] for w in answer["warnings"]] == ["not_executable", "task_without_people"]
    no_start = IMPLICIT.replace("bpmn:startEvent", "bpmn:intermediateThrowEvent")
    (problem,) = post_json(admin, URL, {"bpmn_xml": no_start}).get_json()["problems"]
    assert problem["text"] == "process 没有开始事件，其中的一切都无法运行。"
    deployed = post_json(admin, "/admin/processes/deploy", {"bpmn_xml": UNKNOWN_SERVICE})
    assert deployed.status_code == 422
    assert deployed.get_json()["problems"][0]["text"].startswith("没有登记名为“fax_machine”")


def test_a_timer_date_without_offset_is_explained_in_chinese(admin: Browser) -> None:
    timed = IMPLICIT.replace(
        "<bpmn:incoming>f3</bpmn:incoming>",
        '<bpmn:incoming>f3</bpmn:incoming></bpmn:scriptTask><bpmn:boundaryEvent id="late" '
        'attachedToRef="check"><bpmn:timerEventDefinition id="late_timer"><bpmn:timeDate>'
        "2026-03-01T09:00:00</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:boundaryEvent>"
        '<bpmn:scriptTask id="note2" name="Note" scriptFormat="python">',
        1,
    ).replace(
        '<bpmn:scriptTask id="note2" name="Note" scriptFormat="python">\n      <bpmn:script>',
        '<bpmn:scriptTask id="note2" name="Note" scriptFormat="python"><bpmn:script>',
    )
    problems = post_json(admin, URL, {"bpmn_xml": timed}).get_json()["problems"]
    (problem,) = [p for p in problems if p["code"] == "timer_without_offset"]
    assert problem["text"] == (
        "timer timeDate“2026-03-01T09:00:00”：日期时间需要写明 UTC 偏移，如 +08:00"
        "（或只写日期，按园区时区计算）。"
    )


def test_an_english_administrator_reads_the_engines_message(admin: Browser) -> None:
    answer = post_json(english(admin), URL, {"bpmn_xml": UNKNOWN_SERVICE}).get_json()
    (problem,) = answer["problems"]
    assert problem["text"] == problem["message"]
    assert "(known: " in problem["text"]


def test_drawn_forms_are_checked_in_the_administrators_language(admin: Browser) -> None:
    content = IMPLICIT.replace(
        '<bpmn:userTask id="check" name="Check">',
        '<bpmn:userTask id="check" name="Check" camunda:candidateGroups="政策审核组">'
        '<bpmn:extensionElements><camunda:formData><camunda:formField id="amount" '
        'type="money" /></camunda:formData></bpmn:extensionElements>',
    )
    (problem,) = post_json(admin, URL, {"bpmn_xml": content}).get_json()["problems"]
    assert problem["element_id"] == "check"
    assert problem["text"] == (
        "表单字段“amount”的类型“money”不受支持：请使用 string, long, boolean, date, enum 之一。"
    )


def test_a_problem_in_another_file_names_it(app: Flask) -> None:
    with app.test_request_context(
        "/admin/processes/validate", headers={"Accept-Language": "zh-CN"}
    ):
        use_admin_catalog()
        there = problem_json(
            Problem("d1", 4, "a decision input needs an input expression", "eligibility.dmn")
        )
        here = problem_json(
            Problem(
                "t1",
                9,
                "formKey 'x' has no form",
                "diagram.bpmn",
                code="missing_form",
                params=(("key", "x"),),
            )
        )
    assert there["file"] == "eligibility.dmn" and there["text"] == there["message"]
    assert "file" not in here and here["text"] == "formKey 命名的表单“x”在本园区不存在。"


def test_every_problem_text_has_a_chinese_sentence_with_the_same_facts(app: Flask) -> None:
    with app.test_request_context("/admin/", headers={"Accept-Language": "zh-CN"}):
        use_admin_catalog()
        for code, template in TEXTS.items():
            source, text = template._args[0], str(template)
            assert text != source, code
            assert sorted(set(FACT.findall(text))) == sorted(set(FACT.findall(source))), code
