// The park administrator's modeler page: open, validate, deploy, download and upload diagrams.
import { ZH } from "./admin-translations.js";
import { createModeler, showProblems } from "./modeler.js";

const root = document.getElementById("pf-admin-modeler");
const texts = JSON.parse(document.getElementById("pf-texts")?.textContent || "{}");

function say(key, values = {}) {
  return (texts[key] || key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function status(text, kind = "info") {
  const line = document.getElementById("pf-status");
  line.textContent = text;
  line.dataset.kind = kind;
}

function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content || "";
}

async function postDiagram(url, xml) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRFToken": csrfToken(),
    },
    body: JSON.stringify({ bpmn_xml: xml }),
  });
  const type = response.headers.get("Content-Type") || "";
  if (!type.includes("application/json")) {
    throw new Error(say("session"));
  }
  return { status: response.status, body: await response.json() };
}

// Lists problems or warnings under the toolbar, each in the user's language (``text``) with
// its element, line and, when it lies in another file of the deployment, that file.
function listProblems(modeler, problems, kind = "problem", title = null) {
  const section = document.getElementById(`pf-${kind}s`);
  if (title) {
    document.getElementById(`pf-${kind}s-title`).textContent = title;
  }
  const list = document.getElementById(`pf-${kind}-list`);
  list.replaceChildren();
  for (const problem of problems) {
    const item = document.createElement("li");
    item.dataset.elementId = problem.element_id || "";
    const target = document.createElement("button");
    target.type = "button";
    target.className = "linklike pf-problem-element";
    target.textContent = problem.element_id || say("diagram");
    target.addEventListener("click", () => selectElement(modeler, problem.element_id));
    item.append(target);
    if (problem.line) {
      item.append(` (${say("line", { line: problem.line })})`);
    }
    if (problem.file) {
      const file = document.createElement("span");
      file.className = "pf-problem-file";
      file.textContent = ` ${say("in_file", { file: problem.file })}`;
      item.append(file);
    }
    item.append(`: ${problem.text || problem.message}`);
    list.append(item);
  }
  section.hidden = problems.length === 0;
  showProblems(modeler, problems, kind);
}

function selectElement(modeler, elementId) {
  const element = elementId && modeler.get("elementRegistry").get(elementId);
  if (element) {
    modeler.get("selection").select(element);
    modeler.get("canvas").scrollToElement(element);
  }
}

async function currentXml(modeler) {
  const { xml } = await modeler.saveXML({ format: true });
  return xml;
}

function download(filename, content, type) {
  const link = document.createElement("a");
  link.href = URL.createObjectURL(new Blob([content], { type }));
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 1000);
}

function processId(modeler) {
  const definitions = modeler.getDefinitions();
  const process = (definitions?.rootElements || []).find((e) => e.$type === "bpmn:Process");
  return process?.id || "diagram";
}

async function validate(modeler) {
  status(say("checking"));
  const { body } = await postDiagram(root.dataset.validateUrl, await currentXml(modeler));
  const problems = body.problems || [];
  const warnings = body.warnings || [];
  listProblems(modeler, problems);
  // "the diagram deploys" only when it does
  const title = problems.length ? say("warnings") : say("warnings_checked");
  listProblems(modeler, warnings, "warning", title);
  if (problems.length) {
    status(say("problems"), "error");
  } else {
    status(warnings.length ? say("valid_with_warnings") : say("valid"), "success");
  }
}

async function deploy(modeler) {
  status(say("deploying"));
  const { status: code, body } = await postDiagram(root.dataset.deployUrl, await currentXml(modeler));
  if (code === 422) {
    listProblems(modeler, body.problems || []);
    listProblems(modeler, [], "warning");
    status(say("not_deployed"), "error");
    return;
  }
  if (code >= 400) {
    status(say("failed", { reason: body.error?.message || code }), "error");
    return;
  }
  listProblems(modeler, []);
  // deployed all the same; the administrator should still look at these
  listProblems(modeler, body.warnings || [], "warning", say("warnings_deployed"));
  const first = body.processes[0];
  status(say(first.created ? "deployed" : "unchanged", first), "success");
  await drafts.deployed();
  const link = document.createElement("a");
  link.href = body.list_url;
  link.textContent = say("list");
  document.getElementById("pf-status").append(" ", link);
}

async function openFile(modeler, file) {
  try {
    await modeler.importXML(await file.text());
    modeler.get("canvas").zoom("fit-viewport", "auto");
    listProblems(modeler, []);
    listProblems(modeler, [], "warning");
    status(say("imported", { file: file.name }), "success");
    drafts.changed();
  } catch (error) {
    status(say("load_failed", { reason: error.message }), "error");
  }
}

// The toolbar's toggle plays the diagram with bpmn-js-token-simulation: start events get a
// play button, gateways let the modeller choose the flow, nothing is sent to the server.
function simulation(modeler, button) {
  const toggle = modeler.get("toggleMode");
  modeler.get("eventBus").on("tokenSimulation.toggleMode", ({ active }) => {
    button.setAttribute("aria-pressed", String(active));
    button.classList.toggle("primary", active);
    for (const id of ["pf-validate", "pf-deploy"]) {
      document.getElementById(id).disabled = active;
    }
    status(say(active ? "simulating" : "simulation_off"));
  });
  button.addEventListener("click", () => toggle.toggleMode());
  button.disabled = false;
}

