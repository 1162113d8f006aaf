"""Deploy-time validation: safe XML parsing and every check category, with exact locations."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.errors import InvalidProcess, Problem
from engine.validation import SourceSet, check_sources, human_task_specs, validate_sources
from engine.xmlsafe import MAX_DEPTH, parse_xml

BROKEN = Path(__file__).parent / "data" / "broken"
FORM: dict[str, Any] = {"type": "object", "properties": {"approved": {"type": "boolean"}}}
FORMS = {"apply": FORM, "review": FORM}

VALID_BPMN = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
                  xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
                  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC"
                  xmlns:di="http://www.omg.org/spec/DD/20100524/DI"
                  xmlns:modeler="http://camunda.org/schema/modeler/1.0"
                  id="defs" targetNamespace="http://parkflow.example/test"
                  exporter="Camunda Modeler" exporterVersion="5.20.0"
                  modeler:executionPlatform="Camunda Platform"
                  modeler:executionPlatformVersion="7.20.0">
  <bpmn:collaboration id="collab">
    <bpmn:participant id="park" name="Park" processRef="subsidy" />
  </bpmn:collaboration>
  <bpmn:process id="subsidy" name="Subsidy" isExecutable="true" camunda:versionTag="1">
    <bpmn:extensionElements>
      <camunda:properties>
        <camunda:property name="promisedDuration" value="10WD" />
      </camunda:properties>
    </bpmn:extensionElements>
    <bpmn:laneSet id="lanes">
      <bpmn:lane id="lane_review" name="reviewers">
        <bpmn:flowNodeRef>start</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>review</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>decide</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>gateway</bpmn:flowNodeRef>
      </bpmn:lane>
      <bpmn:lane id="lane_director" name="directors">
        <bpmn:flowNodeRef>approve</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>notice</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>granted</bpmn:flowNodeRef>
        <bpmn:flowNodeRef>refused</bpmn:flowNodeRef>
      </bpmn:lane>
    </bpmn:laneSet>
    <bpmn:startEvent id="start" camunda:formKey="apply" camunda:initiator="applicant">
      <bpmn:outgoing>f_start</bpmn:outgoing>
    </bpmn:startEvent>
    <bpmn:userTask id="review" name="Preliminary review" camunda:formKey="review"
                   camunda:dueDate="3WD" camunda:priority="50">
      <bpmn:extensionElements>
        <camunda:properties>
          <camunda:property name="outcome" value="approved" />
        </camunda:properties>
      </bpmn:extensionElements>
      <bpmn:incoming>f_start</bpmn:incoming>
      <bpmn:outgoing>f_review</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:businessRuleTask id="decide" name="Eligibility" camunda:decisionRef="eligibility">
      <bpmn:incoming>f_review</bpmn:incoming>
      <bpmn:outgoing>f_decide</bpmn:outgoing>
    </bpmn:businessRuleTask>
    <bpmn:exclusiveGateway id="gateway" default="f_refused">
      <bpmn:incoming>f_decide</bpmn:incoming>
      <bpmn:outgoing>f_big</bpmn:outgoing>
      <bpmn:outgoing>f_small</bpmn:outgoing>
      <bpmn:outgoing>f_refused</bpmn:outgoing>
    </bpmn:exclusiveGateway>
    <bpmn:userTask id="approve" name="Director approval"
                   camunda:candidateGroups=" directors , leaders " camunda:dueDate="P2D">
      <bpmn:incoming>f_big</bpmn:incoming>
      <bpmn:outgoing>f_approve</bpmn:outgoing>
    </bpmn:userTask>
    <bpmn:intermediateCatchEvent id="notice" name="Public notice">
      <bpmn:incoming>f_small</bpmn:incoming>
      <bpmn:incoming>f_approve</bpmn:incoming>
      <bpmn:outgoing>f_notice</bpmn:outgoing>
      <bpmn:timerEventDefinition id="notice_timer">
        <bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT48H</bpmn:timeDuration>
      </bpmn:timerEventDefinition>
    </bpmn:intermediateCatchEvent>
    <bpmn:endEvent id="granted">
      <bpmn:incoming>f_notice</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:endEvent id="refused">
      <bpmn:incoming>f_refused</bpmn:incoming>
    </bpmn:endEvent>
    <bpmn:sequenceFlow id="f_start" sourceRef="start" targetRef="review" />
    <bpmn:sequenceFlow id="f_review" sourceRef="review" targetRef="decide" />
    <bpmn:sequenceFlow id="f_decide" sourceRef="decide" targetRef="gateway" />
    <bpmn:sequenceFlow id="f_big" sourceRef="gateway" targetRef="approve">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">${eligible &amp;&amp; amount &gt; 100000}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_small" sourceRef="gateway" targetRef="notice">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">eligible and amount &lt;= 100000</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="f_refused" sourceRef="gateway" targetRef="refused" />
    <bpmn:sequenceFlow id="f_approve" sourceRef="approve" targetRef="notice" />
    <bpmn:sequenceFlow id="f_notice" sourceRef="notice" targetRef="granted" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram">
    <bpmndi:BPMNPlane id="plane" bpmnElement="collab">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start">
        <dc:Bounds x="180" y="100" width="36" height="36" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="review_di" bpmnElement="review">
        <dc:Bounds x="270" y="78" width="100" height="80" />
      </bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="f_start_di" bpmnElement="f_start">
        <di:waypoint x="216" y="118" />
        <di:waypoint x="270" y="118" />
      </bpmndi:BPMNEdge>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>
"""  # noqa: E501 - conditions are kept on one line as modelers write them

