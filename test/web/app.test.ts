/**
 * Route tests through `app.request()`: no socket. The certificate lifecycle behind them is
 * the real one, with a box that has no server configured (no network needed).
 */
import { afterEach, beforeEach, describe, expect, test } from "bun:test";
import { allowedMethods, createWebApp } from "../../src/web/app";
import { createAuth } from "../../src/web/auth";
import { openCredentials } from "../../src/admin/credentials";
import { createLogger } from "../../src/log/index";
import { describe as describeDiag } from "../../src/diagnostics/index";
import { makeBoxDir, wireLifecycle } from "../support/box-fixture";

let box: ReturnType<typeof makeBoxDir>;
let w: ReturnType<typeof wireLifecycle>;
let logs: string[];
let restarted = 0;
let creds: ReturnType<typeof openCredentials>;
const setPassword = (pw: string) => openCredentials({ dataDir: box.dataDir }).setHash(Bun.password.hashSync(pw, { algorithm: "argon2id" }));
const facts = { cpuTempC: 48.3, memUsedPct: 31, memTotalMb: 922, diskUsedPct: 12, uptimeS: 3725, updatedAt: null };

function makeApp() {
  const logger = createLogger({ write: (l) => logs.push(l) });
  creds = openCredentials({ dataDir: box.dataDir });
  const auth = createAuth({ credentials: creds });
  return createWebApp({
    lifecycle: w.lifecycle, store: w.config, auth, logger, config: () => w.config.get(), version: "9.9.9-test",
    lan: () => ({ ifname: "eth0", ipv4: "192.168.1.10", mac: "b8:27:eb:12:34:56" }), hostname: () => "caja-01",
    facts: () => facts, httpsPort: () => 443, setupProblems: () => ["line 3: unknown key \"colour\""],
    restart: () => { restarted++; }, clientAddress: () => "192.168.1.50",
  });
}

beforeEach(() => { box = makeBoxDir(); w = wireLifecycle(box.dataDir, {}); logs = []; restarted = 0; });
afterEach(() => { w.lifecycle.stop(); box.cleanup(); });

/** A tiny cookie jar: the app's Set-Cookie headers carried into the next request. */
function browser(app: ReturnType<typeof makeApp>) {
  const jar = new Map<string, string>();
  const send = async (path: string, init: RequestInit = {}) => {
    const headers = new Headers(init.headers);
    headers.set("cookie", [...jar].map(([k, v]) => `${k}=${v}`).join("; "));
    const res = await app.request(`https://192.168.1.10${path}`, { ...init, headers });
    for (const c of res.headers.getSetCookie()) { const [kv] = c.split(";"); const i = kv!.indexOf("="); jar.set(kv!.slice(0, i), kv!.slice(i + 1)); }
    // As a browser would: the next form carries the token of the last page it showed.
    const token = /name="_csrf" value="([^"]+)"/.exec(await res.clone().text())?.[1];
    if (token) page.csrf = token;
    // A browser follows a 303 to the page it names (which carries the new session's token).
    const to = res.headers.get("location");
    if (res.status === 303 && to?.startsWith("/")) await send(to);
    return res;
  };
  const page = { csrf: "" };
  const form = (path: string, fields: Record<string, string>, withCsrf = true) =>
    send(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", origin: "https://192.168.1.10" },
      body: new URLSearchParams({ ...(withCsrf ? { _csrf: page.csrf } : {}), ...fields }).toString() });
  return { send, form, jar, page };
}

