// An exclusive or inclusive gateway that splits: every outgoing flow but the default needs a
// condition (engine/validation_structure.py). bpmnlint's own conditional-flows rule reports
// this once a gateway has a default or a condition; this one covers a gateway with neither.
const { is } = require("../helpers");

module.exports = function gatewayConditions() {
  function check(node, reporter) {
    if (!is(node, "bpmn:ExclusiveGateway") && !is(node, "bpmn:InclusiveGateway")) {
      return;
    }
    const outgoing = node.outgoing || [];
    if (outgoing.length < 2 || node.default || outgoing.some((flow) => flow.conditionExpression)) {
      return;
    }
    for (const flow of outgoing) {
      reporter.report(flow.id, "A flow out of this gateway needs a condition, or must be its default flow", [
        "conditionExpression",
      ]);
    }
  }
  return { check };
};
