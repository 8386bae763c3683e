/**
 * The technician's own device (src/web/name-check.ts) in Debian's headless Chromium at a phone's
 * width: the homepage opened on the box's IP fetches https://<the box's name>/api/name-check from
 * the browser. `--host-resolver-rules` makes the name fail (~NOTFOUND) or maps it to the box; the
 * page says which next to the HTTPS link, in English and Spanish, and shows the box's own
 * rebinding finding and this device's as one block. Screenshots: out/screenshots/name-check-*.png.
 * The box runs as the runtime composes it (createHttpFront: the Host gate, then the app).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { chromium as run } from "../support/chromium";
const chromium = (args: string[]) => run(args, { height: 1300, budgetMs: 4000 });
import { openCredentials } from "../../src/admin/credentials";
import { describe as describeDiag } from "../../src/diagnostics/index";
import { startServers } from "../../src/https/server";
import { silentLogger } from "../../src/log/index";
import { ownHostSet } from "../../src/net/own-hosts";
import { createAuth } from "../../src/web/auth";
import { createHttpFront } from "../../src/web/compose";
import { createNameCheckApp } from "../../src/web/name-check";
import { makeBoxDir, wireLifecycle } from "../support/box-fixture";
import { startFaultProvisioner, type FaultProvisioner } from "../support/fault-provisioner";

const SHOTS = join(import.meta.dir, "../../out/screenshots");
let svc: FaultProvisioner;
beforeAll(async () => { svc = await startFaultProvisioner(); mkdirSync(SHOTS, { recursive: true }); });
afterAll(async () => { await svc.stop(); });


/** A provisioned box (its name 192-168-1-10.<label>.iot.test) whose page is opened on 127.0.0.1, its "LAN address". */
async function serveBox(diagnostics: Array<{ code: string; severity?: "error" | "warning"; detail?: string }> = []) {
  const box = makeBoxDir();
  const w = wireLifecycle(box.dataDir, { provisioningUrl: svc.url, serverUrl: "https://odoo.test", dbUuid: "1f2e3d4c-0000-1111", enterpriseCode: "M2401234" }, { ca: [svc.ca.certPem] });
  await w.lifecycle.check("start");
  const name = new URL(w.lifecycle.url()!).hostname;
  const auth = createAuth({ credentials: openCredentials({ dataDir: box.dataDir }) });
  let servers: ReturnType<typeof startServers> | null = null;
  const active = diagnostics.map((d) => ({ code: d.code, severity: d.severity ?? "warning", since: new Date(0).toISOString(), led: "dns" as const, ...(d.detail ? { detail: d.detail } : {}) }));
  const front = createHttpFront({
    web: { lifecycle: w.lifecycle, store: w.config, auth, logger: silentLogger(), config: () => w.config.get(), version: "0.1.0",
      lan: () => ({ ifname: "eth0", ipv4: "127.0.0.1", mac: "b8:27:eb:12:34:56" }), hostname: () => "caja-01",
      facts: () => ({ cpuTempC: 47.2, memUsedPct: 28, memTotalMb: 906, diskUsedPct: 9, uptimeS: 93784, updatedAt: null }),
      httpsPort: () => servers?.httpsPort ?? 443, setupProblems: () => [], restart: () => {},
      diagnostics: () => ({ active }), describeDiag },
    terminals: { posApi: new (await import("hono")).Hono(), adminApi: new (await import("hono")).Hono() }, network: null, auth, logger: silentLogger(),
    ownHosts: () => ownHostSet({ addresses: ["127.0.0.1"], names: ["caja-01", name] }),
  });
  servers = startServers({ httpPort: 0, httpsPort: 0, hostname: "127.0.0.1", logger: silentLogger(), tls: (w.store.readCurrent() as any).gen, fetch: (r) => front(r) });
  const s = servers;
  return { name, page: (lang: string) => `http://127.0.0.1:${s.httpPort}/?lang=${lang}&local`, stop: async () => { w.lifecycle.stop(); await s.stop(true); box.cleanup(); } };
}

const resultOf = (dom: string) => /id="namecheck"[^>]*data-result="(\w+)"/.exec(dom)?.[1] ?? null;
const fails = (name: string) => [`--host-resolver-rules=MAP ${name} ~NOTFOUND`];
// The box's certificate is from the test CA, which this Chromium profile does not trust.
const mapped = (name: string) => [`--host-resolver-rules=MAP ${name} 127.0.0.1`, "--ignore-certificate-errors"];

