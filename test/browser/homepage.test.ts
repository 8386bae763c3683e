/**
 * The homepage in a real browser (Debian's chromium, headless, phone-sized window): the page
 * renders the state a technician needs, and screenshots land in out/screenshots/ for review.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "../support/chromium";
import { createWebApp } from "../../src/web/app";
import { openCredentials } from "../../src/admin/credentials";
import { createAuth } from "../../src/web/auth";
import { silentLogger } from "../../src/log/index";
import { startServers } from "../../src/https/server";
import { makeBoxDir, wireLifecycle } from "../support/box-fixture";
import { startFaultProvisioner, type FaultProvisioner } from "../support/fault-provisioner";

const SHOTS = join(import.meta.dir, "../../out/screenshots");
let svc: FaultProvisioner;
beforeAll(async () => { svc = await startFaultProvisioner(); mkdirSync(SHOTS, { recursive: true }); });
afterAll(async () => { await svc.stop(); });


async function serveBox(cfg: Record<string, unknown>) {
  const box = makeBoxDir();
  const w = wireLifecycle(box.dataDir, cfg, { ca: [svc.ca.certPem] });
  await w.lifecycle.check("start");
  const app = createWebApp({
    lifecycle: w.lifecycle, store: w.config, auth: createAuth({ credentials: openCredentials({ dataDir: box.dataDir }) }), logger: silentLogger(),
    config: () => w.config.get(), version: "0.1.0", lan: () => ({ ifname: "eth0", ipv4: "192.168.1.10", mac: "b8:27:eb:12:34:56" }),
    hostname: () => "caja-01", facts: () => ({ cpuTempC: 47.2, memUsedPct: 28, memTotalMb: 906, diskUsedPct: 9, uptimeS: 93784, updatedAt: null }),
    httpsPort: () => servers?.httpsPort ?? 443, setupProblems: () => [], restart: () => {},
  });
  let servers: ReturnType<typeof startServers> | null = null;
  servers = startServers({ httpPort: 0, httpsPort: 0, hostname: "127.0.0.1", logger: silentLogger(), tls: (w.store.readCurrent() as any).gen ?? (w.store.readTemporary() as any).gen, fetch: (r) => app.fetch(r) });
  const s = servers;
  return { url: `http://127.0.0.1:${s.httpPort}`, https: `https://127.0.0.1:${s.httpsPort}`, stop: async () => { w.lifecycle.stop(); await s.stop(true); box.cleanup(); } };
}

test("an unconfigured box shows its code and remedy; the page fits a phone", async () => {
  const b = await serveBox({ provisioningUrl: svc.url });
  try {
    const dom = await chromium(["--dump-dom", `${b.url}/?lang=en`]);
    expect(dom).toContain("ERR_IOT_HTTPS_CHECK_NO_SERVER");
    expect(dom).toContain("What to do");
    await chromium([`--screenshot=${join(SHOTS, "home-error-en.png")}`, `${b.url}/?lang=en`]);
    expect(statSync(join(SHOTS, "home-error-en.png")).size).toBeGreaterThan(10_000);
    // The settings are only over HTTPS: over HTTP the browser is sent there (the placeholder certificate).
    const settings = await chromium(["--ignore-certificate-errors", "--dump-dom", `${b.url}/settings?lang=es`]);
    expect(settings).toContain("Elige la contraseña de administrador");
    await chromium(["--ignore-certificate-errors", `--screenshot=${join(SHOTS, "settings-first-visit-es.png")}`, `${b.https}/settings?lang=es`]);
  } finally { await b.stop(); }
}, 60_000);

test("a provisioned box shows its HTTPS address as a link, in Spanish too", async () => {
  const b = await serveBox({ provisioningUrl: svc.url, serverUrl: "https://odoo.test", dbUuid: "1f2e3d4c-0000-1111", enterpriseCode: "M2401234" });
  try {
    const dom = await chromium(["--dump-dom", `${b.url}/?lang=es&local`]);
    expect(dom).toContain('href="https://192-168-1-10.d73e7513.iot.test:');
    expect(dom).toContain("HTTPS está listo");
    await chromium([`--screenshot=${join(SHOTS, "home-ok-es.png")}`, `${b.url}/?lang=es&local`]);
    expect(statSync(join(SHOTS, "home-ok-es.png")).size).toBeGreaterThan(10_000);
  } finally { await b.stop(); }
}, 60_000);
