import { expect, test } from "bun:test";
import { chmodSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { executableMappings, releaseExecutablePages } from "./memory";

test("the executable's mappings are read from a maps text, nothing else", () => {
  const maps = [
    "5581c000-5581d000 r--p 00000000 08:02 1234  /usr/bin/iotbox",
    "5581d000-55a1d000 r-xp 00001000 08:02 1234  /usr/bin/iotbox",
    "55a1d000-55a2d000 rw-p 00201000 08:02 1234  /usr/bin/iotbox",
    "7f0000000000-7f0000100000 rw-p 00000000 00:00 0 ",
    "7f0000100000-7f0000200000 r-xp 00000000 08:02 99   /usr/lib/x86_64-linux-gnu/libc.so.6",
    "7f0000200000-7f0000300000 r-xp 00000000 08:02 1235  /usr/bin/iotbox-old (deleted)",
  ].join("\n");
  expect(executableMappings(maps, "/usr/bin/iotbox")).toEqual([
    { start: 0x5581c000, end: 0x5581d000, perms: "r--p" },
    { start: 0x5581d000, end: 0x55a1d000, perms: "r-xp" },
    { start: 0x55a1d000, end: 0x55a2d000, perms: "rw-p" },
  ]);
});

test("releasing hands the executable's clean pages back and the process goes on", () => {
  // A private copy of the runtime, so that no other process shares its pages (shared pages stay).
  const dir = mkdtempSync(join(tmpdir(), "iotbox-madv-"));
  try {
    const bin = join(dir, "bun");
    copyFileSync(process.execPath, bin);
    chmodSync(bin, 0o755);
    const script = join(dir, "child.ts");
    writeFileSync(script, `import { releaseExecutablePages } from ${JSON.stringify(join(import.meta.dir, "memory.ts"))};
const file = () => Number(/RssFile:\\s+(\\d+)/.exec(require("fs").readFileSync("/proc/self/status", "utf8"))[1]);
releaseExecutablePages(); await Bun.sleep(50);
const before = file(); await import("hono"); const loaded = file();
const r = releaseExecutablePages(); const after = file();
console.log(JSON.stringify({ before, loaded, after, mappings: r.mappings, ok: [1, 2, 3].map((x) => x * 2).join() }));`);
    const p = Bun.spawnSync([bin, script], { stdout: "pipe", stderr: "pipe" });
    expect(p.exitCode).toBe(0);
    const r = JSON.parse(p.stdout.toString().trim().split("\n").pop()!);
    expect(r.mappings).toBeGreaterThan(0);
    expect(r.after).toBeLessThan(r.loaded * 0.8);   // the file pages are given back…
    expect(r.ok).toBe("2,4,6");                       // …and the code goes on running
  } finally { rmSync(dir, { recursive: true, force: true }); }
}, 30_000);
