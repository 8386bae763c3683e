/**
 * The box against a hostile LAN, over real sockets (HTTP and HTTPS): DNS rebinding, malformed
 * requests, administration only over HTTPS, server-side sessions, the login limit under
 * concurrency, damaged files, and the open certificate check. Each case is one promise of
 * SECURITY.md.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importBootConf } from "../../src/config/import";
import { openConfigStore } from "../../src/config/store";
import { silentLogger } from "../../src/log/index";
import { browserFor, rawRequest, startHttpBox, type HttpBox } from "../support/http-box";
import { makeBoxDir } from "../support/box-fixture";

const PW = "correct horse battery";
let box: HttpBox | null = null;
afterEach(async () => { await box?.stop(); box = null; });
const raw = (b: HttpBox, tls: boolean, head: string, body = "") =>
  rawRequest(tls ? b.httpsPort : b.httpPort, tls, `${head}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);

describe("every request", () => {
  test("DNS rebinding: a Host that is not the box's own gets a refusal, on every route, HTTP and HTTPS", async () => {
    box = await startHttpBox();
    for (const tls of [false, true]) {
      for (const [m, p] of [["GET", "/"], ["GET", "/api/status"], ["GET", "/settings"], ["POST", "/settings/password/initial"], ["GET", "/api/terminals/"], ["POST", "/api/cert/check"]]) {
        const r = await raw(box, tls, `${m} ${p} HTTP/1.1\r\nHost: attacker.example\r\nContent-Type: application/x-www-form-urlencoded`, "password=chosen-by-the-attacker");
        expect(r.status).toBe(421);
        expect(r.body).not.toContain("IoT Box 0");
      }
    }
    expect(box.credentials.state()).toBe("open");   // nobody chose the first password
    for (const host of ["192.168.1.10", `192.168.1.10:${box.httpPort}`, "caja-01", "caja-01.local", "localhost", "127.0.0.1", "CAJA-01.LOCAL."]) {
      expect((await raw(box, false, `GET /api/status HTTP/1.1\r\nHost: ${host}`)).status).toBe(200);
    }
  });

  test("malformed Host, Origin and bodies are 4xx, never 5xx", async () => {
    box = await startHttpBox();
    for (const host of ["%00", "[::1", "127.0.0.1:99999", "a/b", "a@b", "x y", ""]) {
      const r = await raw(box, false, `GET / HTTP/1.1\r\nHost: ${host}`);
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
    for (const origin of ["x", "::", "null", "http://[::1", "https://attacker.example"]) {
      const r = await raw(box, true, `POST /login HTTP/1.1\r\nHost: 192.168.1.10\r\nOrigin: ${origin}\r\nContent-Type: application/x-www-form-urlencoded`, "password=x");
      expect(r.status).toBe(403);
    }
    for (const path of ["/login", "/settings/password/initial", "/settings/credential"]) {
      const r = await raw(box, true, `POST ${path} HTTP/1.1\r\nHost: 192.168.1.10\r\nContent-Type: multipart/form-data`, "--x\r\nContent-Disposition: form-data; name=\"password\"\r\n\r\nabc\r\n--x--\r\n");
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
  });

  test("a method the box does not use is 405 with the path's Allow, a wrong one on a route too; never a 5xx", async () => {
    box = await startHttpBox();
    for (const m of ["PROPFIND", "TRACE", "MKCOL", "CONNECT"]) {
      const path = m === "CONNECT" ? "192.168.1.10:443" : "/";
      const r = await raw(box, false, `${m} ${path} HTTP/1.1\r\nHost: 192.168.1.10`);
      expect([400, 405]).toContain(r.status);
      if (r.status === 405) expect(r.headers.allow).toContain("GET");
    }
    const r405 = await raw(box, false, "DELETE /api/status HTTP/1.1\r\nHost: 192.168.1.10");
    expect(r405.status).toBe(405);
    expect(r405.headers.allow).toContain("GET");
    const r404 = await raw(box, false, "GET /no/such/page HTTP/1.1\r\nHost: 192.168.1.10\r\nAccept: application/json");
    expect(r404.status).toBe(404);
    expect(JSON.parse(r404.body).error.code).toBe("not_found");
  });
});

describe("administration", () => {
  test("the settings page's terminals card reads /api/terminals/ (with its slash) as the list", async () => {
    box = await startHttpBox({ password: PW });
    const a = browserFor(box.https, "192.168.1.10");
    await a.send("/settings");
    await a.form("/login", { password: PW });
    const r = await a.send("/api/terminals/", { headers: { "x-csrf-token": a.page.csrf } });
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toMatchObject({ terminals: [], posOrigins: [], pairings: [] });
    const wrong = await a.send("/api/status/", { method: "DELETE", headers: { origin: a.origin } });
    expect(wrong.status).toBe(405);
  });


  test("only over HTTPS: HTTP redirects pages and refuses writes; cookies are Secure; an HTTP request never carries the session", async () => {
    box = await startHttpBox({ password: PW });
    const plain = browserFor(box.http, "192.168.1.10");
    for (const p of ["/settings", "/settings/logs", "/api/terminals/"]) {
      const r = await plain.send(p);
      expect(r.status).toBe(308);
      expect(String(r.headers.location)).toBe(`https://192.168.1.10:${box.httpsPort}${p}`);
    }
    for (const p of ["/login", "/api/terminals/pos/pairings", "/settings/password/initial"]) {
      const r = await plain.form(p, { password: PW });
      expect(r.status).toBe(403);
      expect(r.headers["set-cookie"]).toBeUndefined();
    }
    const tls = browserFor(box.https, "192.168.1.10");
    await tls.send("/settings");
    const login = await tls.form("/login", { password: PW });
    expect(login.status).toBe(303);
    const cookie = String(login.headers["set-cookie"]);
    expect(cookie).toContain("__Host-iotbox_session=");
    expect(cookie).toMatch(/Secure/i);
    expect(cookie).toMatch(/HttpOnly/i);
    // The HTTPS session cookie sent over plain HTTP opens nothing.
    const replay = await plain.send("/settings/logs", { headers: { cookie: `__Host-iotbox_session=${tls.jar.get("__Host-iotbox_session")}` } });
    expect(replay.status).toBe(308);
    expect(replay.body).not.toContain("log bundle");
    expect((await tls.send("/settings/logs")).status).toBe(200);
  });

  test("logout ends the session; a password change asks for the current one and ends every session", async () => {
    box = await startHttpBox({ password: PW });
    const a = browserFor(box.https, "192.168.1.10"), b = browserFor(box.https, "192.168.1.10");
    for (const x of [a, b]) { await x.send("/settings"); expect((await x.form("/login", { password: PW })).status).toBe(303); }
    const aSession = a.jar.get("__Host-iotbox_session")!;
    // the CSRF token belongs to the session: b's token does not work with a's session
    const mixed = await a.form("/settings/log-level", { log_level: "debug", _csrf: b.page.csrf });
    expect(mixed.status).toBe(403);
    expect((await a.form("/settings/log-level", { log_level: "debug" })).status).toBe(200);
    expect((await a.form("/settings/password", { current_password: "not the password", password: "another long password" })).status).toBe(403);
    expect(await box.auth.checkPassword(PW)).toBe(true);
    expect((await a.form("/settings/password", { current_password: PW, password: "another long password" })).status).toBe(200);
    expect(await box.auth.checkPassword("another long password")).toBe(true);
    // b's session ended with the change; a got a new one, and its old cookie is dead
    expect((await b.send("/settings/logs")).status).not.toBe(200);
    const stale = await b.send("/settings/logs", { headers: { cookie: `__Host-iotbox_session=${aSession}` } });
    expect(stale.status).not.toBe(200);
    expect((await a.send("/settings/logs")).status).toBe(200);
    await a.send("/settings");
    const kept = a.jar.get("__Host-iotbox_session")!;
    expect((await a.form("/logout", {})).status).toBe(303);
    const after = await a.send("/settings/logs", { headers: { cookie: `__Host-iotbox_session=${kept}` } });
    expect(after.status).not.toBe(200);
  });

  test("Origin: null and foreign origins are refused even with a valid session and token", async () => {
    box = await startHttpBox({ password: PW });
    const a = browserFor(box.https, "192.168.1.10");
    await a.send("/settings");
    await a.form("/login", { password: PW });
    for (const origin of ["null", "https://attacker.example", `https://192.168.1.10:1`]) {
      expect((await a.form("/settings/log-level", { log_level: "debug" }, { origin })).status).toBe(403);
    }
    expect(box.config.get().logLevel).toBe("info");
  });

  test("two visitors choosing the first password at once: exactly one wins, the other is refused, the stored one is the winner's", async () => {
    box = await startHttpBox();
    const visitors = Array.from({ length: 8 }, () => browserFor(box!.https, "192.168.1.10"));
    for (const v of visitors) await v.send("/settings");
    const replies = await Promise.all(visitors.map((v, i) => v.form("/settings/password/initial", { password: `first password ${i}` })));
    const won = replies.map((r, i) => [r.status, i] as const).filter(([st]) => st === 303);
    expect(won.length).toBe(1);
    expect(replies.filter((r) => r.status === 409).length).toBe(7);
    expect(await box.auth.checkPassword(`first password ${won[0]![1]}`)).toBe(true);
  });

  test("the login limit holds under concurrency: 50 parallel wrong passwords → at most 5 checked, then even the right one is refused", async () => {
    box = await startHttpBox({ password: PW });
    const a = browserFor(box.https, "192.168.1.10");
    await a.send("/settings");
    const replies = await Promise.all(Array.from({ length: 50 }, (_, i) => a.form("/login", { password: `wrong-${i}` })));
    const checked = replies.filter((r) => r.status === 401).length;
    const refused = replies.filter((r) => r.status === 429).length;
    expect(checked).toBeLessThanOrEqual(5);
    expect(checked + refused).toBe(50);
    const right = await a.form("/login", { password: PW });
    expect(right.status).toBe(429);
    expect(Number(right.headers["retry-after"])).toBeGreaterThan(0);
    expect(a.jar.has("__Host-iotbox_session")).toBe(false);
  });
});

describe("losing or damaging a file never opens the box", () => {
  async function setUpBox(dataDir: string) {
    const b = await startHttpBox({ dataDir, password: PW });
    const a = browserFor(b.https, "192.168.1.10");
    await a.send("/settings");
    await a.form("/login", { password: PW });
    expect((await a.json("POST", "/api/terminals/pos/pairings", { name: "POS" })).status).toBe(201);
    await b.stop();
  }

  test("a damaged config.json: the password still holds, nobody chooses a new one, the terminals stay closed", async () => {
    const dir = makeBoxDir();
    try {
      await setUpBox(dir.dataDir);
      writeFileSync(join(dir.dataDir, "config.json"), "{ not json");
      box = await startHttpBox({ dataDir: dir.dataDir });
      const x = browserFor(box.https, "192.168.1.10");
      const page = await x.send("/settings");
      expect(page.body).not.toContain("/settings/password/initial");
      expect((await x.form("/settings/password/initial", { password: "chosen-by-the-attacker" })).status).toBe(409);
      expect((await x.json("POST", "/api/terminals/pos/pairings", { name: "evil" })).status).toBe(401);
      expect((await x.form("/login", { password: PW })).status).toBe(303);
    } finally { dir.cleanup(); }
  });

  test("a damaged or deleted admin.json locks the settings until iotbox.conf on the card sets a new password", async () => {
    const dir = makeBoxDir();
    try {
      await setUpBox(dir.dataDir);
      writeFileSync(join(dir.dataDir, "admin.json"), "");
      box = await startHttpBox({ dataDir: dir.dataDir });
      const x = browserFor(box.https, "192.168.1.10");
      const page = await x.send("/settings");
      expect(page.status).toBe(403);
      expect(page.body).toContain("admin_password");
      expect([403, 409]).toContain((await x.form("/settings/password/initial", { password: "chosen-by-the-attacker" })).status);
      expect(box.credentials.state()).toBe("locked");
      expect((await x.json("GET", "/api/terminals/")).status).toBe(401);
      // The technician proves physical access: a new admin_password line on the boot partition.
      const conf = join(dir.root, "iotbox.conf");
      writeFileSync(conf, "admin_password = a new long password\n");
      await importBootConf(conf, box.config, silentLogger(), undefined, (h) => { box!.credentials.setHash(h); box!.auth.endAllSessions(); });
      expect(readFileSync(conf, "utf8")).not.toContain("a new long password");
      await x.send("/settings");
      expect((await x.form("/login", { password: "a new long password" })).status).toBe(303);
    } finally { dir.cleanup(); }
  });

  test("a config.json that parses but holds wrong types starts, says what was reset, keeps the rest", () => {
    const dir = makeBoxDir();
    try {
      const file = join(dir.dataDir, "config.json");
      writeFileSync(file, JSON.stringify({ boxId: "0123456789", serverUrl: 7, dbUuid: "1f2e3d4c-0000-1111", logLevel: { x: 1 }, diag: { enabled: "yes", canaryName: "c.example" }, wifi: [1] }));
      const s = openConfigStore(file);
      expect(s.get()).toMatchObject({ boxId: "0123456789", serverUrl: null, dbUuid: "1f2e3d4c-0000-1111", logLevel: "info", wifi: null });
      expect(s.get().diag).toMatchObject({ enabled: true, canaryName: "c.example" });
      expect(s.loadProblems.join("\n")).toContain('"serverUrl"');
      expect(s.loadProblems.join("\n")).toContain('"diag.enabled"');
      expect(s.loadProblems.length).toBe(4);
      for (const v of ["null", "[]", "42", '"text"', "{}"]) { writeFileSync(file, v); expect(() => openConfigStore(file)).not.toThrow(); }
      expect(existsSync(file)).toBe(true);
    } finally { dir.cleanup(); }
  });
});

describe("the open certificate check", () => {
  test("an unauthenticated caller makes the box ask the service at most once a minute; another site cannot ask at all", async () => {
    box = await startHttpBox({ client: "192.168.1.50" });
    box.config.update((c) => Object.assign(c, { serverUrl: "https://odoo.test", dbUuid: "1f2e3d4c-0000-1111", enterpriseCode: "M2401234" }));
    await box.lifecycle.check("start");
    const before = box.certRequests.length;
    const anyone = browserFor(box.https, "192.168.1.10");
    await Promise.all([
      ...Array.from({ length: 20 }, () => anyone.send("/api/cert/check", { method: "POST" })),
      ...Array.from({ length: 20 }, () => anyone.send("/", { headers: { accept: "text/html" } })),
    ]);
    for (let i = 0; i < 10; i++) await anyone.send("/api/cert/check", { method: "POST" });
    expect(box.certRequests.length - before).toBeLessThanOrEqual(1);
    const cross = await anyone.send("/api/cert/check", { method: "POST", headers: { origin: "https://attacker.example" } });
    expect(cross.status).toBe(403);
  });
});

describe("the database's log download", () => {
  test("GET /iot_drivers/download_logs answers only a request the connected database signed (±5 s), never a secret; over HTTP it is sent to HTTPS", async () => {
    const { signPayload } = await import("../../src/odoo/signature");
    const token = "tok_db_0123456789abcdef";
    box = await startHttpBox({ password: PW, connectionToken: token });
    box.config.update((c) => { c.enterpriseCode = "M2401234"; });
    const anyone = browserFor(box.https, "192.168.1.10");
    const url = "https://192.168.1.10/iot_drivers/download_logs";
    const get = (sig?: string, path = "/iot_drivers/download_logs") => anyone.send(path, { headers: sig ? { authorization: sig } : {} });
    expect((await get()).status).toBe(403);
    expect((await get("0".repeat(64))).status).toBe(403);
    expect((await get(signPayload(url, {}, "tok_another_box", Date.now() / 1000))).status).toBe(403);
    expect((await get(signPayload(url, {}, token, Date.now() / 1000 - 60))).status).toBe(403);
    const ok = await get(signPayload(url, {}, token, Date.now() / 1000));
    expect(ok.status).toBe(200);
    expect(ok.body).toContain("iotbox log bundle");
    for (const secret of ["M2401234", token, "argon2"]) expect(ok.body).not.toContain(secret);
    const old = await get(signPayload(url.replace("iot_drivers", "hw_drivers"), {}, token, Date.now() / 1000), "/hw_drivers/download_logs");
    expect(old.status).toBe(200);
    expect((await browserFor(box.http, "192.168.1.10").send("/iot_drivers/download_logs")).status).toBe(308);
  });
});
