// Bundles Parkflow's browser code into ../static/dist; nothing is ever loaded from a CDN.
import { build } from "esbuild";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "static", "dist");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

// The modeler's lint rules (.bpmnlintrc: bpmnlint's recommended rules and Parkflow's own,
// bpmnlint-plugin-parkflow) compiled into the bundle: src/ imports them as "./bpmnlint-config",
// a module only this build makes.
const compileConfig = createRequire(import.meta.url)("bpmnlint/lib/support/compile-config");
const lintConfig = await compileConfig(JSON.parse(readFileSync(join(here, ".bpmnlintrc"), "utf8")));
const bpmnlintConfig = {
  name: "bpmnlint-config",
  setup(plugin) {
    plugin.onResolve({ filter: /^\.\/bpmnlint-config$/ }, () => ({ path: "bpmnlint-config", namespace: "bpmnlint" }));
    plugin.onLoad({ filter: /.*/, namespace: "bpmnlint" }, () => ({
      contents: lintConfig,
      loader: "js",
      resolveDir: here,
    }));
  },
};

await build({
  entryPoints: {
    app: join(here, "src", "app.js"),
    viewer: join(here, "src", "viewer.js"),
    "viewer-style": join(here, "src", "viewer.css"),
    "modeler-style": join(here, "src", "modeler.css"),
    decisions: join(here, "src", "decisions.js"),
    "decisions-style": join(here, "src", "decisions.css"),
    admin: join(here, "src", "admin.js"),
    "admin-style": join(here, "src", "admin.css"),
    board: join(here, "src", "board.js"),
    "board-style": join(here, "src", "board.css"),
  },
  bundle: true,
  minify: true,
  sourcemap: false,
  format: "iife",
  target: ["es2020"],
  outdir: out,
  loader: { ".woff": "file", ".woff2": "file", ".ttf": "file", ".eot": "file", ".svg": "file" },
  logLevel: "warning",
  plugins: [bpmnlintConfig],
});
// make compares this stamp with the sources to know when to build again
writeFileSync(join(out, ".built"), new Date().toISOString());
console.log(`built ${out}`);
