"""Write the golden instance states that every later release must still load. Run once.

    .venv/bin/python tests/engine/golden/make_golden.py

For each case below it starts a shipped procedure at a fixed moment, moves it to the point
named, and writes beside this script:

* ``<case>.state.json``: the instance state exactly as the engine stored it (``Snapshot.state``);
* ``<case>.expect.json``: what must hold when that state is loaded (status, open tasks, timers,
  awaited messages), which version it belongs to (process key and content hash), the folder
  holding a copy of that version's sources, and the paths by which the test drives it to an
  end;
* ``<key>-<hash>/``: the BPMN, DMN and forms the state was made with, so the test never
  depends on what ``processes/`` holds later.

Files that already exist are never rewritten: a golden state is a record of what an earlier
release stored, and making it again with the current engine would prove nothing. To cover a
new point, add a case with a new name and run the script again; it writes only what is
missing. (Delete a case's files only when its format is deliberately no longer supported.)
"""

from __future__ import annotations

import importlib.metadata
import json
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import time_machine

from engine import Engine, ProcessVersion, Snapshot, prepare_deployment
from engine.serialization import FORMAT
from forms import load_forms

HERE = Path(__file__).resolve().parent
PROCESSES = HERE.parents[2] / "processes"
MADE_AT = datetime(2026, 3, 2, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # a Monday

APPLICATION = {
    "company_name": "星河智能科技有限公司", "credit_code": "91320594MA1W2X3Y4K",
    "enterprise_type": "高新技术企业", "policy_item": "研发投入补助",
    "requested_amount": 800_000, "rd_spend": 12_000_000, "revenue": 200_000_000,
    "employee_count": 120, "contact_name": "李娜", "contact_phone": "13812345678",
    "attachments": ["营业执照.pdf", "高企证书.pdf", "2025审计报告.pdf"], "commitment": True,
}
RETURN = {"outcome": "return", "return_reasons": ["缺少2025年度研发费用专项审计报告"]}
APPROVE = {"outcome": "approve", "comment": "同意"}
CORRECTION = {"correction_note": "已补充审计报告", "attachments": ["研发费用专项审计报告.pdf"]}
HANDOVER = {"budget_subject": "科技创新专项资金", "planned_payment_date": "2026-03-20"}
DISBURSEMENT = {
    "application_no": "DEMO-2026-000001", "company_name": "星河智能科技有限公司",
    "credit_code": "91320594MA1W2X3Y4K", "project_name": "2026年研发投入补助",
    "amount": 1_000_000, "payee_account_name": "星河智能科技有限公司",
    "payee_bank": "中国工商银行苏州工业园区支行", "payee_account_no": "1102020309000123456",
}
BANK_RECEIPT = {"application_no": "DEMO-2026-000001", "bank_serial": "ICBC20260310000123",
                "paid_amount": 1_000_000}
PAYMENT_ORDER = {"payment_voucher_no": "FK-2026-0310", "payment_date": "2026-03-02"}

# moves: ["complete", element id, data] | ["fire", timer element id] | ["deliver", name, payload]
TO_THE_END = [["complete", "director_review", APPROVE], ["fire", "public_notice"],
              ["complete", "disbursement_handover", HANDOVER]]
CASES: dict[str, dict[str, Any]] = {
    "policy_subsidy_started": {
        "about": "just started: the preliminary review is open",
        "process": "policy_subsidy", "start": APPLICATION, "moves": [],
        "paths": {"approved": {"ends_at": "Event_completed", "moves": [
            ["complete", "preliminary_review", APPROVE], *TO_THE_END]}},
    },
    "policy_subsidy_correction": {
        "about": "returned for correction: the enterprise corrects, a 10WD timer runs",
        "process": "policy_subsidy", "start": APPLICATION,
        "moves": [["complete", "preliminary_review", RETURN]],
        "paths": {
            "corrected": {"ends_at": "Event_completed", "moves": [
                ["complete", "correction", CORRECTION],
                ["complete", "preliminary_review", APPROVE], *TO_THE_END]},
            "not answered": {"ends_at": "Event_withdrawn", "moves": [
                ["fire", "Event_correction_expired"]]},
        },
    },
    "policy_subsidy_director_review": {
        "about": "in director review, the 2WD overdue boundary timer waiting",
        "process": "policy_subsidy", "start": APPLICATION,
        "moves": [["complete", "preliminary_review", APPROVE]],
        "paths": {
            "approved": {"ends_at": "Event_completed", "moves": TO_THE_END},
            "overdue": {"ends_at": "Event_completed", "moves": [
                ["fire", "Event_director_overdue"], ["complete", "leader_review", APPROVE],
                ["fire", "public_notice"], ["complete", "disbursement_handover", HANDOVER]]},
        },
    },
    "policy_subsidy_public_notice": {
        "about": "approved, waiting on the public-notice timer",
        "process": "policy_subsidy", "start": APPLICATION,
        "moves": [["complete", "preliminary_review", APPROVE],
                  ["complete", "director_review", APPROVE]],
        "paths": {"published": {"ends_at": "Event_completed", "moves": TO_THE_END[1:]}},
    },
    "fund_disbursement_awaiting_bank": {
        "about": "payment ordered, waiting for the bank's confirmation or the 10WD timeout",
        "process": "fund_disbursement", "start": DISBURSEMENT,
        "moves": [["complete", "finance_review", {"outcome": "approve",
                                                  "budget_subject": "科技创新专项资金"}],
                  ["complete", "leader_approval", {"outcome": "approve"}],
                  ["complete", "payment_order", PAYMENT_ORDER]],
        "paths": {
            "confirmed": {"ends_at": "Event_paid", "moves": [
                ["deliver", "bank_confirmation", BANK_RECEIPT]]},
            "chased": {"ends_at": "Event_paid", "moves": [
                ["fire", "Gateway_wait_bank"],
                ["complete", "chase_bank", {"outcome": "confirmed", "bank_receipt_no": "HD-1",
                                            "chase_note": "柜台回单"}]]},
        },
    },
}


def move(engine: Engine, version: ProcessVersion, snapshot: Snapshot, step: list[Any],
         clock: Any) -> Snapshot:
    """Apply one move of a case or path; the new snapshot (also used by the golden test)."""
    kind = step[0]
    if kind == "complete":
        (task,) = [t for t in snapshot.open_tasks if t.element_id == step[1]]
        return engine.complete_task(version, snapshot.state, task.task_id, step[2],
                                    actor="golden")
    if kind == "fire":
        (due,) = [t.due_at for t in snapshot.timers if t.element_id == step[1]]
        clock.move_to(due + timedelta(seconds=1))
        return engine.fire_due_timers(version, snapshot.state)
    if kind == "deliver":
        return engine.deliver_message(version, snapshot.state, step[1], step[2])
    raise ValueError(f"unknown move {step!r}")


def expectations(snapshot: Snapshot) -> dict[str, Any]:
    """What the engine must report about a golden state when it loads it."""
    return {
        "status": snapshot.status,
        "open_tasks": sorted(t.element_id for t in snapshot.open_tasks),
        "timers": {t.element_id: t.due_at.isoformat() for t in snapshot.timers},
        "awaited_messages": {m.name: dict(m.correlation) for m in snapshot.awaited_messages},
    }


def copy_sources(version: ProcessVersion, names: Mapping[bytes, str]) -> str:
    """Write the version's BPMN, DMN and forms into their own folder; the folder's name."""
    folder = HERE / f"{version.key}-{version.content_hash[:12]}"
    if not folder.exists():
        (folder / "forms").mkdir(parents=True)
        (folder / f"{version.key}.bpmn").write_bytes(version.bpmn)
        for content in version.dmn:
            (folder / names[content]).write_bytes(content)
        for key, schema in version.forms.items():
            text = json.dumps(schema, ensure_ascii=False, indent=2) + "\n"
            (folder / "forms" / f"{key}.json").write_text(text, encoding="utf-8")
    return folder.name


def write_case(name: str, case: dict[str, Any], version: ProcessVersion,
               names: Mapping[bytes, str], write: Callable[[Path, bytes], None]) -> None:
    engine = Engine()
    with time_machine.travel(MADE_AT, tick=False) as clock:
        snapshot = engine.start(version, case["start"], actor="golden")
        for step in case["moves"]:
            snapshot = move(engine, version, snapshot, step, clock)
        assert snapshot.error is None, snapshot.error
        made_at = datetime.now(MADE_AT.tzinfo)
    sidecar = {
        "about": case["about"],
        "process": version.key,
        "content_hash": version.content_hash,
        "sources": copy_sources(version, names),
        "made_with": {"state_format": FORMAT,
                      "spiffworkflow": importlib.metadata.version("SpiffWorkflow")},
        "made_at": made_at.isoformat(),
        **expectations(snapshot),
        "paths": case["paths"],
    }
    write(HERE / f"{name}.state.json", snapshot.state)
    write(HERE / f"{name}.expect.json",
          (json.dumps(sidecar, ensure_ascii=False, indent=2) + "\n").encode("utf-8"))


def main() -> None:
    bpmn = {p.name: p.read_bytes() for p in sorted(PROCESSES.glob("*.bpmn"))}
    dmn = {p.name: p.read_bytes() for p in sorted(PROCESSES.glob("*.dmn"))}
    versions = {v.key: v for v in prepare_deployment(bpmn, dmn, load_forms())}
    names = {content: name for name, content in dmn.items()}

    def write(path: Path, content: bytes) -> None:
        path.write_bytes(content)
        print(f"wrote {path.relative_to(HERE)}")

    for name, case in CASES.items():
        if (HERE / f"{name}.state.json").exists():
            print(f"kept {name} (golden files are never rewritten)")
            continue
        write_case(name, case, versions[case["process"]], names, write)


if __name__ == "__main__":
    main()
