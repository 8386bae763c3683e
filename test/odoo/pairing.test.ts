/**
 * The pairing code end to end on loopback: the provisioner's own HTTP app (pairing routes, SQLite)
 * served for real, the box's poller (src/odoo/pairing.ts) and link, and the database double. A
 * fresh box gets a code, shows it (status), polls politely; the database claims the code at the
 * provisioner; the box receives its connection, saves it, registers at the database with its
 * token, and stops polling. An expired code stops the polling and says so.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import { openConfigStore } from "../../src/config/store";
import { createLogger } from "../../src/log/index";
import { createOdooLink } from "../../src/odoo/index";
import { boxFacts } from "../../src/odoo/facts";
import { createPairing, pairingServiceUrl, pollDelayS } from "../../src/odoo/pairing";
import { hashEnterpriseCode } from "../../provisioner/src/eligibility";
import { createApp } from "../../provisioner/src/http/app";
import { createPairingApp } from "../../provisioner/src/pairing/app";
import { createPairingService } from "../../provisioner/src/pairing/service";
import { pairingStore } from "../../provisioner/src/pairing/store";
import { Store } from "../../provisioner/src/store";
import { openSqlite } from "../../provisioner/src/store/sqlite";
import { startOdooDbDouble, type OdooDbDouble } from "../../testkit/odoo-db-double";
import { makeBoxDir } from "../support/box-fixture";

let db: OdooDbDouble, store: Store, server: Server<undefined>, dir: string;
const polls: Array<Record<string, unknown>> = [];
let skewMs = 0; // the service's clock, ahead by this much

beforeAll(async () => {
  db = await startOdooDbDouble();
  dir = mkdtempSync(join(tmpdir(), "iotbox-pairing-"));
  store = new Store(openSqlite(join(dir, "provisioner.db")));
  await store.migrate();
  await store.putDatabase({ uuid: db.dbUuid, enterpriseCodeHash: hashEnterpriseCode(db.enterpriseCode), kind: "production", subscription: "in_progress", iotBoxLines: 2 }, Date.now());
  const pairings = pairingStore(store.driver);
  await pairings.migrate();
  const logger = createLogger({ write: () => {} });
  const app = createApp({ service: { handle: async () => ({ result: {} }) } as never, logger, health: async () => ({}),
    pairing: createPairingApp({ service: createPairingService({ store: pairings, databases: store, logger, ttlMs: 3600_000, now: () => Date.now() + skewMs }), logger }) });
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: async (req) => {
    if (new URL(req.url).pathname.endsWith("connect-box")) polls.push((await req.clone().json()).params);
    return app.fetch(req);
  } });
});
afterAll(async () => { server.stop(true); await store.close(); await db.stop(); rmSync(dir, { recursive: true, force: true }); });

const until = async (f: () => boolean, ms = 5000) => { const end = Date.now() + ms; while (!f()) { if (Date.now() > end) throw new Error("timed out"); await Bun.sleep(10); } };

function box(serial: string) {
  const b = makeBoxDir();
  const config = openConfigStore(join(b.dataDir, "config.json"));
  const logs: string[] = [];
  const logger = createLogger({ write: (l) => logs.push(l) });
  const certChecks: number[] = [];
  const link = createOdooLink({ dataDir: b.dataDir, config, logger, checkEveryMs: 20, backoff: () => 50, certificateEnd: () => null, pairing: () => pairing.view(),
    onConnected: () => certChecks.push(Date.now()),
    facts: () => boxFacts({ identifier: serial, mac: "b8:27:eb:00:00:01", lanIp: "192.168.1.20", httpsUrl: null, version: "1.0.0", name: "caja-02", terminals: [] }) });
  const pairing = createPairing({ logger, serviceUrl: () => `http://127.0.0.1:${server.port}`, serialNumber: serial, connected: link.connected, hasNetwork: () => true,
    onConnection: (c) => link.adopt(c, "pairing"), delayMs: () => 30, idleCheckMs: 20 });
  return { b, config, logs, link, pairing, certChecks, async stop() { pairing.stop(); await link.stop(); b.cleanup(); } };
}

test("a fresh box shows a code; the database claims it at the provisioner; the box connects, registers, stops polling", async () => {
  const x = box("10000000aaaa0001");
  try {
    x.link.start();
    x.pairing.start();
    await until(() => !!x.link.status().pairing?.code);
    const code = x.link.status().pairing!.code!;
    expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(x.link.status()).toMatchObject({ connected: false, pairing: { code, error: null } });
    await until(() => polls.filter((p) => p.pairing_code === code).length >= 3);
    // The reference's poll: code, secret uuid, serial number.
    expect(polls.find((p) => p.pairing_code === code)).toMatchObject({ serial_number: "10000000aaaa0001", pairing_uuid: expect.stringMatching(/^[0-9a-f-]{36}$/) });
    // The database claims the code (the API; the CLI does the same on the store).
    const claim = await fetch(`http://127.0.0.1:${server.port}/odoo-enterprise/iot/claim-box`, { method: "POST", headers: { "content-type": "application/json" },
      body: JSON.stringify({ jsonrpc: "2.0", id: 1, params: { pairing_code: code, url: db.url, token: db.token, db_uuid: db.dbUuid, enterprise_code: db.enterpriseCode } }) });
    expect(await claim.json()).toMatchObject({ result: { status: "claimed", serial_number: "10000000aaaa0001" } });
    await until(() => x.link.status().registered);
    expect(x.link.status()).toMatchObject({ connected: true, server: db.url, via: "pairing", pairing: null, registeredAs: "192.168.1.20" });
    expect(db.setups.at(-1)!.iot_box).toMatchObject({ identifier: "10000000aaaa0001", token: db.token });
    // The credential arrived with the connection: the certificate can be requested with it.
    expect(x.config.get()).toMatchObject({ serverUrl: db.url, dbUuid: db.dbUuid, enterpriseCode: db.enterpriseCode });
    expect(x.certChecks.length).toBe(1);
    const n = polls.length;
    await Bun.sleep(150);
    expect(polls.length).toBe(n);
    expect(x.logs.join("\n")).not.toContain(db.token);
  } finally { await x.stop(); }
});

test("an expired code stops the polling and is shown as ERR_IOT_ODOO_PAIRING_EXPIRED; an unreachable service as ERR_IOT_ODOO_PAIRING_UNREACHABLE", async () => {
  const x = box("10000000aaaa0002");
  try {
    x.pairing.start();
    await until(() => !!x.pairing.view().code);
    skewMs = 2 * 3600_000; // the service's clock moves past the code's expiry
    await until(() => x.pairing.view().error?.code === "ERR_IOT_ODOO_PAIRING_EXPIRED");
    expect(x.pairing.view().code).toBeNull();
    const n = polls.length;
    await Bun.sleep(120);
    expect(polls.length).toBe(n);
  } finally { skewMs = 0; await x.stop(); }
  const closed = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = closed.port;
  closed.stop(true);
  const y = box("10000000aaaa0003");
  const p = createPairing({ logger: createLogger({ write: () => {} }), serviceUrl: () => `http://127.0.0.1:${port}`, serialNumber: "s", connected: () => false, hasNetwork: () => true, onConnection: () => {}, delayMs: () => 30 });
  try {
    p.start();
    await until(() => p.view().error?.code === "ERR_IOT_ODOO_PAIRING_UNREACHABLE");
  } finally { p.stop(); await y.stop(); }
});

test("polite polling: the reference's 14 + 1.01^n s (15 s rising to 40 s over two hours); the reference's proxy with the reference's service", () => {
  expect(pollDelayS(0)).toBe(15);
  expect(Math.round(pollDelayS(100))).toBe(17);
  let t = 0, n = 0;
  while (t < 7200) t += pollDelayS(n++);
  expect(n).toBeLessThanOrEqual(331); // the reference: "max 329 requests" for a 2-hour code
  expect(Math.round(pollDelayS(n))).toBeLessThanOrEqual(41);
  expect(pairingServiceUrl("https://www.odoo.com")).toBe("https://iot-proxy.odoo.com");
  expect(pairingServiceUrl("https://provisioner.example.com/")).toBe("https://provisioner.example.com");
});
