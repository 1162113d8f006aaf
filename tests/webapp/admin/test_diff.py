"""Comparing two versions element by element (the engine, without the web)."""

from __future__ import annotations

from engine.version_diff import Change, diff_versions
from tests.webapp.admin.helpers import POLICY_SUBSIDY


def by_id(before: str, after: str) -> dict[str, tuple[str, tuple[Change, ...]]]:
    diff = diff_versions(before, after, {}, {})
    return {item.element_id: (item.kind, item.changes) for item in diff.elements}


def test_the_same_diagram_has_no_differences() -> None:
    assert diff_versions(POLICY_SUBSIDY, POLICY_SUBSIDY, {"a": {}}, {"a": {}}).empty


def test_layout_and_written_out_defaults_are_no_change() -> None:
    moved = POLICY_SUBSIDY.replace('<dc:Bounds x="', '<dc:Bounds x="1')
    assert moved != POLICY_SUBSIDY
    assert by_id(POLICY_SUBSIDY, moved) == {}
    implicit = POLICY_SUBSIDY.replace(' cancelActivity="true"', "")
    assert by_id(POLICY_SUBSIDY, implicit) == {}


def test_timers_properties_and_conditions_are_compared() -> None:
    after = (POLICY_SUBSIDY
             .replace(">5WD</bpmn:timeDuration>", ">7WD</bpmn:timeDuration>")
             .replace('value="园区领导"', 'value="财务部"')
             .replace(">eligible</bpmn:conditionExpression>",
                      ">eligible and amount &gt; 0</bpmn:conditionExpression>"))
    assert by_id(POLICY_SUBSIDY, after) == {
        "public_notice": ("changed", (Change("timeDuration", "5WD", "7WD"),)),
        "director_review": ("changed", (Change("camunda:properties", "escalationGroup=园区领导",
                                               "escalationGroup=财务部"),)),
        "Flow_eligible": ("changed", (Change("conditionExpression", "eligible",
                                             "eligible and amount > 0"),)),
    }


def test_removed_elements_and_changed_lanes_are_listed() -> None:
    after = (POLICY_SUBSIDY
             .replace('<bpmn:flowNodeRef>leader_review</bpmn:flowNodeRef>', "")
             .replace('<bpmn:lane id="Lane_park_leader" name="园区领导">',
                      '<bpmn:lane id="Lane_park_leader" name="园区领导组">'))
    start = after.index('<bpmn:userTask id="leader_review"')
    after = after[:start] + after[after.index("</bpmn:userTask>", start) + 16:]
    found = by_id(POLICY_SUBSIDY, after)
    assert found["leader_review"] == ("removed", ())
    assert found["Lane_park_leader"] == ("changed", (
        Change("members", "leader_review", None), Change("name", "园区领导", "园区领导组")))
    diff = diff_versions(POLICY_SUBSIDY, after, {}, {})
    assert [item.kind for item in diff.elements][0] == "removed"  # removals come first


def test_forms_are_compared_by_key() -> None:
    diff = diff_versions(POLICY_SUBSIDY, POLICY_SUBSIDY, {"a": {"x": 1}, "b": {}, "c": {}},
                         {"a": {"x": 2}, "b": {}, "d": {}})
    assert (diff.forms_added, diff.forms_removed, diff.forms_changed) == (("d",), ("c",),
                                                                          ("a",))
    assert not diff.empty
