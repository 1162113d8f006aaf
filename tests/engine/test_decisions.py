"""DMN as Camunda Modeler writes it: several decisions per file, required decisions, FEEL
unary tests in cells, camunda:inputVariable and every hit policy of DMN 1.3."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine import Engine, prepare_deployment
from engine.decisions import DecisionFailed, DecisionSet
from engine.errors import ExpressionError
from engine.feel import compile_unary_tests

DATA = Path(__file__).resolve().parent / "data" / "dmn"
RATING = (DATA / "park_rating.dmn").read_bytes()
HIT_POLICIES = (DATA / "hit_policies.dmn").read_bytes()
DECISIONS = DecisionSet([RATING, HIT_POLICIES])


def decide(decision_id: str, **data: Any) -> dict[str, Any]:
    return DECISIONS.evaluate(decision_id, data)


@pytest.mark.parametrize(
    ("cell", "value", "expected"),
    [
        ("[1..5]", 1, True),
        ("[1..5]", 5, True),
        ("[1..5]", 5.5, False),
        ("(1..5]", 1, False),
        ("(1..5]", 2, True),
        ("]1..5[", 5, False),
        ("[1..5)", 4.9, True),
        ('"a","b"', "b", True),
        ('"a","b"', "c", False),
        ('"a, b"', "a", False),
        ('not("a","b")', "c", True),
        ('not("a","b")', "a", False),
        ("not([1..5])", 7, True),
        ("< 10", 9, True),
        ("<= 10", 10, True),
        ("> 10", 10, False),
        (">= 10", 10, True),
        ("!= 3", 3, False),
        ("= 3", 3, True),
        ("-", None, True),
        ("", "x", True),
        ("true", True, True),
        ("false", True, False),
        ("null", None, True),
        ("[1..5], > 100", 101, True),
        ("[1..5], > 100", 50, False),
        ("limit", 7, True),
        ("[low..limit]", 8, False),
        ("allowed", "y", True),
        ("1 <= ? <= 5", 3, True),
        ('? in ("A", "B")', "B", True),
        ('in ("A", "B")', "C", False),
        ("cellInput > 2 and cellInput < 4", 3, True),
        ('date("2026-03-01")', __import__("datetime").date(2026, 3, 1), True),
    ],
)
def test_feel_unary_tests(cell: str, value: Any, expected: bool) -> None:
    variables = {"limit": 7, "low": 1, "allowed": ["x", "y"]}
    assert compile_unary_tests(cell).matches(value, variables) is expected


@pytest.mark.parametrize(
    "cell", [">=", "[1..]", "[..5]", '"a",,"b"', "not(", "x.y", "__import__('os')"]
)
def test_cells_that_cannot_be_evaluated_are_refused_when_compiled(cell: str) -> None:
    with pytest.raises(ExpressionError):
        compile_unary_tests(cell)


def test_a_cell_over_the_wrong_type_fails_naming_the_decision_and_rule() -> None:
    where = r"decision 'size_class', rule 'Rule_micro': cell '\[0..10\)'"
    with pytest.raises(DecisionFailed, match=where):
        decide("size_class", employees="many")


@pytest.mark.parametrize(
    ("employees", "size"),
    [(0, "micro"), (9, "micro"), (10, "small"), (99, "small"), (100, "large")],
)
def test_unique_with_ranges_and_input_variable(employees: int, size: str) -> None:
    assert decide("size_class", employees=employees) == {"size": size}


def test_unique_with_two_matches_is_an_error_naming_decision_and_rules() -> None:
    with pytest.raises(DecisionFailed) as caught:
        decide("size_class", employees=55)
    message = str(caught.value)
    assert "'size_class'" in message and "UNIQUE" in message
    assert "'Rule_small', 'Rule_overlap'" in message


@pytest.mark.parametrize(("sector", "bonus"), [("tech", 160), ("retail", 10), ("food", 60)])
def test_collect_sum(sector: str, bonus: int) -> None:
    assert decide("sector_bonus", sector=sector) == {"bonus": bonus}


@pytest.mark.parametrize(
    ("data", "rating"),
    [
        ({"employees": 500, "sector": "tech"}, "A"),  # large, bonus 160
        ({"employees": 500, "sector": "retail"}, "B"),  # large, bonus 10
        ({"employees": 20, "sector": "tech"}, "B"),
        ({"employees": 3, "sector": "tech"}, "C"),
    ],
)
def test_required_decisions_feed_the_decision_that_requires_them(
    data: dict[str, Any], rating: str
) -> None:
    # only the called decision's outputs come back, as in Camunda
    assert DECISIONS.evaluate("rating", data) == {"rating": rating}


def test_rule_order_lists_every_match_in_rule_order() -> None:
    assert decide("checks", amount=2_000_000) == {"check": ["audit", "site visit", "documents"]}
    assert decide("checks", amount=100_000) == {"check": ["documents"]}


@pytest.mark.parametrize(("days", "urgency"), [(2, "high"), (5, "medium"), (30, "low")])
def test_priority_takes_the_match_whose_output_comes_first_in_output_values(
    days: int, urgency: str
) -> None:
    assert decide("urgency", days_left=days) == {"urgency": urgency}


def test_any_accepts_agreeing_matches_and_refuses_disagreeing_ones() -> None:
    assert decide("channel", region="south") == {"channel": "window"}
    with pytest.raises(DecisionFailed, match="ANY.*'Rule_east', 'Rule_east_too'"):
        decide("channel", region="east")


def test_no_match_sets_nothing() -> None:
    assert decide("size_class", employees=-1) == {}


def test_an_absent_value_fails_comparisons_and_ranges_without_an_error() -> None:
    assert decide("checks", amount=None) == {"check": ["documents"]}
    assert compile_unary_tests("[1..5]").matches(None, {}) is False


@pytest.mark.parametrize(("score", "count"), [(0, 0), (1.5, 1), (3, 2)])
def test_collect_count(score: float, count: int) -> None:
    assert decide("matches", score=score) == {"matched": count}


def test_collect_min() -> None:
    assert decide("cheapest", weight=5) == {"fee": 12.5}
    assert decide("cheapest", weight=50) == {"fee": 30}


def test_a_missing_input_variable_fails_naming_the_decision() -> None:
    with pytest.raises(DecisionFailed, match="decision 'sector_bonus': input 'sector'"):
        decide("sector_bonus")


# --- through the engine -----------------------------------------------------------------------


def deploy() -> Any:
    bpmn = {"rating.bpmn": (DATA / "rating.bpmn").read_bytes()}
    dmn = {"park_rating.dmn": RATING, "hit_policies.dmn": HIT_POLICIES}
    return {v.key: v for v in prepare_deployment(bpmn, dmn, {})}["rating_process"]


def test_business_rule_tasks_call_any_decision_of_a_file_with_its_requirements() -> None:
    version = deploy()
    # 'checks' is the last decision of its file, 'rating' requires two others
    assert HIT_POLICIES.index(b'<decision id="checks"') > HIT_POLICIES.index(b"<decision ")
    snapshot = Engine().start(version, {"employees": 500, "sector": "tech", "amount": 5_000})
    assert snapshot.status == "completed"
    assert snapshot.data["rating"] == "A"
    assert snapshot.data["check"] == ["documents"]
    assert "size" not in snapshot.data  # a required decision's outputs stay inside it


def test_a_decision_outputs_replace_what_the_variable_held() -> None:
    snapshot = Engine().start(
        deploy(), {"employees": 5, "sector": "x", "amount": 1, "check": ["audit"]}
    )
    assert snapshot.data["check"] == ["documents"]


def test_a_unique_violation_stops_the_instance_in_error_at_the_task() -> None:
    snapshot = Engine().start(deploy(), {"employees": 57, "sector": "tech", "amount": 1})
    assert snapshot.status == "error"
    assert snapshot.error is not None
    assert snapshot.error.element_id == "Activity_rate"
    assert "size_class" in snapshot.error.message and "Rule_overlap" in snapshot.error.message


def test_a_stored_version_brings_every_file_its_decisions_need() -> None:
    version = deploy()
    assert set(version.dmn) == {RATING, HIT_POLICIES}
