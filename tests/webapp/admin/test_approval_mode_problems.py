"""The modeler's validate words a bad approval mode in the administrator's language."""

from __future__ import annotations

from tests.webapp.admin.helpers import post_json
from tests.webapp.api.test_approval_modes import approval_process
from tests.webapp.apptools import Browser

URL = "/admin/processes/validate"


def test_a_bad_share_is_said_in_chinese_with_its_value(admin: Browser) -> None:
    source = approval_process("bad_share", "ratio:1.5", 'camunda:candidateUsers="zhao.min"')
    (problem,) = post_json(admin, URL, {"bpmn_xml": source}).get_json()["problems"]
    assert (problem["element_id"], problem["code"]) == ("sign", "approval_ratio")
    assert problem["text"] == "审批方式“ratio:1.5”的通过比例须大于 0 且不超过 1，如 ratio:0.6。"


def test_a_mode_with_nobody_to_sign_is_said_in_chinese(admin: Browser) -> None:
    source = approval_process("no_signers", "all", "")
    (problem,) = post_json(admin, URL, {"bpmn_xml": source}).get_json()["problems"]
    assert problem["code"] == "approval_without_signers"
    assert problem["text"].startswith("审批方式“all”没有审批人")