VALID_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="{ns}" xmlns:camunda="http://camunda.org/schema/1.0/dmn"
             id="eligibility_defs" name="Eligibility" namespace="http://parkflow.example/test">
  <decision id="eligibility" name="Eligibility" camunda:versionTag="1">
    <decisionTable id="eligibility_table" hitPolicy="FIRST">
      <input id="in_amount" label="Amount">
        <inputExpression id="in_amount_expr" typeRef="number"><text>amount</text></inputExpression>
      </input>
      <input id="in_kind" label="Kind">
        <inputExpression id="in_kind_expr" typeRef="string"><text>kind</text></inputExpression>
      </input>
      <output id="out_eligible" name="eligible" typeRef="boolean" />
      <rule id="rule_tech">
        <inputEntry id="rule_tech_amount"><text>&gt;= 1000</text></inputEntry>
        <inputEntry id="rule_tech_kind"><text>? in ("tech", "green")</text></inputEntry>
        <outputEntry id="rule_tech_out"><text>True</text></outputEntry>
      </rule>
      <rule id="rule_other">
        <inputEntry id="rule_other_amount"><text>-</text></inputEntry>
        <inputEntry id="rule_other_kind"><text>"retail"</text></inputEntry>
        <outputEntry id="rule_other_out"><text>False</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>{di}
