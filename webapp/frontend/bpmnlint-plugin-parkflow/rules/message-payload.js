// Every message thrown (intermediate throw or end event) carries a payload, its
// camunda:expression: SpiffWorkflow evaluates it at each throw (engine/validation_exprs.py).
const { blank, camunda, is } = require("../helpers");

module.exports = function messagePayload() {
  function check(node, reporter) {
    if (!is(node, "bpmn:IntermediateThrowEvent") && !is(node, "bpmn:EndEvent")) {
      return;
    }
    for (const definition of node.eventDefinitions || []) {
      if (is(definition, "bpmn:MessageEventDefinition") && blank(camunda(definition, "expression"))) {
        reporter.report(node.id, "A message thrown needs its payload: set what the message carries", [
          "expression",
        ]);
      }
    }
  }
  return { check };
};
