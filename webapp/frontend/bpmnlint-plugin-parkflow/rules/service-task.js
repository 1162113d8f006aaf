// A service task calls a registered service (its camunda:properties property "service") or is
// an external task (camunda:type="external" with a camunda:topic its workers fetch)
// (engine/validation_support.py).
const { blank, camunda, is, properties } = require("../helpers");

module.exports = function serviceTask() {
  function check(node, reporter) {
    if (!is(node, "bpmn:ServiceTask")) {
      return;
    }
    const type = camunda(node, "type");
    const topic = camunda(node, "topic");
    if (!blank(type) || !blank(topic)) {
      if (type !== "external") {
        reporter.report(node.id, 'A topic needs camunda:type="external" on the same task', ["type"]);
      } else if (blank(topic)) {
        reporter.report(node.id, "An external task needs the topic its workers fetch", ["topic"]);
      }
      return;
    }
    if (blank(properties(node).service)) {
      reporter.report(node.id, "A service task names no service: set the property service, or make it an external task", [
        "service",
      ]);
    }
  }
  return { check };
};
