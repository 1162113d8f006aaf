// The park administrator's decision table editor: dmn-js, checked and deployed by the server.
import DmnModeler from "dmn-js/lib/Modeler";
import { DMN_ZH } from "./admin-translations.js";

const root = document.getElementById("pf-admin-decision");
const texts = JSON.parse(document.getElementById("pf-texts")?.textContent || "{}");

function say(key, values = {}) {
  return (texts[key] || key).replace(/\{(\w+)\}/g, (_, name) => String(values[name] ?? ""));
}

function status(text, kind = "info") {
  const line = document.getElementById("pf-status");
  line.textContent = text;
  line.dataset.kind = kind;
}

function translator(words) {
  return (template, replacements = {}) =>
    (words[template] || template).replace(/{([^}]+)}/g, (whole, key) => replacements[key] ?? whole);
}

async function post(url, xml) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: {
      "Content-Type": "application/json",
      Accept: "application/json",
      "X-CSRFToken": document.querySelector('meta[name="csrf-token"]')?.content || "",
    },
    body: JSON.stringify({ dmn_xml: xml }),
  });
  if (!(response.headers.get("Content-Type") || "").includes("application/json")) {
    throw new Error(say("session"));
  }
  return { status: response.status, body: await response.json() };
}

// Problems under the toolbar, each with the element it names; cells are outlined in the table.
function listProblems(problems) {
  const list = document.getElementById("pf-problem-list");
  list.replaceChildren();
  document.querySelectorAll("#pf-dmn .pf-has-problem").forEach((cell) => cell.classList.remove("pf-has-problem"));
  for (const problem of problems) {
    const item = document.createElement("li");
    item.dataset.elementId = problem.element_id || "";
    const where = document.createElement("code");
    where.textContent = problem.element_id || say("diagram");
    item.append(where, `: ${problem.text || problem.message}`);
    list.append(item);
    if (problem.element_id) {
      document.querySelector(`#pf-dmn [data-element-id="${CSS.escape(problem.element_id)}"]`)?.classList.add("pf-has-problem");
    }
  }
  document.getElementById("pf-problems").hidden = problems.length === 0;
}

async function currentXml(modeler) {
  const { xml } = await modeler.saveXML({ format: true });
  return xml;
}

// the first decision table, where there is one: what Parkflow runs
async function openTable(modeler, xml) {
  await modeler.importXML(xml);
  const table = modeler.getViews().find((view) => view.type === "decisionTable");
  if (table) {
    await modeler.open(table);
  }
}

async function validate(modeler) {
  status(say("checking"));
  const { body } = await post(root.dataset.validateUrl, await currentXml(modeler));
  const problems = body.problems || [];
  listProblems(problems);
  status(problems.length ? say("problems") : say("valid"), problems.length ? "error" : "success");
}

async function deploy(modeler) {
  status(say("deploying"));
  const { status: code, body } = await post(root.dataset.deployUrl, await currentXml(modeler));
  if (code === 422) {
    listProblems(body.problems || []);
    status(say("not_deployed"), "error");
    return;
  }
  if (code >= 400) {
    status(say("failed", { reason: body.message || code }), "error");
    return;
  }
  listProblems([]);
  unsaved.dirty = false;
  const created = body.processes.filter((p) => p.created);
  if (created.length) {
    status(say("deployed_with", { processes: created.map((p) => `${p.name} v${p.version}`).join("、") }), "success");
  } else if (body.saved && !body.processes.length) {
    status(say("saved_only"), "success");
  } else {
    status(say(body.saved ? "deployed" : "unchanged"), "success");
  }
  const link = document.createElement("a");
  link.href = body.list_url;
  link.textContent = say("list");
  document.getElementById("pf-status").append(" ", link);
}

// Leaving the page with changes not deployed asks first.
const unsaved = {
  dirty: false,
  watched: new WeakSet(),
  watch(modeler) {
    const follow = () => {
      const viewer = modeler.getActiveViewer();
      if (viewer && !this.watched.has(viewer)) {
        this.watched.add(viewer);
        viewer.get("eventBus").on("elements.changed", () => {
          this.dirty = true;
        });
      }
    };
    modeler.on("views.changed", follow);
    follow();
    window.addEventListener("beforeunload", (event) => {
      if (this.dirty) {
        event.preventDefault();
        event.returnValue = "";
      }
    });
  },
};

function guard(action) {
  return () => action().catch((error) => status(say("failed", { reason: error.message }), "error"));
}

async function start() {
  const chinese = document.documentElement.lang.startsWith("zh");
  // each view takes its own modules (dmn-js lets a view's options replace the common ones)
  const additionalModules = chinese ? [{ translate: ["value", translator(DMN_ZH)] }] : [];
  const modeler = new DmnModeler({
    container: document.getElementById("pf-dmn"),
    drd: { additionalModules },
    decisionTable: { additionalModules },
    literalExpression: { additionalModules },
  });
  window.Parkflow = Object.assign(window.Parkflow || {}, { dmnModeler: modeler });
  status(say("loading"));
  const response = await fetch(root.dataset.dmnUrl, { credentials: "same-origin" });
  if (!response.ok) {
    throw new Error(`${response.status}`);
  }
  await openTable(modeler, await response.text());
  unsaved.watch(modeler);
  const buttons = {
    "pf-validate": () => validate(modeler),
    "pf-deploy": () => deploy(modeler),
    "pf-download-dmn": async () => {
      const link = document.createElement("a");
      const ids = modeler.getDefinitions()?.drgElement || [];
      link.href = URL.createObjectURL(new Blob([await currentXml(modeler)], { type: "application/xml" }));
      link.download = `${ids[0]?.id || "decision"}.dmn`;
      document.body.append(link);
      link.click();
      link.remove();
    },
  };
  for (const [id, action] of Object.entries(buttons)) {
    const button = document.getElementById(id);
    button.addEventListener("click", guard(action));
    button.disabled = false;
  }
  document.getElementById("pf-upload").addEventListener("change", async (event) => {
    const [file] = event.target.files;
    event.target.value = "";
    if (file) {
      try {
        await openTable(modeler, await file.text());
        listProblems([]);
        status(say("imported", { file: file.name }), "success");
      } catch (error) {
        status(say("load_failed", { reason: error.message }), "error");
      }
    }
  });
  root.dataset.ready = "true";
  status(say("loaded"));
}

if (root) {
  start().catch((error) => status(say("load_failed", { reason: error.message }), "error"));
}
