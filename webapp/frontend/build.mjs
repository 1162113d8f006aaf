// Bundles Parkflow's browser code into ../static/dist; nothing is ever loaded from a CDN.
import { build } from "esbuild";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const out = join(here, "..", "static", "dist");
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

await build({
  entryPoints: {
    app: join(here, "src", "app.js"),
    viewer: join(here, "src", "viewer.js"),
    "viewer-style": join(here, "src", "viewer.css"),
    "modeler-style": join(here, "src", "modeler.css"),
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
});
// make compares this stamp with the sources to know when to build again
writeFileSync(join(out, ".built"), new Date().toISOString());
console.log(`built ${out}`);
