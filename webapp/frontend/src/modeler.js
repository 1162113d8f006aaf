// The park administrator's modeler: bpmn-js with the Camunda Platform properties panel, the
// lint overlays (bpmnlint's recommended rules and Parkflow's own, while drawing) and the
// token simulation (play the diagram before deploying it).
import BpmnModeler from "bpmn-js/lib/Modeler";
import LintModule from "bpmn-js-bpmnlint";
import TokenSimulationModule from "bpmn-js-token-simulation";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from "bpmn-js-properties-panel";
import CamundaBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";
import { ApprovalModeModule } from "./approval-mode.js";
import { ParkflowPanelModule } from "./parkflow-panel.js";
import lintConfig from "./bpmnlint-config";

// ``translations`` (optional) maps the modeler's English words to the page's language.
// ``services`` names the park's registered services, offered to service and send tasks.
export function createModeler(canvas, properties, { translations, services = [] } = {}) {
  const additionalModules = [
    BpmnPropertiesPanelModule,
    BpmnPropertiesProviderModule,
    CamundaPlatformPropertiesProviderModule,
    CamundaBehaviorsModule,
    ApprovalModeModule,
    ParkflowPanelModule,
    { parkflowServices: ["value", services] },
    LintModule,
    TokenSimulationModule,
  ];
  if (translations) {
    additionalModules.push({ translate: ["value", translator(translations)] });
  }
  return new BpmnModeler({
    container: canvas,
    propertiesPanel: { parent: properties },
    linting: { bpmnlint: lintConfig, active: true },
    additionalModules,
    moddleExtensions: { camunda: camundaModdle },
  });
}

function translator(words) {
  return (template, replacements = {}) =>
    (words[template] || template).replace(/{([^}]+)}/g, (whole, key) => replacements[key] ?? whole);
}

// Marks every deploy problem (kind "problem", red) or warning (kind "warning", amber) on its
// element: one badge per element (the number of its messages when more than one, every
// message in its tooltip, in the user's language where the server gave one) and an outline.
export function showProblems(modeler, problems, kind = "problem") {
  const overlays = modeler.get("overlays");
  const canvas = modeler.get("canvas");
  const registry = modeler.get("elementRegistry");
  const marker = `pf-has-${kind}`;
  overlays.remove({ type: `pf-${kind}` });
  registry.forEach((element) => canvas.removeMarker(element, marker));
  const byElement = new Map();
  for (const problem of problems) {
    if (problem.element_id && registry.get(problem.element_id)) {
      const messages = byElement.get(problem.element_id) || [];
      byElement.set(problem.element_id, [...messages, problem.text || problem.message]);
    }
  }
  for (const [elementId, messages] of byElement) {
    canvas.addMarker(elementId, marker);
    const badge = document.createElement("div");
    badge.className = `pf-${kind}-marker`;
    badge.textContent = messages.length > 1 ? `! ${messages.length}` : "!";
    badge.title = messages.join("\n");
    const position = kind === "problem" ? { top: -12, right: 12 } : { top: -12, left: -8 };
    overlays.add(elementId, `pf-${kind}`, { position, html: badge });
  }
}

window.Parkflow = Object.assign(window.Parkflow || {}, { createModeler, showProblems });