</definitions>
"""
DMNDI13 = """
  <dmndi:DMNDI xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/"
               xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/">
    <dmndi:DMNDiagram id="dmn_diagram">
      <dmndi:DMNShape id="eligibility_di" dmnElementRef="eligibility">
        <dc:Bounds height="80" width="180" x="160" y="100" />
      </dmndi:DMNShape>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>"""
DMN13 = "https://www.omg.org/spec/DMN/20191111/MODEL/"
DMN_NAMESPACES = [
    "http://www.omg.org/spec/DMN/20151101/dmn.xsd",
    "http://www.omg.org/spec/DMN/20180521/MODEL/",
    DMN13,
]


def dmn(ns: str = DMN13) -> bytes:
    # the diagram part as the Camunda Modeler writes it, for the one version it writes
    return VALID_DMN.replace("{ns}", ns).replace("{di}", DMNDI13 if ns == DMN13 else "").encode()


def mutate(text: str, old: str, new: str) -> bytes:
    assert old in text, old
    return text.replace(old, new, 1).encode()


def validate(
    bpmn: bytes | None = None,
    *,
    dmn_files: dict[str, bytes] | None = None,
    forms: dict[str, Any] | None = None,
) -> list[Problem]:
    return validate_sources(SourceSet(
        bpmn={"process.bpmn": bpmn if bpmn is not None else VALID_BPMN.encode()},
        dmn=dmn_files if dmn_files is not None else {"eligibility.dmn": dmn()},
        forms=forms if forms is not None else FORMS,
    ))


def broken(name: str, **kwargs: Any) -> list[Problem]:
    return validate((BROKEN / name).read_bytes(), **kwargs)


def line_of(name: str, fragment: str) -> int:
    return text_line((BROKEN / name).read_text(), fragment)


def text_line(content: str, fragment: str) -> int:
    lines = content.splitlines()
    return next(number for number, text in enumerate(lines, 1) if fragment in text)


def assert_reported(problems: list[Problem], element_id: str, fragment: str,
                    line: int | None = None) -> None:
    matches = [p for p in problems if p.element_id == element_id and fragment in p.message]
    listing = "\n".join(map(str, problems))
    assert matches, f"no problem {element_id!r} ~ {fragment!r} in:\n{listing}"
    if line is not None:
        assert line in {p.line for p in matches}, matches


def refusal(content: bytes | str, **kwargs: Any) -> Problem:
    with pytest.raises(InvalidProcess) as caught:
        parse_xml(content, **kwargs)
    assert len(caught.value.problems) == 1
    return caught.value.problems[0]


# --- the valid diagram ------------------------------------------------------------------------

def test_valid_deployment_has_no_problem() -> None:
    assert validate() == []


@pytest.mark.parametrize("ns", DMN_NAMESPACES)
def test_each_supported_dmn_version_validates(ns: str) -> None:
    assert validate(dmn_files={"eligibility.dmn": dmn(ns)}) == []


@pytest.mark.parametrize("ns", DMN_NAMESPACES)
def test_dmn_is_checked_against_the_xsd_of_its_namespace(ns: str) -> None:
    content = dmn(ns).replace(b'<output id="out_eligible"', b'<outputt id="out_eligible"')
    problems = validate(dmn_files={"eligibility.dmn": content})
    assert_reported(problems, "out_eligible", "schema: ")


def test_dmn_of_an_unknown_version_is_refused() -> None:
    content = dmn("https://www.omg.org/spec/DMN/20211108/MODEL/")
    problems = validate(dmn_files={"new.dmn": content})
    assert_reported(problems, "new.dmn", "not a DMN 1.1, 1.2 or 1.3")


def test_problem_prints_as_id_line_message() -> None:
    problems = broken("references.bpmn")
    assert str(problems[0]).startswith("f8:")
    assert str(Problem("", None, "no executable process")) == "-:-: no executable process"
    assert str(Problem("t", 3, "bad", "a.bpmn")) == "t:3: bad (in a.bpmn)"
    assert Problem("t", 3, "no lane").as_warning() == "t:3: warning: no lane"


# --- all problems at once -----------------------------------------------------------------------

def test_many_problems_are_all_reported_with_their_elements() -> None:
    problems = broken("many_problems.bpmn")
    name = "many_problems.bpmn"
    assert_reported(problems, "f_wait", "targetRef 'nowhere' does not exist",
                    line_of(name, "f_wait"))
    assert_reported(problems, "pay", "camunda:class is not supported", line_of(name, 'id="pay"'))
    assert_reported(problems, "pay", "property 'service'")
    assert_reported(problems, "f_bad", "condition '${amount >}': syntax error")
    assert_reported(problems, "wait", "timer timeDuration 'P1W2D'", line_of(name, "P1W2D"))
    assert_reported(problems, "check", "formKey 'missing_form' has no form")
    assert_reported(problems, "check", "camunda:fooBar is not supported")
    assert len(problems) == 7


# --- XML safety ---------------------------------------------------------------------------------

def test_malformed_xml_reports_its_line() -> None:
    problem = refusal(b"<a>\n<b>\n</a>\n")
    assert problem.line == 3
    assert "not well-formed" in problem.message


def test_malformed_file_is_named_and_other_files_still_checked() -> None:
    problems = validate_sources(SourceSet(
        bpmn={"bad.bpmn": b"<definitions>\n<a></b>\n</definitions>",
              "good.bpmn": VALID_BPMN.encode()},
        dmn={"eligibility.dmn": dmn()}, forms={"apply": FORM},
    ))
    assert_reported(problems, "bad.bpmn", "not well-formed", 2)
    assert_reported(problems, "review", "formKey 'review' has no form")


def test_external_entity_is_refused_without_reading_the_file() -> None:
    xxe = (b'<?xml version="1.0"?>\n<!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]>\n'
           b"<d>&x;</d>")
    problem = refusal(xxe)
    assert "DOCTYPE" in problem.message
    assert problem.line == 2
    assert "root:" not in str(problem)


def test_billion_laughs_is_refused() -> None:
    entities = "".join(
        f'<!ENTITY l{i} "{("&l" + str(i - 1) + ";") * 10}">' for i in range(1, 10))
    bomb = f'<?xml version="1.0"?><!DOCTYPE b [<!ENTITY l0 "lol">{entities}]><b>&l9;</b>'
    assert "DOCTYPE" in refusal(bomb.encode()).message


def test_doctype_without_entities_is_refused_in_any_encoding() -> None:
    assert "DOCTYPE" in refusal(b'<!DOCTYPE html SYSTEM "http://example.org/x.dtd"><html/>').message
    utf16 = '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE a><a/>'.encode("utf-16")
    assert "DOCTYPE" in refusal(utf16).message


def test_oversize_file_is_refused_before_parsing() -> None:
    problem = refusal(b"<a>" + b" " * 2000 + b"</a>", max_bytes=1000)
    assert "too large" in problem.message
    assert "too large" in refusal(b"<a>" + b" " * (5 * 1024 * 1024) + b"</a>").message


def test_too_deep_nesting_is_refused() -> None:
    depth = MAX_DEPTH + 1
    problem = refusal("<a>\n" * depth + "</a>" * depth)
    assert "nested too deeply" in problem.message
    assert problem.line == depth
    assert "nested too deeply" in refusal("<a>" * 10_000 + "</a>" * 10_000).message
    parse_xml("<a>" * MAX_DEPTH + "</a>" * MAX_DEPTH)


def test_declared_encoding_and_text_input_are_honoured() -> None:
    gbk = '<?xml version="1.0" encoding="GBK"?><a name="政策"/>'.encode("gbk")
    assert parse_xml(gbk).getroot().get("name") == "政策"
    text = '<?xml version="1.0" encoding="GBK"?>\n<a name="资金"/>'
    tree = parse_xml(text)
    assert tree.getroot().get("name") == "资金"
    assert tree.getroot().sourceline == 2


def test_comments_are_dropped_but_lines_kept() -> None:
    root = parse_xml(b"<a>\n<!-- note -->\n<b>x = 1<!-- c -->\ny = 2</b></a>").getroot()
    assert root[0].sourceline == 3
    assert root[0].text == "x = 1\ny = 2"


# --- one test per check category ----------------------------------------------------------------

def test_xsd_errors_are_all_reported_at_their_elements() -> None:
    problems = broken("schema.bpmn")
    assert_reported(problems, "typos", "'maybe' is not a valid value", 4)
    assert_reported(problems, "typo_task", "bpmn:userTaskk': This element is not expected", 6)


def test_no_executable_process() -> None:
    assert broken("no_executable.bpmn") == [Problem("sketch", 4, "no executable process",
                                                    "process.bpmn")]


def test_dangling_references() -> None:
    problems = broken("references.bpmn")
    assert_reported(problems, "f8", "sourceRef 'ghost_source' does not exist")
    assert_reported(problems, "task", "incoming lists unknown sequence flow 'f_ghost'", 13)
    assert_reported(problems, "boundary", "attachedToRef 'ghost_task'")
    assert_reported(problems, "lonely", "default flow 'ghost_flow'")
    assert_reported(problems, "lonely", "has no incoming sequence flow")
    assert_reported(problems, "lonely", "has no outgoing sequence flow")
    assert_reported(problems, "wait_bank", "messageRef 'ghost_message'")
    assert_reported(problems, "fail", "errorRef 'ghost_error'")
    assert_reported(problems, "escalate", "escalationRef 'ghost_escalation'")
    assert_reported(problems, "signal", "signalRef 'ghost_signal'")
    assert_reported(problems, "call", "calledElement 'ghost_process' is not a process")
    assert_reported(problems, "lane", "unknown flow node 'ghost_node'", 8)
    assert len(problems) == 12


def test_flow_crossing_into_a_subprocess_is_refused() -> None:
    content = mutate(VALID_BPMN, 'targetRef="granted" />',
                     'targetRef="inner" />\n<bpmn:subProcess id="sub">'
                     '<bpmn:startEvent id="inner" /></bpmn:subProcess>')
    problems = validate(content)
    assert_reported(problems, "f_notice", "targetRef 'inner' is outside this process")


def test_unsupported_camunda_extensions() -> None:
    problems = broken("unsupported_camunda.bpmn")
    expected = {
        ("camunda_things", "camunda:candidateStarterGroups"),
        ("java_class", "camunda:class"), ("java_delegate", "camunda:delegateExpression"),
        ("java_expression", "camunda:expression is not supported on a serviceTask"),
        ("no_service", "property 'service'"), ("connector", "camunda:connector"),
        ("listened", "camunda:executionListener with a Java class"),
        ("listened", "camunda:taskListener with a Java class"),
        ("listened", "camunda:inputParameter 'x': only a text"),
        ("listened", "has type 'bytes', which is not supported"),
        ("decide", "camunda:resultVariable"),
        ("foreign", "flowable:candidateGroups"), ("foreign", "zeebe:assignmentDefinition"),
    }
    for element_id, fragment in expected:
        assert_reported(problems, element_id, fragment)
    # async flags are harmless; a registered service or an external worker is how service
    # tasks work
    assert not [p for p in problems if p.element_id in {"start", "registered", "external"}]


def test_unsupported_constructs() -> None:
    problems = broken("unsupported_constructs.bpmn")
    for element_id, fragment in [
        ("complex", "complex gateways"), ("adhoc", "ad-hoc subprocesses"),
        ("compensate", "compensation"), ("undo", "compensation"),
        ("jump", "link events"), ("land", "link events"),
        ("js", "scriptFormat 'javascript'"), ("race", "one timer only"),
    ]:
        assert_reported(problems, element_id, fragment)
    assert not [p for p in problems if p.element_id == "js" and "script line" in p.message]
    # a caught condition and a send task with its message run as SpiffWorkflow runs them
    assert not [p for p in problems if p.element_id in {"when_ready", "send"}]


def test_expressions_that_do_not_compile() -> None:
    problems = broken("expressions.bpmn")
    for element_id, fragment in [
        ("f_start", "a condition on a flow from a startEvent is not supported"),
        ("f_juel", "condition '${amount > && urgent}': syntax error"),
        ("f_python", "condition 'amount > = 5': syntax error"),
        ("f_unknown", "unknown function risk_score()"),
        ("wait_duration", "timer timeDuration 'P1W2D'"),
        ("wait_date", "timer timeDate 'deadline +'"),
        ("wait_cycle", "a duration value does not fit here"),
        ("fill", "camunda:dueDate '5XD'"), ("fill", "camunda:followUpDate"),
        ("fill", "camunda:priority 'high +'"),
        ("each", "camunda:collection 'items['"), ("each", "elementVariable 'an item'"),
        ("each", "completionCondition 'done =='"),
    ]:
        assert_reported(problems, element_id, fragment)
    assert len(problems) == 14


def test_script_problem_points_at_the_script_line() -> None:
    problems = broken("expressions.bpmn")
    line = line_of("expressions.bpmn", "ratio = = total")
    assert_reported(problems, "compute", "script line 3: ", line)


def test_forbidden_script_statement_is_located_in_the_file() -> None:
    content = mutate(VALID_BPMN, '<bpmn:businessRuleTask id="decide" name="Eligibility" '
                                 'camunda:decisionRef="eligibility">',
                     '<bpmn:scriptTask id="decide" name="Eligibility">')
    script = (b"<bpmn:script>eligible = amount &gt; 1000\nimport os</bpmn:script>"
              b"</bpmn:scriptTask>")
    content = content.replace(b"</bpmn:businessRuleTask>", script)
    problems = validate(content)
    line = text_line(content.decode(), "<bpmn:script>") + 1
    assert problems == [Problem("decide", line, "script line 2: import is not allowed",
                                "process.bpmn")]


def test_message_payload_and_correlation_expressions() -> None:
    problems = broken("messages.bpmn")
    # bpmn-js writes formalExpression where the XSD wants messagePath: accepted, then compiled
    assert [p.element_id for p in problems] == ["tell_bank", "application_no"]
    assert_reported(problems, "tell_bank", "message payload")
    assert_reported(problems, "application_no", "correlation expression 'reference =='", 8)


def test_promised_duration_must_be_a_time_value() -> None:
    content = mutate(VALID_BPMN, 'value="10WD"', 'value="10 days"')
    assert_reported(validate(content), "subsidy", "promisedDuration '10 days'")


def test_condition_on_default_flow_is_refused() -> None:
    content = mutate(VALID_BPMN, '<bpmn:sequenceFlow id="f_refused" sourceRef="gateway" '
                                 'targetRef="refused" />',
                     '<bpmn:sequenceFlow id="f_refused" sourceRef="gateway" targetRef="refused">'
                     "<bpmn:conditionExpression>True</bpmn:conditionExpression>"
                     "</bpmn:sequenceFlow>")
    assert_reported(validate(content), "f_refused", "default flow of a gateway")


def test_gateway_flow_without_condition_is_refused() -> None:
    content = mutate(VALID_BPMN, 'default="f_refused"', "")
    assert_reported(validate(content), "f_refused", "needs a condition")


def test_forms_must_exist_and_be_object_schemas() -> None:
    forms = {
        "apply": FORM,
        "unused_broken": {"type": "object", "properties": {"a": {"type": "nonsense"}}},
        "not_object": {"type": "array"},
        "not_a_schema": ["type", "object"],
    }
    problems = validate(forms=forms)
    assert_reported(problems, "review", "formKey 'review' has no form")
    assert_reported(problems, "unused_broken", "not a valid JSON Schema at properties/a/type")
    assert_reported(problems, "not_object", '"type": "object"')
    assert_reported(problems, "not_a_schema", "not a JSON Schema object")
    assert all(p.line is None for p in problems if p.element_id != "review")
    assert len(problems) == 4


def test_decision_refs_must_name_a_deployed_decision() -> None:
    problems = broken("decision_ref.bpmn", dmn_files={"eligibility.dmn": dmn()})
    assert_reported(problems, "unknown_decision", "decisionRef 'no_such_decision' has no DMN")
    assert_reported(problems, "no_decision", "has no camunda:decisionRef")


def test_what_the_decision_engine_cannot_take_is_refused_with_the_element_id() -> None:
    content = (BROKEN / "unsupported_decisions.dmn").read_bytes()
    problems = validate(dmn_files={"eligibility.dmn": dmn(), "unsupported.dmn": content})
    for element_id, fragment in [
        ("rule_empty_operand", "cell '>=': the expression is empty"),
        ("rule_open_range", "cell '[1..]'"),
        ("rule_attribute", "attribute access is not allowed"),
        ("grade", "required decision '#no_such_decision' is not deployed"),
        ("grade_table", "an aggregation belongs to hit policy COLLECT, not FIRST"),
        ("in_size", "expression language 'javascript' is not supported"),
        ("out_grade", "camunda:foo is not supported"),
        ("ranked_table", "hit policy PRIORITY needs the outputs' values"),
        ("looping_table", "COLLECT COUNT needs exactly one output, not 2"),
        ("ranked", "cycle: ranked -> looping -> ranked"),
        ("looping", "cycle: looping -> ranked -> looping"),
    ]:
        assert_reported(problems, element_id, fragment)
    assert_reported(problems, "rule_open_range", "[1..]", line_of("unsupported_decisions.dmn",
                                                                  "[1..]"))
    assert not [p for p in problems if p.element_id in ("rule_fine", "in_kind")]


def test_several_decisions_per_file_deploy_but_each_needs_one_table() -> None:
    content = (BROKEN / "two_decisions.dmn").read_bytes()
    problems = validate(dmn_files={"eligibility.dmn": dmn(), "two.dmn": content})
    assert not [p for p in problems if p.element_id in ("two_defs", "first")]
    assert_reported(problems, "second", "exactly one decision table")


def test_a_file_of_several_decisions_with_requirements_deploys() -> None:
    rating = (Path(__file__).parent / "data" / "dmn" / "park_rating.dmn").read_bytes()
    assert validate(dmn_files={"eligibility.dmn": dmn(), "rating.dmn": rating}) == []


def test_same_decision_or_process_twice_is_refused() -> None:
    problems = validate_sources(SourceSet(
        bpmn={"a.bpmn": VALID_BPMN.encode(), "b.bpmn": VALID_BPMN.encode()},
        dmn={"a.dmn": dmn(), "b.dmn": dmn()}, forms=FORMS))
    assert_reported(problems, "subsidy", "process id 'subsidy' is used twice")
    assert_reported(problems, "eligibility", "decision id 'eligibility' is used twice")


def test_user_task_without_lane_or_candidates_is_a_warning() -> None:
    verdict = check_sources(SourceSet(bpmn={"lanes.bpmn": (BROKEN / "lanes.bpmn").read_bytes()},
                                      dmn={}, forms={}))
    assert verdict.problems == []
    assert [p.element_id for p in verdict.warnings] == ["in_nameless_lane", "nobody"]
    assert "goes to the park's administrators" in verdict.warnings[0].message


def test_engine_parse_errors_are_located_by_element_id() -> None:
    problems = broken("subprocess_two_starts.bpmn")
    assert problems == [Problem("sub", line_of("subprocess_two_starts.bpmn", 'id="sub"'),
                                "Exactly one start event is required in a SubWorkflow Task; "
                                "found 2.", "process.bpmn")]


def test_called_process_must_be_deployed_and_executable() -> None:
    caller = mutate(VALID_BPMN, '<bpmn:businessRuleTask id="decide" name="Eligibility" '
                                'camunda:decisionRef="eligibility">',
                    '<bpmn:callActivity id="decide" calledElement="helper">')
    caller = caller.replace(b"</bpmn:businessRuleTask>", b"</bpmn:callActivity>")
    helper = (BROKEN / "no_executable.bpmn").read_bytes().replace(b'"sketch"', b'"helper"')
    problems = validate_sources(SourceSet(
        bpmn={"caller.bpmn": caller, "helper.bpmn": helper}, dmn={}, forms=FORMS))
    line = text_line(caller.decode(), 'calledElement="helper"')
    assert problems == [Problem("decide", line, "calledElement 'helper' is not executable",
                                "caller.bpmn")]


# --- human task specs ---------------------------------------------------------------------------

def test_human_task_specs_read_camunda_attributes_and_lanes() -> None:
    specs = human_task_specs(parse_xml(VALID_BPMN.encode()))
    review, approve = specs["review"], specs["approve"]
    assert set(specs) == {"review", "approve"}
    assert review.name == "Preliminary review"
    assert review.lane == "reviewers"
    assert review.candidate_groups == ("reviewers",)  # the lane is the default group
    assert (review.due_date, review.priority, review.form_key) == ("3WD", 50, "review")
    assert review.properties == {"outcome": "approved"}
    # libxml2 numbers an element by the line where its start tag ends
    assert review.line == text_line(VALID_BPMN, 'camunda:dueDate="3WD" camunda:priority="50">')
    assert approve.lane == "directors"
    assert approve.candidate_groups == ("directors", "leaders")


def test_human_task_specs_of_one_process_element() -> None:
    root = parse_xml((BROKEN / "lanes.bpmn").read_bytes()).getroot()
    process = root.find("{http://www.omg.org/spec/BPMN/20100524/MODEL}process")
    specs = human_task_specs(process)
    assert specs["with_users"].candidate_users == ("bob", "carol")
    assert specs["with_users"].candidate_groups == ()
    assert specs["with_assignee"].assignee == "alice"
    assert specs["in_lane"].candidate_groups == ("staff",)
    assert specs["in_nameless_lane"].lane is None
    assert specs["nobody"].name == "nobody"


def test_an_end_result_must_be_one_the_lists_know() -> None:
    content = mutate(VALID_BPMN, '<bpmn:endEvent id="refused">',
                     '<bpmn:endEvent id="refused"><bpmn:extensionElements><camunda:properties>'
                     '<camunda:property name="result" value="denied"/>'
                     "</camunda:properties></bpmn:extensionElements>")
    assert_reported(validate(content), "refused", "result 'denied' is none of approved")
