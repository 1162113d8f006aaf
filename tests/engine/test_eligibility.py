"""A policy's eligibility table: what it finds, and what it refuses to be."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine import InvalidProcess
from engine.eligibility import read_eligibility

TABLE = (Path(__file__).parents[1] / "webapp" / "api" / "data"
         / "rd_award_eligibility.dmn").read_bytes()


def test_the_table_judges_an_enterprise_by_its_facts() -> None:
    table = read_eligibility(TABLE)
    assert table.decision_id == "rd_award"
    certified = table.judge({"rd_spend": 600, "certifications": ["高新技术企业"], "tags": []})
    assert (certified.eligible, certified.outputs) == (True, {"amount": 200000})
    assert table.judge({"rd_spend": 600, "certifications": [], "tags": []}).outputs == {
        "amount": 50000}
    small = table.judge({"rd_spend": 20, "certifications": [], "tags": []})
    assert (small.eligible, small.error) == (False, None)
    # a fact the table reads and the profile lacks: not eligible, and why
    unknown = table.judge({"tags": []})
    assert not unknown.eligible and "rd_spend" in (unknown.error or "")


@pytest.mark.parametrize(("change", "message"), [
    (lambda t: t.replace(b'name="eligible"', b'name="ok"'), "no output named 'eligible'"),
    (lambda t: t.replace(b'"FIRST"', b'"RULE ORDER"'), "gives several results"),
    (lambda t: t.replace(b"<text>&gt;= 500</text>", b"<text>&gt;= </text>"), "high_tech"),
    (lambda t: t[:200], "not well-formed"),
])
def test_a_table_that_cannot_decide_eligibility_is_refused(
    change: Callable[[bytes], bytes], message: str
) -> None:
    with pytest.raises(InvalidProcess) as refused:
        read_eligibility(change(TABLE))
    assert message in str(refused.value)


def test_a_file_with_several_decisions_needs_the_one_named() -> None:
    two = TABLE.replace(b"</definitions>", b'<decision id="other" name="x"><decisionTable '
                        b'id="t2"><input id="i2"><inputExpression id="e2"><text>1</text>'
                        b'</inputExpression></input><output id="o2" name="eligible" />'
                        b"</decisionTable></decision></definitions>")
    with pytest.raises(InvalidProcess, match="2 decisions"):
        read_eligibility(two)
    assert read_eligibility(two, "rd_award").decision_id == "rd_award"
    with pytest.raises(InvalidProcess, match="no decision 'nope'"):
        read_eligibility(two, "nope")
