import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestFleet, terminalCn, type TestFleet } from "../../tools/terminal-simulator/certs";
import { startTerminalSimulator, type SimulatorOptions, type TerminalSimulator } from "../../tools/terminal-simulator";

export const PASSPHRASE = "s3cret-Passphrase-for-tests";
export const KEY = { passphrase: PASSPHRASE, keyIdentifier: "iotboxtest", keyVersion: 1 };

let fleet: TestFleet | null = null;
/** One test fleet per test file (openssl runs a few times, ~0.2 s). */
export function testFleet(): TestFleet {
  if (!fleet) {
    const f = createTestFleet();
    fleet = { ...f, dispose() { f.dispose(); if (fleet === this) fleet = null; } };
  }
  return fleet;
}

export async function startSim(poiid: string, opts: Partial<SimulatorOptions> = {}): Promise<TerminalSimulator> {
  return startTerminalSimulator({ poiid, key: KEY, cert: testFleet().issue(terminalCn(poiid)), ...opts });
}

export function tempDir(): { path: string; dispose(): void } {
  const path = mkdtempSync(join(tmpdir(), "iotbox-terminals-"));
  return { path, dispose: () => rmSync(path, { recursive: true, force: true }) };
}

/** Polls f every `everyMs` until it gives a value (not null/false), which it returns. */
export async function waitFor<T>(f: () => T | Promise<T>, ms = 5000, what = "condition", everyMs = 10): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v) return v as NonNullable<T>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(everyMs);
  }
}