describe("the name, checked from the technician's browser", () => {
  test("the name does not resolve on this device: the page says so beside the HTTPS link (en + es)", async () => {
    const b = await serveBox();
    try {
      const en = await chromium([...fails(b.name), "--dump-dom", b.page("en")]);
      expect(resultOf(en)).toBe("fail");
      expect(en).toContain("This device cannot open the secure address");
      expect(en).toContain("secure DNS");
      expect(en).toContain("The box itself is fine if its own diagnosis is clean.");
      expect(en).toMatch(/<p hidden="">All good/); // not "all good" beside a device that cannot reach the box
      const es = await chromium([...fails(b.name), "--dump-dom", b.page("es")]);
      expect(resultOf(es)).toBe("fail");
      expect(es).toContain("Este dispositivo no puede abrir la dirección segura");
      for (const lang of ["en", "es"]) {
        const shot = join(SHOTS, `name-check-fail-${lang}.png`);
        await chromium([...fails(b.name), `--screenshot=${shot}`, b.page(lang)]);
        expect(statSync(shot).size).toBeGreaterThan(10_000);
      }
    } finally { await b.stop(); }
  }, 90_000);

  test("opened on the IP without ?local: the page moves on to the HTTPS name only when this device reaches it", async () => {
    const b = await serveBox();
    try {
      const onIp = b.page("en").replace("&local", "");
      // The name works here: the browser ends on the HTTPS name (whose page does not go anywhere).
      const moved = await chromium([...mapped(b.name), "--dump-dom", onIp]);
      expect(moved).toContain('id="namecheck"');
      expect(moved).not.toContain('data-go="1"');
      // The name fails here: the page stays on the IP and says why, instead of a browser error.
      const stayed = await chromium([...fails(b.name), "--dump-dom", onIp]);
      expect(stayed).toContain('data-go="1"');
      expect(resultOf(stayed)).toBe("fail");
      expect(stayed).toContain("This device cannot open the secure address");
    } finally { await b.stop(); }
  }, 90_000);

  test("the name mapped to the box: the check passes, nothing alarming is shown", async () => {
    const b = await serveBox();
    try {
      const dom = await chromium([...mapped(b.name), "--dump-dom", b.page("en")]);
      expect(resultOf(dom)).toBe("ok");
      await chromium([...mapped(b.name), `--screenshot=${join(SHOTS, "name-check-ok-en.png")}`, b.page("en")]);
    } finally { await b.stop(); }
  }, 60_000);

  test("the box found the router blocking its name, and this device fails too: one finding, not two (en + es)", async () => {
    const b = await serveBox([{ code: "ERR_IOT_DNS_REBIND_BLOCKED" }]);
    try {
      const en = await chromium([...fails(b.name), "--dump-dom", b.page("en")]);
      expect(resultOf(en)).toBe("fail");
      expect(en.split(`<span class="code">ERR_IOT_DNS_REBIND_BLOCKED</span>`).length - 1).toBe(1); // shown once, inside the name check
      expect(en).toContain('<p class="nc-too">This device cannot open <span class="nc-name">' + b.name.replaceAll("-", "\u2011").split(".")[0]); // shown (no hidden)
      expect(en).toContain(`rebind-domain-ok=/${b.name.split(".").slice(1).join(".")}/`); // the remedy names the real zone
      expect(en).not.toContain('class="nc-fail" role="alert">'); // the separate "this device" block stays hidden
      const ok = await chromium([...mapped(b.name), "--dump-dom", b.page("es")]);
      expect(resultOf(ok)).toBe("ok");
      expect(ok).toContain("usa otro DNS");
      for (const lang of ["en", "es"]) await chromium([...fails(b.name), `--screenshot=${join(SHOTS, `name-check-rebind-${lang}.png`)}`, b.page(lang)]);
    } finally { await b.stop(); }
  }, 90_000);
});

test("a failed probe no cause explains is on the page with what was seen, never 'all good' (the certificate itself valid)", async () => {
  const detail = "captive: connectivity check http://connectivity.vendor.example/generate_204 (198.18.1.4): no answer (timeout)";
  const b = await serveBox([{ code: "ERR_IOT_DIAG_UNEXPLAINED", severity: "error", detail }]);
  try {
    const dom = await chromium([...mapped(b.name), "--dump-dom", b.page("en")]);
    expect(dom).toContain('<span class="code">ERR_IOT_DIAG_UNEXPLAINED</span>');
    expect(dom).toContain(`Detail: ${detail}`);
    expect(dom).not.toContain(">All good");
    await chromium([...mapped(b.name), `--screenshot=${join(SHOTS, "home-unexplained-es.png")}`, b.page("es")]);
  } finally { await b.stop(); }
}, 60_000);

describe("the endpoint", () => {
  test("CORS: only the box's own IP origin may read the answer; a preflight from it is answered (Private Network Access too)", async () => {
    const app = createNameCheckApp({ boxId: () => "a1b2c3d4e5", lanIp: () => "192.168.1.10" });
    for (const origin of ["http://192.168.1.10", "https://192.168.1.10", "http://192.168.1.10:8080"]) {
      const r = await app.request("/", { headers: { origin } });
      expect([r.status, r.headers.get("access-control-allow-origin")]).toEqual([200, origin]);
      expect(await r.json()).toEqual({ box: "a1b2c3d4e5" });
    }
    for (const origin of ["http://192.168.1.11", "http://evil.example", "null", "http://192.168.1.10.evil.example", "ftp://192.168.1.10"]) {
      const r = await app.request("/", { headers: { origin } });
      expect(r.headers.get("access-control-allow-origin")).toBeNull();
    }
    const pre = await app.request("/", { method: "OPTIONS", headers: { origin: "http://192.168.1.10", "access-control-request-method": "GET", "access-control-request-private-network": "true" } });
    expect([pre.status, pre.headers.get("access-control-allow-origin"), pre.headers.get("access-control-allow-private-network")]).toEqual([204, "http://192.168.1.10", "true"]);
  });
});
