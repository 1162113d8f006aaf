// Read-only diagram of an application: completed, current, due-soon and overdue steps marked.
// On a narrow screen the view opens on the current step rather than the whole procedure;
// two fingers zoom it, one finger moves it, and buttons zoom in, out and back to the step.
// A live page (app.js) changes data-marks and sends "pf:marks": the marks follow.
import NavigatedViewer from "bpmn-js/lib/NavigatedViewer";

const NARROW = 640; // px: below this the view opens on the current step
const MIN_ZOOM = 0.2;
const MAX_ZOOM = 3;
// diagram units around the current step on a narrow screen: the step and its neighbours
const AROUND = 140;

function readMarks(container) {
  try {
    return JSON.parse(container.dataset.marks || "{}");
  } catch {
    return {};
  }
}

function applyMarks(viewer, container, shown) {
  const canvas = viewer.get("canvas");
  const registry = viewer.get("elementRegistry");
  for (const [marker, ids] of Object.entries(shown)) {
    for (const id of ids) {
      if (registry.get(id)) {
        canvas.removeMarker(id, `pf-${marker}`);
      }
    }
  }
  const marks = readMarks(container);
  for (const [marker, ids] of Object.entries(marks)) {
    for (const id of ids) {
      if (registry.get(id)) {
        canvas.addMarker(id, `pf-${marker}`);
      }
    }
  }
  return marks;
}

// the whole procedure, or on a narrow screen the current steps with some room around them
function focus(viewer, container, marks) {
  const canvas = viewer.get("canvas");
  canvas.zoom("fit-viewport", "auto");
  const registry = viewer.get("elementRegistry");
  const current = (marks.current || []).map((id) => registry.get(id)).filter(Boolean);
  if (container.clientWidth >= NARROW || !current.length) {
    return;
  }
  const left = Math.min(...current.map((el) => el.x)) - AROUND;
  const top = Math.min(...current.map((el) => el.y)) - AROUND;
  const right = Math.max(...current.map((el) => el.x + el.width)) + AROUND;
  const bottom = Math.max(...current.map((el) => el.y + el.height)) + AROUND;
  const width = right - left;
  const height = bottom - top;
  // keep the screen's shape, so that the step sits in the middle
  const ratio = container.clientWidth / Math.max(container.clientHeight, 1);
  const wide = Math.max(width, height * ratio);
  const tall = wide / ratio;
  canvas.viewbox({ x: left - (wide - width) / 2, y: top - (tall - height) / 2, width: wide, height: tall });
}

function clampZoom(level) {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, level));
}

// two fingers zoom around the point between them, one finger moves the view
function touchNavigation(viewer, container) {
  const canvas = viewer.get("canvas");
  const fingers = new Map();
  let pinch = null;
  const local = (event) => {
    const box = container.getBoundingClientRect();
    return { x: event.clientX - box.left, y: event.clientY - box.top };
  };
  const spread = () => {
    const [a, b] = [...fingers.values()];
    return { distance: Math.hypot(a.x - b.x, a.y - b.y), middle: { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 } };
  };
  container.addEventListener("pointerdown", (event) => {
    if (event.pointerType !== "touch") {
      return;
    }
    fingers.set(event.pointerId, local(event));
    if (fingers.size === 2) {
      pinch = { ...spread(), zoom: canvas.zoom() };
    }
  });
  container.addEventListener("pointermove", (event) => {
    const last = fingers.get(event.pointerId);
    if (!last) {
      return;
    }
    const now = local(event);
    fingers.set(event.pointerId, now);
    if (fingers.size === 1) {
      canvas.scroll({ dx: now.x - last.x, dy: now.y - last.y });
    } else if (fingers.size === 2 && pinch && pinch.distance > 0) {
      const { distance, middle } = spread();
      canvas.zoom(clampZoom(pinch.zoom * (distance / pinch.distance)), middle);
    }
    event.preventDefault();
  });
  const lift = (event) => {
    fingers.delete(event.pointerId);
    if (fingers.size < 2) {
      pinch = null;
    }
  };
  container.addEventListener("pointerup", lift);
  container.addEventListener("pointercancel", lift);
}

function zoomButtons(viewer, container, marks) {
  const canvas = viewer.get("canvas");
  const bar = document.createElement("div");
  bar.className = "pf-zoom no-print";
  const buttons = [
    ["+", container.dataset.zoomInText || "Zoom in", () => canvas.zoom(clampZoom(canvas.zoom() * 1.25), "auto")],
    ["−", container.dataset.zoomOutText || "Zoom out", () => canvas.zoom(clampZoom(canvas.zoom() / 1.25), "auto")],
    ["◎", container.dataset.fitText || "Current step", () => focus(viewer, container, marks())],
  ];
  for (const [sign, label, act] of buttons) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "button small";
    button.textContent = sign;
    button.title = label;
    button.setAttribute("aria-label", label);
    button.addEventListener("click", act);
    bar.append(button);
  }
  container.after(bar);
}

async function showDiagram(container) {
  const viewer = new NavigatedViewer({ container });
  const response = await fetch(container.dataset.bpmnUrl, { credentials: "same-origin" });
  if (!response.ok) {
    container.textContent = container.dataset.failedText || "diagram unavailable";
    return;
  }
  await viewer.importXML(await response.text());
  let marks = applyMarks(viewer, container, {});
  focus(viewer, container, marks);
  touchNavigation(viewer, container);
  zoomButtons(viewer, container, () => marks);
  container.dataset.ready = "1";
  container.addEventListener("pf:marks", () => {
    const before = JSON.stringify(marks.current || []);
    marks = applyMarks(viewer, container, marks);
    // the step moved on: a narrow view follows it
    if (JSON.stringify(marks.current || []) !== before && container.clientWidth < NARROW) {
      focus(viewer, container, marks);
    }
  });
}

document.querySelectorAll("[data-bpmn-url]").forEach((element) => {
  showDiagram(element).catch(() => {
    element.textContent = element.dataset.failedText || "diagram unavailable";
  });
});
