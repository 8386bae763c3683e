/** A box's data directory in a temp folder, with the modules wired as main.ts wires them. */
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openConfigStore } from "../../src/config/store";
import { createCertificateStore } from "../../src/cert/store";
import { createCertificateLifecycle, type LifecycleDeps } from "../../src/cert/lifecycle";
import { requestCertificate } from "../../src/cert/provisioning";
import { silentLogger } from "../../src/log/index";
import type { BoxConfig } from "../../src/config/schema";

export function makeBoxDir() {
  const root = mkdtempSync(join(tmpdir(), "iotbox-test-"));
  const dataDir = join(root, "data");
  mkdirSync(join(dataDir, "cert"), { recursive: true });
  return { root, dataDir, certDir: join(dataDir, "cert"), cleanup: () => rmSync(root, { recursive: true, force: true }) };
}

export function wireLifecycle(dataDir: string, cfg: Partial<BoxConfig>, o: { ca?: string[]; timeoutMs?: number; now?: () => Date; ip?: string | null | (() => string | null); onServe?: LifecycleDeps["onServe"] } = {}) {
  const config = openConfigStore(join(dataDir, "config.json"));
  config.update((c) => Object.assign(c, cfg));
  const store = createCertificateStore(join(dataDir, "cert"));
  const served: string[] = [];
  const lifecycle = createCertificateLifecycle({
    store, config, logger: silentLogger(), now: o.now,
    request: (r) => requestCertificate(r, { ca: o.ca, timeoutMs: o.timeoutMs ?? 3000 }, o.now),
    lanIp: () => (o.ip === undefined ? "192.168.1.10" : typeof o.ip === "function" ? o.ip() : o.ip),
    onServe: o.onServe ?? ((g) => served.push(g.info.fingerprint256)),
  });
  return { config, store, lifecycle, served };
}
