// A user task's approvalMode is one of any, all, sequential, ratio:<share>, the share more
// than 0 and at most 1 (engine/approval.py parse_mode); rejectPolicy immediate or after_all.
const { properties, is } = require("../helpers");

const MODES = ["any", "all", "sequential"];
const POLICIES = ["immediate", "after_all"];

function knownMode(text) {
  if (MODES.includes(text)) {
    return true;
  }
  const ratio = /^ratio:\s*([0-9]*\.?[0-9]+)$/.exec(text);
  return Boolean(ratio) && Number(ratio[1]) > 0 && Number(ratio[1]) <= 1;
}

module.exports = function approvalMode() {
  function check(node, reporter) {
    if (!is(node, "bpmn:UserTask")) {
      return;
    }
    const props = properties(node);
    const mode = (props.approvalMode || "").trim();
    if (!mode) {
      return;
    }
    if (!knownMode(mode)) {
      reporter.report(node.id, "Unknown approval mode: use any, all, sequential or ratio:<share> (e.g. ratio:0.6)", [
        "approvalMode",
      ]);
    }
    const policy = (props.rejectPolicy || "").trim();
    if (policy && !POLICIES.includes(policy)) {
      reporter.report(node.id, "Unknown reject policy: use immediate or after_all", ["rejectPolicy"]);
    }
  }
  return { check };
};
