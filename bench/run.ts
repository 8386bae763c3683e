// `npm run bench [-- name…]`: runs every benchmark in bench/ (or the named ones), one after another.
import { readdirSync } from "node:fs";
import { join } from "node:path";
const only = process.argv.slice(2);
const all = readdirSync(import.meta.dir).filter((f) => f.endsWith(".ts") && f !== "run.ts").sort();
let failed = 0;
for (const f of all) {
  const name = f.replace(/\.ts$/, "");
  if (only.length && !only.includes(name)) continue;
  console.log(`\n##### bench/${f}`);
  const p = Bun.spawnSync([process.execPath, join(import.meta.dir, f)], { stdout: "inherit", stderr: "inherit" });
  if (p.exitCode !== 0) { failed++; console.log(`bench/${f} failed (exit ${p.exitCode})`); }
}
process.exit(failed ? 1 : 0);
