// Lints BPMN files with the modeler's rules (../.bpmnlintrc) outside the browser:
//   node bpmnlint-plugin-parkflow/lint.mjs diagram.bpmn ...
// prints {file: [{id, rule, message, category}]} as JSON; the tests compare it with the
// deploy check.
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { BpmnModdle } from "bpmn-moddle";

const require = createRequire(import.meta.url);
const { Linter } = require("bpmnlint");
const NodeResolver = require("bpmnlint/lib/resolver/node-resolver");
const camunda = require("camunda-bpmn-moddle/resources/camunda.json");

const here = dirname(fileURLToPath(import.meta.url));
const config = JSON.parse(readFileSync(join(here, "..", ".bpmnlintrc"), "utf8"));
const moddle = new BpmnModdle({ camunda });

const found = {};
for (const file of process.argv.slice(2)) {
  const { rootElement } = await moddle.fromXML(readFileSync(file, "utf8"));
  // a linter per file: some rules remember what they saw
  const reports = await new Linter({ config, resolver: new NodeResolver() }).lint(rootElement);
  found[file] = Object.entries(reports).flatMap(([rule, entries]) =>
    entries.map((entry) => ({ id: entry.id, rule, message: entry.message, category: entry.category })),
  );
}
process.stdout.write(JSON.stringify(found));
