/**
 * The compiled box for end-to-end tests: `IOTBOX_BIN` when set, else dist/iotbox-linux-x64,
 * rebuilt when any file under src/ is newer than it (a test must never run yesterday's binary).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

const ROOT = join(import.meta.dir, "..");

function newest(dir: string): number {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/** Builds the binary if it is missing or older than the sources; returns its path. */
export function boxBinary(): string {
  const bin = boxBinary.path;
  if (process.env.IOTBOX_BIN) return bin;
  if (!existsSync(bin) || statSync(bin).mtimeMs < newest(join(ROOT, "src"))) {
    const b = Bun.spawnSync([process.execPath, join(ROOT, "scripts/build.ts"), "--only", "iotbox-linux-x64"], { cwd: ROOT, stdout: "inherit", stderr: "inherit" });
    if (b.exitCode !== 0) throw new Error("build failed");
  }
  return bin;
}
/** Where the binary is (without building it). */
boxBinary.path = process.env.IOTBOX_BIN ?? join(ROOT, "dist/iotbox-linux-x64");
