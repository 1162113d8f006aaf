// The properties panel offers only what Parkflow runs: the Camunda Platform groups whose
// settings the deploy check refuses (Java field injection, connectors, candidate starters,
// error definitions of external tasks, job settings) or accepts without effect (history
// cleanup, tasklist, asynchronous continuations, external task priority) are left out.
// Diagrams that carry them still open; the deploy check says what it refuses and why.
// Service and send tasks get a "Service" group choosing one of the park's registered
// services (the camunda:properties property "service" the engine calls).
import { createElement as h } from "@bpmn-io/properties-panel/preact";
import { SelectEntry, isSelectEntryEdited } from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { is } from "bpmn-js/lib/util/ModelUtil";
import { propertyOf, setProperty } from "./approval-mode.js";

const HIDDEN = new Set([
  "CamundaPlatform__AsynchronousContinuations",
  "CamundaPlatform__CandidateStarter",
  "CamundaPlatform__ConnectorInput",
  "CamundaPlatform__ConnectorOutput",
  "CamundaPlatform__Errors",
  "CamundaPlatform__ExternalTask",
  "CamundaPlatform__FieldInjection",
  "CamundaPlatform__HistoryCleanup",
  "CamundaPlatform__JobExecution",
  "CamundaPlatform__Tasklist",
]);
// a low priority: it runs after the providers that make the groups
const AFTER_ALL = 100;

function ParkflowGroups(propertiesPanel, translate) {
  this.translate = translate;
  propertiesPanel.registerProvider(AFTER_ALL, this);
}
ParkflowGroups.prototype.getGroups = function getGroups(element) {
  return (groups) => {
    const kept = groups.filter((group) => !HIDDEN.has(group.id));
    if (is(element, "bpmn:ServiceTask") || is(element, "bpmn:SendTask")) {
      const at = kept.findIndex((group) => group.id === "CamundaPlatform__Implementation");
      if (at >= 0) {
        // Java classes, expressions, delegate expressions and connectors never run here:
        // the implementation is a registered service (the group below) or an external task
        const implementation = kept[at];
        kept[at] = {
          ...implementation,
          entries: [
            { id: "parkflowImplementation", element, component: ImplementationEntry,
              isEdited: isSelectEntryEdited },
            ...implementation.entries.filter((entry) => entry.id === "externalTopic"),
          ],
        };
      }
      kept.splice(at < 0 ? kept.length : at, 0, {
        id: "parkflowService",
        label: this.translate("Service"),
        entries: [{ id: "parkflowServiceName", element, component: ServiceEntry, isEdited: isSelectEntryEdited }],
      });
    }
    return kept;
  };
};
ParkflowGroups.$inject = ["propertiesPanel", "translate"];

function ServiceEntry({ element, id }) {
  const translate = useService("translate");
  const injector = useService("injector");
  const services = useService("parkflowServices") || [];
  return h(SelectEntry, {
    element,
    id,
    label: translate("Registered service"),
    description: translate("What the task calls; an external task (its worker fetches a topic) names none"),
    getValue: () => propertyOf(element, "service") || "",
    setValue: (value) => setProperty(injector, element, "service", value),
    getOptions: () => {
      const current = propertyOf(element, "service");
      const names = current && !services.includes(current) ? [...services, current] : services;
      return [{ value: "", label: translate("None") }, ...names.map((name) => ({ value: name, label: name }))];
    },
  });
}

function ImplementationEntry({ element, id }) {
  const translate = useService("translate");
  const modeling = useService("modeling");
  const task = element.businessObject;
  return h(SelectEntry, {
    element,
    id,
    label: translate("Implementation"),
    getValue: () => (task.get("camunda:type") === "external" ? "external" : ""),
    setValue: (value) => {
      const gone = { "camunda:class": undefined, "camunda:expression": undefined,
        "camunda:delegateExpression": undefined, "camunda:resultVariable": undefined };
      modeling.updateProperties(element, value === "external"
        ? { ...gone, "camunda:type": "external", "camunda:topic": task.get("camunda:topic") || "" }
        : { ...gone, "camunda:type": undefined, "camunda:topic": undefined });
    },
    getOptions: () => [
      { value: "", label: translate("A registered service") },
      { value: "external", label: translate("External task (a worker fetches its topic)") },
    ],
  });
}

export const ParkflowPanelModule = {
  __init__: ["parkflowGroups"],
  parkflowGroups: ["type", ParkflowGroups],
};
export { HIDDEN as HIDDEN_GROUPS };
