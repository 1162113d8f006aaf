// The park administrator's modeler: bpmn-js with the Camunda Platform properties panel.
import BpmnModeler from "bpmn-js/lib/Modeler";
import {
  BpmnPropertiesPanelModule,
  BpmnPropertiesProviderModule,
  CamundaPlatformPropertiesProviderModule,
} from "bpmn-js-properties-panel";
import CamundaBehaviorsModule from "camunda-bpmn-js-behaviors/lib/camunda-platform";
import camundaModdle from "camunda-bpmn-moddle/resources/camunda.json";

export function createModeler(canvas, properties) {
  return new BpmnModeler({
    container: canvas,
    propertiesPanel: { parent: properties },
    additionalModules: [
      BpmnPropertiesPanelModule,
      BpmnPropertiesProviderModule,
      CamundaPlatformPropertiesProviderModule,
      CamundaBehaviorsModule,
    ],
    moddleExtensions: { camunda: camundaModdle },
  });
}

// Marks every deploy problem on its element; returns the overlay ids to clear later.
export function showProblems(modeler, problems) {
  const overlays = modeler.get("overlays");
  const canvas = modeler.get("canvas");
  const registry = modeler.get("elementRegistry");
  overlays.remove({ type: "pf-problem" });
  registry.forEach((element) => canvas.removeMarker(element, "pf-has-problem"));
  for (const problem of problems) {
    if (!problem.element_id || !registry.get(problem.element_id)) {
      continue;
    }
    canvas.addMarker(problem.element_id, "pf-has-problem");
    const badge = document.createElement("div");
    badge.className = "pf-problem-marker";
    badge.textContent = "!";
    badge.title = problem.message;
    overlays.add(problem.element_id, "pf-problem", { position: { top: -12, right: 12 }, html: badge });
  }
}

window.Parkflow = Object.assign(window.Parkflow || {}, { createModeler, showProblems });
