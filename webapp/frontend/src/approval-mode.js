// The properties panel's "Approval mode" group on user tasks (或签, 会签, 依次审批, 按比例通过):
// it writes the task's camunda:properties approvalMode (and rejectPolicy), which the engine
// runs as a multi-instance task, one signer per instance (engine/approval.py).
import { createElement as h } from "@bpmn-io/properties-panel/preact";
import {
  SelectEntry,
  TextFieldEntry,
  isSelectEntryEdited,
  isTextFieldEntryEdited,
} from "@bpmn-io/properties-panel";
import { useService } from "bpmn-js-properties-panel";
import { getBusinessObject, is } from "bpmn-js/lib/util/ModelUtil";

const MODE = "approvalMode";
const POLICY = "rejectPolicy";
const APPROVERS = "approvers";
const DEFAULT_RATIO = "0.6";

export default function ApprovalModeProvider(propertiesPanel, translate) {
  this.translate = translate;
  propertiesPanel.registerProvider(400, this);
}
ApprovalModeProvider.prototype.getGroups = function getGroups(element) {
  const translate = this.translate;
  return (groups) => {
    if (!is(element, "bpmn:UserTask")) {
      return groups;
    }
    const entries = [{ id: "approvalMode", element, component: ModeEntry, isEdited: isSelectEntryEdited }];
    const mode = modeOf(element);
    if (mode === "ratio") {
      entries.push({ id: "approvalRatio", element, component: RatioEntry, isEdited: isTextFieldEntryEdited });
    }
    if (mode === "all" || mode === "sequential") {
      entries.push({ id: "approvalRejectPolicy", element, component: PolicyEntry, isEdited: isSelectEntryEdited });
    }
    if (mode) {
      entries.push({ id: "approvalApprovers", element, component: ApproversEntry, isEdited: isTextFieldEntryEdited });
    }
    const at = groups.findIndex((group) => group.id === "CamundaPlatform__UserAssignment");
    groups.splice(at < 0 ? groups.length : at + 1, 0, {
      id: "approvalModeGroup",
      label: translate("Approval mode"),
      entries,
    });
    return groups;
  };
};
ApprovalModeProvider.$inject = ["propertiesPanel", "translate"];

function ModeEntry({ element, id }) {
  const translate = useService("translate");
  const injector = useService("injector");
  return h(SelectEntry, {
    element,
    id,
    label: translate("Approval mode"),
    description: translate("Each signer gets a task of their own; the result is in the variable approval"),
    getValue: () => modeOf(element),
    setValue: (value) => {
      const ratio = ratioOf(element) || DEFAULT_RATIO;
      setProperty(injector, element, MODE, value === "ratio" ? `ratio:${ratio}` : value);
      if (value !== "all" && value !== "sequential") {
        setProperty(injector, element, POLICY, "");
      }
      if (!value) {
        setProperty(injector, element, APPROVERS, "");
      }
    },
    getOptions: () => [
      { value: "", label: translate("One person decides") },
      { value: "any", label: translate("Any one signs (或签)") },
      { value: "all", label: translate("Countersign: everyone (会签)") },
      { value: "sequential", label: translate("One after another (依次审批)") },
      { value: "ratio", label: translate("Pass by share (按比例通过)") },
    ],
  });
}

function RatioEntry({ element, id }) {
  const translate = useService("translate");
  const injector = useService("injector");
  const debounce = useService("debounceInput");
  return h(TextFieldEntry, {
    element,
    id,
    label: translate("Share that must approve"),
    description: translate("More than 0 and at most 1, e.g. 0.6"),
    debounce,
    getValue: () => ratioOf(element),
    setValue: (value) => setProperty(injector, element, MODE, `ratio:${(value || "").trim()}`),
    validate: (value) => {
      const share = Number(value);
      return value && share > 0 && share <= 1 ? null : translate("More than 0 and at most 1, e.g. 0.6");
    },
  });
}

function PolicyEntry({ element, id }) {
  const translate = useService("translate");
  const injector = useService("injector");
  return h(SelectEntry, {
    element,
    id,
    label: translate("When someone rejects"),
    getValue: () => propertyOf(element, POLICY) || "immediate",
    setValue: (value) => setProperty(injector, element, POLICY, value === "immediate" ? "" : value),
    getOptions: () => [
      { value: "immediate", label: translate("Reject at once") },
      { value: "after_all", label: translate("Let everyone decide, then reject") },
    ],
  });
}

function ApproversEntry({ element, id }) {
  const translate = useService("translate");
  const injector = useService("injector");
  const debounce = useService("debounceInput");
  return h(TextFieldEntry, {
    element,
    id,
    label: translate("Signers from a variable"),
    description: translate(
      "A variable holding the signers, e.g. ${reviewers}; empty: the candidate users, else every member of the candidate groups",
    ),
    debounce,
    getValue: () => propertyOf(element, APPROVERS) || "",
    setValue: (value) => setProperty(injector, element, APPROVERS, (value || "").trim()),
  });
}

function modeOf(element) {
  const mode = propertyOf(element, MODE) || "";
  return mode.startsWith("ratio") ? "ratio" : mode;
}

function ratioOf(element) {
  const mode = propertyOf(element, MODE) || "";
  return mode.startsWith("ratio:") ? mode.slice("ratio:".length) : "";
}

function propertiesOf(element) {
  const extensions = getBusinessObject(element).get("extensionElements");
  const values = extensions ? extensions.get("values") : [];
  return values.find((value) => is(value, "camunda:Properties"));
}

function propertyOf(element, name) {
  const properties = propertiesOf(element);
  const found = properties && properties.get("values").find((p) => p.name === name);
  return found ? found.value : null;
}

// Sets (or, with an empty value, removes) one camunda:property of the element.
function setProperty(injector, element, name, value) {
  const modeling = injector.get("modeling");
  const factory = injector.get("bpmnFactory");
  const task = getBusinessObject(element);
  let extensions = task.get("extensionElements");
  if (!extensions) {
    if (!value) {
      return;
    }
    extensions = factory.create("bpmn:ExtensionElements", { values: [] });
    extensions.$parent = task;
    modeling.updateModdleProperties(element, task, { extensionElements: extensions });
  }
  let properties = propertiesOf(element);
  if (!properties) {
    if (!value) {
      return;
    }
    properties = factory.create("camunda:Properties", { values: [] });
    properties.$parent = extensions;
    modeling.updateModdleProperties(element, extensions, {
      values: [...extensions.get("values"), properties],
    });
  }
  const found = properties.get("values").find((p) => p.name === name);
  if (!value) {
    if (found) {
      modeling.updateModdleProperties(element, properties, {
        values: properties.get("values").filter((p) => p !== found),
      });
    }
  } else if (found) {
    modeling.updateModdleProperties(element, found, { value });
  } else {
    const property = factory.create("camunda:Property", { name, value });
    property.$parent = properties;
    modeling.updateModdleProperties(element, properties, {
      values: [...properties.get("values"), property],
    });
  }
}

export { propertyOf, setProperty };

export const ApprovalModeModule = {
  __init__: ["approvalModeProvider"],
  approvalModeProvider: ["type", ApprovalModeProvider],
};
