"""Small diagrams for the tests of the engine's bounds, written inline to show their shape."""

from __future__ import annotations

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
                  xmlns:camunda="http://camunda.org/schema/1.0/bpmn"
                  id="defs_{name}" targetNamespace="urn:parkflow:tests">
"""


def diagram(name: str, body: str) -> bytes:
    """A BPMN file holding ``body`` (one or more processes)."""
    return (HEADER.format(name=name) + body + "</bpmn:definitions>\n").encode()


def calling(process: str, called: str) -> str:
    """A process that calls ``called`` from a call activity ``call_<called>``."""
    return f"""
  <bpmn:process id="{process}" isExecutable="true">
    <bpmn:startEvent id="{process}_start"/>
    <bpmn:callActivity id="call_{called}" calledElement="{called}"/>
    <bpmn:endEvent id="{process}_end"/>
    <bpmn:sequenceFlow id="{process}_f1" sourceRef="{process}_start" targetRef="call_{called}"/>
    <bpmn:sequenceFlow id="{process}_f2" sourceRef="call_{called}" targetRef="{process}_end"/>
  </bpmn:process>"""


# An exclusive loop of service tasks: nothing in it ever waits for anyone.
ENDLESS = diagram(
    "endless",
    """
  <bpmn:process id="endless" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:exclusiveGateway id="again" default="out"/>
    <bpmn:serviceTask id="stamp">
      <bpmn:extensionElements><camunda:properties>
        <camunda:property name="service" value="record_time"/>
      </camunda:properties></bpmn:extensionElements>
    </bpmn:serviceTask>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="again"/>
    <bpmn:sequenceFlow id="loop" sourceRef="again" targetRef="stamp">
      <bpmn:conditionExpression>${true}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="back" sourceRef="stamp" targetRef="again"/>
    <bpmn:sequenceFlow id="out" sourceRef="again" targetRef="end"/>
  </bpmn:process>""",
)


def multi_instance(sequential: bool) -> bytes:
    """A user task for each element of ``input_data``, which nothing sets."""
    flag = "true" if sequential else "false"
    return diagram(
        "signers",
        f"""
  <bpmn:process id="signers" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:userTask id="sign" name="Sign" camunda:candidateGroups="office">
      <bpmn:multiInstanceLoopCharacteristics isSequential="{flag}"
          camunda:collection="input_data" camunda:elementVariable="signer"/>
    </bpmn:userTask>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="sign"/>
    <bpmn:sequenceFlow id="f2" sourceRef="sign" targetRef="end"/>
  </bpmn:process>""",
    )


# Called from another file: one inspection by the office, with the "inspection" form.
INSPECTION = diagram(
    "inspection",
    """
  <bpmn:process id="inspection" isExecutable="true">
    <bpmn:startEvent id="inspection_start"/>
    <bpmn:userTask id="inspect" name="Inspect" camunda:candidateGroups="office"
                   camunda:formKey="inspection"/>
    <bpmn:endEvent id="inspection_end"/>
    <bpmn:sequenceFlow id="i1" sourceRef="inspection_start" targetRef="inspect"/>
    <bpmn:sequenceFlow id="i2" sourceRef="inspect" targetRef="inspection_end"/>
  </bpmn:process>""",
)
INSPECTION_FORM = {"type": "object", "properties": {"passed": {"type": "boolean"}}}


def scripted(script: str) -> bytes:
    """A process running one script task ``write`` before a user task ``look``."""
    return diagram(
        "scripted",
        f"""
  <bpmn:process id="scripted" isExecutable="true">
    <bpmn:startEvent id="start"/>
    <bpmn:scriptTask id="write" scriptFormat="python"><bpmn:script>{script}</bpmn:script>
    </bpmn:scriptTask>
    <bpmn:userTask id="look" name="Look" camunda:candidateGroups="office"/>
    <bpmn:endEvent id="end"/>
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="write"/>
    <bpmn:sequenceFlow id="f2" sourceRef="write" targetRef="look"/>
    <bpmn:sequenceFlow id="f3" sourceRef="look" targetRef="end"/>
  </bpmn:process>""",
    )
