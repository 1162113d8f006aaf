// Read-only diagram of an application: completed, current, due-soon and overdue steps marked.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

async function showDiagram(container) {
  const viewer = new NavigatedViewer({ container });
  const response = await fetch(container.dataset.bpmnUrl, { credentials: "same-origin" });
  if (!response.ok) {
    container.textContent = container.dataset.failedText || "diagram unavailable";
    return;
  }
  await viewer.importXML(await response.text());
  viewer.get("canvas").zoom("fit-viewport", "auto");
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  const marks = JSON.parse(container.dataset.marks || "{}");
  for (const [marker, ids] of Object.entries(marks)) {
    for (const id of ids) {
      if (registry.get(id)) {
        canvas.addMarker(id, `pf-${marker}`);
      }
    }
  }
}

document.querySelectorAll("[data-bpmn-url]").forEach((element) => {
  showDiagram(element).catch(() => {
    element.textContent = element.dataset.failedText || "diagram unavailable";
  });
});