// Drafts: what is drawn is saved on the server a moment after each change (per person and
// procedure), offered back when the modeler opens again, and removed on deploy or discard.
// Leaving the page with changes not deployed asks first.
const SAVE_AFTER_MS = 1500;
const drafts = {
  modeler: null,
  target: "",
  timer: null,
  dirty: false,
  url(extra = "") {
    return `${root.dataset.draftUrl}?target=${encodeURIComponent(this.target)}${extra}`;
  },
  async request(method, url, body) {
    const response = await fetch(url, {
      method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
      body: body ? JSON.stringify(body) : undefined,
    });
    if (!(response.headers.get("Content-Type") || "").includes("application/json")) {
      throw new Error(say("session"));
    }
    return { status: response.status, body: await response.json() };
  },
  state(text) {
    document.getElementById("pf-draft-state").textContent = text;
  },
  // the draft of this procedure, restored over the deployed diagram when they differ
  async open(modeler, target, deployedXml) {
    this.modeler = modeler;
    this.target = target;
    modeler.on("commandStack.changed", () => this.changed());
    window.addEventListener("beforeunload", (event) => {
      if (this.dirty) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
    document.getElementById("pf-draft-discard").addEventListener("click", guard(() => this.discard(deployedXml)));
    let body = {};
    try {
      ({ body } = await this.request("GET", this.url()));
    } catch (error) {
      // the deployed diagram opens all the same; only the draft is missing
      this.state(say("draft_failed", { reason: error.message }));
    }
    if (body.draft && body.draft.xml !== deployedXml) {
      await modeler.importXML(body.draft.xml);
      modeler.get("canvas").zoom("fit-viewport", "auto");
      const when = new Date(body.draft.saved_at).toLocaleString(document.documentElement.lang);
      document.getElementById("pf-draft-text").textContent = say("draft_restored", { when });
      document.getElementById("pf-draft").hidden = false;
      this.dirty = true;
    }
  },
  changed() {
    this.dirty = true;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.save().catch((error) => this.state(say("draft_failed", { reason: error.message }))), SAVE_AFTER_MS);
    this.state(say("draft_pending"));
  },
  async save() {
    this.timer = null;
    const { status: code, body } = await this.request("PUT", root.dataset.draftUrl, {
      target: this.target,
      xml: await currentXml(this.modeler),
    });
    if (code >= 400) {
      throw new Error(body.error?.message || code);
    }
    const when = new Date(body.saved_at).toLocaleTimeString(document.documentElement.lang);
    this.state(say("draft_saved", { when }));
    root.dataset.draftSaved = body.saved_at;
  },
  async discard(deployedXml) {
    clearTimeout(this.timer);
    await this.request("DELETE", this.url());
    await this.modeler.importXML(deployedXml);
    this.modeler.get("canvas").zoom("fit-viewport", "auto");
    document.getElementById("pf-draft").hidden = true;
    this.dirty = false;
    this.state("");
    status(say("draft_discarded"), "success");
  },
  async deployed() {
    clearTimeout(this.timer);
    this.dirty = false;
    document.getElementById("pf-draft").hidden = true;
    await this.request("DELETE", this.url("&reason=deployed"));
    this.state("");
  },
};

function guard(action) {
  return () => action().catch((error) => status(say("failed", { reason: error.message }), "error"));
}

async function start() {
  const chinese = document.documentElement.lang.startsWith("zh");
  const modeler = createModeler(
    document.getElementById("pf-canvas"),
    document.getElementById("pf-properties"),
    { translations: chinese ? ZH : undefined, services: JSON.parse(root.dataset.services || "[]") },
  );
  // the page's scripts and end-to-end tests reach the modeler's API here
  window.Parkflow.modeler = modeler;
  status(say("loading"));
  const response = await fetch(root.dataset.bpmnUrl, { credentials: "same-origin" });
  if (!response.ok) {
    throw new Error(`${response.status}`);
  }
  const deployedXml = await response.text();
  await modeler.importXML(deployedXml);
  modeler.get("canvas").zoom("fit-viewport", "auto");
  await drafts.open(modeler, `process:${root.dataset.key || ""}`, deployedXml);
  const buttons = {
    "pf-validate": () => validate(modeler),
    "pf-deploy": () => deploy(modeler),
    "pf-download-xml": async () =>
      download(`${processId(modeler)}.bpmn`, await currentXml(modeler), "application/xml"),
    "pf-download-svg": async () => {
      const { svg } = await modeler.saveSVG();
      download(`${processId(modeler)}.svg`, svg, "image/svg+xml");
    },
  };
  simulation(modeler, document.getElementById("pf-simulate"));
  for (const [id, action] of Object.entries(buttons)) {
    const button = document.getElementById(id);
    button.addEventListener("click", guard(action));
    button.disabled = false;
  }
  document.getElementById("pf-upload").addEventListener("change", (event) => {
    const [file] = event.target.files;
    if (file) {
      openFile(modeler, file);
    }
    event.target.value = "";
  });
  root.dataset.ready = "true";
  status(say("loaded"));
}

if (root) {
  start().catch((error) => status(say("load_failed", { reason: error.message }), "error"));
}