describe("status and homepage", () => {
  test("GET /api/status has the exact code and the certificate fields", async () => {
    await w.lifecycle.check("start");
    const s = await (await makeApp().request("/api/status")).json();
    expect(s.cert.code).toBe("ERR_IOT_HTTPS_CHECK_NO_SERVER");
    for (const k of ["subject", "notBefore", "notAfter", "url"]) expect(s.cert).toHaveProperty(k);
    expect(s.cert.url).toBeNull();
    expect(s.box).toMatchObject({ hostname: "caja-01", ip: "192.168.1.10", mac: "b8:27:eb:12:34:56", version: "9.9.9-test" });
  });

  test("the homepage shows the code, what it means and what to do, in English and Spanish", async () => {
    await w.lifecycle.check("start");
    const app = makeApp();
    const en = await (await app.request("/?lang=en")).text();
    expect(en).toContain("ERR_IOT_HTTPS_CHECK_NO_SERVER");
    expect(en).toContain("What to do");
    expect(en).toContain("b8:27:eb:12:34:56");
    expect(en).toContain("48.3 °C");
    expect(en).toContain("unknown key &quot;colour&quot;");
    const es = await (await app.request("/", { headers: { "accept-language": "es-ES,es;q=0.9" } })).text();
    expect(es).toContain("Qué hacer");
    expect(es).toContain("Falta la configuración del servidor");
  });

  test("a homepage load starts a check without waiting for it, and the page follows it", async () => {
    // A certificate service that accepts connections and never answers.
    const { createServer } = await import("node:net");
    const held: import("node:net").Socket[] = [];
    const silent = createServer((sock) => { held.push(sock); }).listen(0, "127.0.0.1");
    await new Promise((r) => silent.once("listening", r));
    const port = (silent.address() as { port: number }).port;
    try {
      w.config.update((c) => Object.assign(c, { serverUrl: "https://odoo.test", dbUuid: "1f2e3d4c-0000-1111", enterpriseCode: "M2401234", provisioningUrl: `https://127.0.0.1:${port}` }));
      const app = makeApp();
      const html = await (await app.request("/")).text();
      // The page came back while the check is still out (the service never answers): it did not wait.
      expect(html).toContain("Checking the certificate");
      expect(html).toContain("fetch('/api/status'");
      expect(w.lifecycle.state().checking).toBe(true);
      const done = await w.lifecycle.check("homepage"); // the same check, not a second one
      expect(done.error?.name).toBe("ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION");
      expect(done.error?.detail).toContain("timeout");
    } finally { for (const s of held) s.destroy(); silent.close(); }
  }, 10_000);

  test("hostile values are escaped, never markup", async () => {
    w.config.update((c) => { c.bootImport = { appliedAt: "x", problems: [], fileHash: "" }; });
    const app = createWebApp({
      lifecycle: w.lifecycle, store: w.config, auth: createAuth({ credentials: openCredentials({ dataDir: box.dataDir }) }), logger: createLogger({ write: () => {} }),
      config: () => w.config.get(), version: "1", lan: () => null, hostname: () => "<script>alert(1)</script>",
      facts: () => facts, httpsPort: () => 443, setupProblems: () => ["<img src=x onerror=alert(1)>"], restart: () => {},
    });
    const html = await (await app.request("/")).text();
    expect(html).not.toContain("<script>alert(1)");
    expect(html).not.toContain("<img src=x");
    expect(html).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
  });
});

describe("diagnosis next to the certificate code", () => {
  test("ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION shows the cause the diagnosis found, with its remedy", async () => {
    w.config.update((c) => Object.assign(c, { serverUrl: "https://odoo.test", dbUuid: "1f2e3d4c-0000-1111", enterpriseCode: "M2401234", provisioningUrl: "https://127.0.0.1:1" }));
    await w.lifecycle.check("start");
    const app = createWebApp({
      lifecycle: w.lifecycle, store: w.config, auth: createAuth({ credentials: openCredentials({ dataDir: box.dataDir }) }), logger: createLogger({ write: () => {} }),
      config: () => w.config.get(), version: "1", lan: () => null, hostname: () => "caja-01", facts: () => facts, httpsPort: () => 443, setupProblems: () => [], restart: () => {},
      diagnostics: () => ({ active: [{ code: "ERR_IOT_FIREWALL_HTTPS_DROPPED", severity: "error", since: new Date().toISOString(), led: "firewall" }] }),
      describeDiag,
    });
    const html = await (await app.request("/?lang=en&local")).text();
    expect(html).toContain("ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION");
    expect(html).toContain("ERR_IOT_FIREWALL_HTTPS_DROPPED");
    expect(html).toContain(describeDiag("ERR_IOT_FIREWALL_HTTPS_DROPPED", "en").remedy.slice(0, 30));
    const s = await (await app.request("/api/status?lang=es")).json();
    expect(s.diagnostics[0]).toMatchObject({ code: "ERR_IOT_FIREWALL_HTTPS_DROPPED", led: "firewall" });
    expect(s.diagnostics[0].meaning).toBe(describeDiag("ERR_IOT_FIREWALL_HTTPS_DROPPED", "es").meaning);
  });
});

