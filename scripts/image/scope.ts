// What every QEMU test file of the image stage sets up the same way: a scratch folder, a log line
// prefix, and a teardown that cuts the machine still running and stops the test fleet.
import { afterAll } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import type { Fleet } from "../../testkit";
import type { Machine } from "./qemu";

export function imageTestScope(label: string, running: () => { machine: Machine | null; fleet: Fleet | null }) {
  const tmp = mkdtempSync(`/tmp/iotbox-image-${label}-`);
  afterAll(async () => {
    const r = running();
    if (r.machine) await r.machine.powerCut();
    await r.fleet?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });
  const log = (msg: string) => console.log(`[image ${label} ${new Date().toISOString().slice(11, 19)}] ${msg}`);
  return { tmp, log };
}
