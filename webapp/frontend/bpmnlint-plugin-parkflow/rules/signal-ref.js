// A signal event names its signal: without a signalRef any catch would match any throw
// (engine/validation_structure.py).
const { is } = require("../helpers");

module.exports = function signalRef() {
  function check(node, reporter) {
    if (!is(node, "bpmn:Event")) {
      return;
    }
    for (const definition of node.eventDefinitions || []) {
      if (is(definition, "bpmn:SignalEventDefinition") && !definition.signalRef) {
        reporter.report(node.id, "A signal event needs a signal: choose or create one", ["signalRef"]);
      }
    }
  }
  return { check };
};
