// overlay/usr/lib/iotbox/rauc-pre-install (RAUC's pre-install handler) run on the host with a
// manifest and a release file: only a strictly newer bundle passes, whatever the two versions.
import { afterAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import fc from "fast-check";

const SCRIPT = resolve(import.meta.dir, "../../overlay/usr/lib/iotbox/rauc-pre-install");
const tmp = mkdtempSync("/tmp/iotbox-pre-install-");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function handler(bundle: { version: string; build: number }, running: { version: string; build: number }) {
  writeFileSync(join(tmp, "manifest.raucm"), `[update]\ncompatible=iotbox-raspberrypi-arm64\nversion=${bundle.version}\nbuild=${bundle.build}\n`);
  writeFileSync(join(tmp, "release"), `IOTBOX_VERSION=${running.version}\nIOTBOX_BUILD_EPOCH=${running.build}\n`);
  const r = spawnSync("sh", [SCRIPT], { encoding: "utf8", env: { PATH: process.env.PATH, RAUC_BUNDLE_MOUNT_POINT: tmp, IOTBOX_RELEASE: join(tmp, "release") } });
  return { code: r.status, err: r.stderr };
}

test("the cases by name: newer build, newer core, same, older build, older core", () => {
  const run = { version: "0.3.1+gabc", build: 1_700_000_000 };
  expect(handler({ version: "0.3.1+gdef", build: 1_700_000_001 }, run).code).toBe(0);
  expect(handler({ version: "0.4.0", build: 1 }, run).code).toBe(0);
  const same = handler({ version: "0.3.1+gabc", build: 1_700_000_000 }, run);
  expect(same.code).toBe(1);
  expect(same.err).toContain("already running");
  const older = handler({ version: "0.3.1+g000", build: 1_699_999_999 }, run);
  expect(older.code).toBe(1);
  expect(older.err).toContain("older than the running system (0.3.1+gabc");
  expect(handler({ version: "0.2.9", build: 1_800_000_000 }, run).code).toBe(1);
});

test("any two versions: passes exactly when (core, build) is higher (fast-check)", () => {
  const part = fc.integer({ min: 0, max: 30 });
  const ver = fc.record({ core: fc.tuple(part, part, part), suffix: fc.constantFrom("", "+g1a2b", "-rc1", "+g9.next"), build: fc.integer({ min: 0, max: 2_000_000_000 }) });
  fc.assert(fc.property(ver, ver, (a, b) => {
    const key = (v: typeof a) => [...v.core, v.build];
    const ka = key(a), kb = key(b);
    const i = ka.findIndex((x, j) => x !== kb[j]);
    const newer = i >= 0 && ka[i]! > kb[i]!;
    const r = handler({ version: a.core.join(".") + a.suffix, build: a.build }, { version: b.core.join(".") + b.suffix, build: b.build });
    expect(r.code).toBe(newer ? 0 : 1);
  }), { numRuns: 200 });
}, 60_000);