describe("settings", () => {
  test("first visit chooses the admin password; then settings save with CSRF", async () => {
    const b = browser(makeApp());
    const first = await (await b.send("/settings")).text();
    expect(first).toContain("Choose the admin password");
    expect((await b.form("/settings/password/initial", { password: "short" })).status).toBe(400);
    const chosen = await b.form("/settings/password/initial", { password: "correct horse battery" });
    expect(chosen.status).toBe(303);
    expect(creds.hash()).toMatch(/^\$argon2id\$/);
    expect(JSON.stringify(w.config.get())).not.toContain("argon2");   // not in config.json
    const saved = await b.form("/settings/credential", { db_uuid: "1f2e3d4c-0000-1111", enterprise_code: "M2401234" });
    expect(saved.status).toBe(200);
    expect(w.config.get()).toMatchObject({ dbUuid: "1f2e3d4c-0000-1111", enterpriseCode: "M2401234" });
    const page = await (await b.send("/settings")).text();
    expect(page).not.toContain("M2401234");           // a secret is never shown back
    await b.form("/settings/server", { server_url: "https://shop.example.com", provisioning_url: "https://prov.example.com" });
    expect(w.config.get().serverUrl).toBe("https://shop.example.com");
    const bad = await b.form("/settings/server", { server_url: "javascript:alert(1)", provisioning_url: "" });
    expect(bad.status).toBe(400);
    expect(w.config.get().serverUrl).toBe("https://shop.example.com");
  });

  test("without the CSRF token, or from another origin, nothing changes", async () => {
    const b = browser(makeApp());
    await b.send("/settings");
    await b.form("/settings/password/initial", { password: "correct horse battery" });
    expect((await b.form("/settings/credential", { db_uuid: "aaaaaaaa-bbbb" }, false)).status).toBe(403);
    const cross = await b.send("/settings/credential", { method: "POST", headers: { origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" }, body: `_csrf=${b.jar.get("iotbox_csrf")}&db_uuid=aaaaaaaa-bbbb` });
    expect(cross.status).toBe(403);
    expect(w.config.get().dbUuid).toBeNull();
  });

  test("settings, logs and restart need the admin; failed logins are rate-limited", async () => {
    setPassword("correct horse battery");
    const app = makeApp();
    const b = browser(app);
    expect(await (await b.send("/settings")).text()).toContain("Log in");
    expect((await b.send("/settings/logs")).status).toBe(401);
    expect((await b.form("/settings/restart", {})).status).toBe(401);
    expect(restarted).toBe(0);
    for (let i = 0; i < 5; i++) expect((await b.form("/login", { password: `wrong-${i}` })).status).toBe(401);
    const locked = await b.form("/login", { password: "correct horse battery" });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
  });

  test("the log bundle carries status and logs, never a secret", async () => {
    setPassword("correct horse battery");
    w.config.update((c) => { c.enterpriseCode = "M2401234"; c.wifi = { ssid: "shop", password: "wifi-secret-99", country: "ES" }; });
    const app = makeApp();
    const b = browser(app);
    await b.send("/settings");
    expect((await b.form("/login", { password: "correct horse battery" })).status).toBe(303);
    logs.length = 0;
    await b.form("/settings/credential", { db_uuid: "1f2e3d4c-0000-1111", enterprise_code: "Z9999999" });
    const res = await b.send("/settings/logs");
    expect(res.status).toBe(200);
    expect(res.headers.get("content-disposition")).toContain("attachment");
    const text = await res.text();
    expect(text).toContain("credential changed");
    for (const secret of ["M2401234", "Z9999999", "wifi-secret-99", "correct horse", "argon2", b.jar.get("__Host-iotbox_session")!]) expect(text).not.toContain(secret);
    expect(logs.join("\n")).not.toContain("Z9999999");
    expect((await b.form("/settings/restart", {})).status).toBe(200);
    await Bun.sleep(400);
    expect(restarted).toBe(1);
  });

  test("a huge or non-text field is a clear 400", async () => {
    const b = browser(makeApp());
    await b.send("/settings");
    await b.form("/settings/password/initial", { password: "correct horse battery" });
    const res = await b.form("/settings/credential", { db_uuid: "a".repeat(5000) });
    expect(res.status).toBe(400);
  });
});

test("allowedMethods follows the route table, also after it grows (its patterns are compiled once)", () => {
  const routes = [{ method: "GET", path: "/api/status" }, { method: "ALL", path: "/settings/*" }, { method: "POST", path: "/api/terminals/terminals/:id/test" }];
  expect(allowedMethods(routes, "/api/status/")).toEqual(["GET", "HEAD"]);
  expect(allowedMethods(routes, "/api/terminals/terminals/P400-1/test")).toEqual(["POST"]);
  expect(allowedMethods(routes, "/settings/x")).toEqual([]);
  routes.push({ method: "DELETE", path: "/api/status" });
  expect(allowedMethods(routes, "/api/status")).toEqual(["DELETE", "GET", "HEAD"]);
});
