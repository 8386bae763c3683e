/**
 * Settings → Connect on the box's whole HTTP surface (real sockets, HTTPS, a logged-in
 * browser-like client), against the database double: a pasted token connects the box, the
 * homepage and /api/status say so (never the token), the log bundle scrubs it, a bad token or a
 * refusing database shows its code and saves nothing, disconnect ends it; only logged in, only
 * with the session's CSRF token, only from the box's own origin.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { connectionStore } from "../../src/odoo/store";
import { startOdooDbDouble, type OdooDbDouble } from "../../testkit/odoo-db-double";
import { browserFor, startHttpBox, type HttpBox } from "../support/http-box";

const PW = "correct horse battery";
let db: OdooDbDouble, box: HttpBox;
beforeAll(async () => {
  db = await startOdooDbDouble();
  // The link may reach the double on loopback, and nothing else.
  box = await startHttpBox({ password: PW, odooFetch: (url, init) => (url.startsWith(db.url) ? fetch(url, init) : Promise.reject(new Error("not the double"))) });
});
afterAll(async () => { await box.stop(); await db.stop(); });

async function admin() {
  const b = browserFor(box.https, "192.168.1.10");
  await b.send("/settings");
  expect((await b.form("/login", { password: PW })).status).toBe(303);
  return b;
}

test("connect from the settings: registered at the database, shown on the homepage, the token never shown back nor in the log bundle", async () => {
  const b = await admin();
  const page = await b.send("/settings?lang=en");
  expect(page.body).toContain('action="/settings/connect?lang=en"');
  // Without the CSRF token, or from another origin, nothing happens.
  expect((await b.form("/settings/connect", { token: db.connectionToken("url") }, { csrf: false })).status).toBe(403);
  expect((await b.form("/settings/connect", { token: db.connectionToken("url") }, { origin: "https://evil.example" })).status).toBe(403);
  expect(db.setups.length).toBe(0);

  const r = await b.form("/settings/connect?lang=en", { token: db.connectionToken("url") });
  expect(r.status).toBe(200);
  expect(r.body).toContain("Connected: the database knows this box.");
  expect(r.body).not.toContain(db.token);
  expect(db.setups.at(-1)!.iot_box).toMatchObject({ identifier: "10000000abcdef01", ip: "192.168.1.10", token: db.token, name: "caja-01", version: "9.9.9-test" });

  const home = await browserFor(box.http, "192.168.1.10").send("/?lang=es&local");
  expect(home.body).toContain("Conectada a");
  expect(home.body).toContain(db.url);
  expect(home.body).not.toContain(db.token);
  const status = JSON.parse((await browserFor(box.http, "192.168.1.10").send("/api/status")).body);
  expect(status.odoo).toMatchObject({ connected: true, server: db.url, dbName: db.dbName, registered: true, registeredAs: "192.168.1.10", code: null });
  expect(JSON.stringify(status)).not.toContain(db.token);
  const bundle = await b.send("/settings/logs");
  expect(bundle.status).toBe(200);
  expect(bundle.body).not.toContain(db.token);
  expect(bundle.body).not.toContain(db.enterpriseCode);
  expect(box.logs.join("\n")).not.toContain(db.token);

  const out = await b.form("/settings/disconnect?lang=es", {});
  expect(out.body).toContain("Desconectada de la base de datos.");
  expect(existsSync(connectionStore(box.dataDir).path)).toBe(false);
  await Bun.sleep(550); // /api/status is serialised at most every 500 ms
  expect(JSON.parse((await browserFor(box.http, "192.168.1.10").send("/api/status")).body).odoo).toMatchObject({ connected: false, server: null });
});

test("a bad token and a refusing database: the code and what to do on the page, nothing saved, never a 5xx", async () => {
  const b = await admin();
  const bad = await b.form("/settings/connect?lang=es", { token: "hola" });
  expect(bad.status).toBe(400);
  expect(bad.body).toContain("ERR_IOT_ODOO_TOKEN_INVALID");
  expect(bad.body).toContain("No se pudo leer el token de conexión");
  const refused = await b.form("/settings/connect?lang=en", { token: db.connectionToken("pipes").replace(db.token, "tok_revoked_0000") });
  expect(refused.status).toBe(422);
  expect(refused.body).toContain("ERR_IOT_ODOO_SETUP_REFUSED");
  expect(refused.body).not.toContain("tok_revoked_0000");
  db.down();
  const down = await b.form("/settings/connect?lang=en", { token: db.connectionToken("base64") });
  db.up();
  expect(down.status).toBe(422);
  expect(down.body).toContain("ERR_IOT_ODOO_SETUP_STATUS");
  expect(existsSync(connectionStore(box.dataDir).path)).toBe(false);
  expect(box.config.get().serverUrl).toBeNull();
});

test("not logged in: connect and disconnect are refused", async () => {
  const anon = browserFor(box.https, "192.168.1.10");
  await anon.send("/settings");
  expect((await anon.form("/settings/connect", { token: db.connectionToken("url") })).status).toBe(401);
  expect((await anon.form("/settings/disconnect", {})).status).toBe(401);
});
