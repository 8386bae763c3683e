/**
 * The box's link to its database against the database double (testkit/odoo-db-double.ts, the
 * reference's wire format, real HTTP on loopback): connecting with each token shape, what
 * /iot/setup receives, registering again only on a change, the certificate's end date after each
 * change, failures retried with back-off and shown, disconnect, the token kept 0600 and never
 * logged; and `connection_token` in iotbox.conf, removed from the file once applied.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { openConfigStore } from "../../src/config/store";
import { importBootConf } from "../../src/config/import";
import { createLogger } from "../../src/log/index";
import { createOdooLink, type OdooLink } from "../../src/odoo/index";
import { boxFacts } from "../../src/odoo/facts";
import { readIdentifier } from "../../src/odoo/identity";
import { connectionStore } from "../../src/odoo/store";
import { startOdooDbDouble, type OdooDbDouble } from "../../testkit/odoo-db-double";
import { makeBoxDir } from "../support/box-fixture";

let db: OdooDbDouble;
beforeAll(async () => { db = await startOdooDbDouble(); });
afterAll(async () => { await db.stop(); });
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => { for (const f of cleanups.splice(0)) await f(); db.up(); });

const until = async (f: () => boolean, ms = 5000) => { const end = Date.now() + ms; while (!f()) { if (Date.now() > end) throw new Error("timed out"); await Bun.sleep(10); } };

function rig(o: { serial?: string } = {}) {
  const box = makeBoxDir();
  const proc = join(box.dataDir, "..", "proc");
  mkdirSync(join(proc, "device-tree"), { recursive: true });
  if (o.serial) writeFileSync(join(proc, "device-tree", "serial-number"), `${o.serial}\0`);
  writeFileSync(join(proc, "cpuinfo"), "processor\t: 0\nSerial\t\t: 00000000\n");
  const logs: string[] = [];
  const logger = createLogger({ write: (l) => logs.push(l), level: "debug" });
  const config = openConfigStore(join(box.dataDir, "config.json"));
  const facts = { lanIp: "192.168.1.10", httpsUrl: null as string | null, terminals: [{ id: "P400Plus-275039202", poiid: "P400Plus-275039202" }] };
  let certEnd: Date | null = null;
  const connected: number[] = [];
  const identifier = readIdentifier(proc, config.get().boxId);
  const link = createOdooLink({ dataDir: box.dataDir, config, logger, backoff: () => 100, checkEveryMs: 20, timeoutMs: 500,
    certificateEnd: () => certEnd, onConnected: () => connected.push(Date.now()),
    facts: () => boxFacts({ identifier, mac: "b8:27:eb:12:34:56", lanIp: facts.lanIp, httpsUrl: facts.httpsUrl, version: "1.2.3", name: "caja-01", terminals: facts.terminals }) });
  cleanups.push(async () => { await link.stop(); box.cleanup(); });
  return { box, logs, config, facts, link, identifier, connected, setCert: (d: Date | null) => { certEnd = d; } };
}

describe("connecting with a pasted token", () => {
  test.each(["pipes", "base64", "url"] as const)("the %s shape: tried at /iot/setup, then saved (token 0600, credential in config.json)", async (shape) => {
    const r = rig({ serial: "10000000abcdef01" });
    const before = db.setups.length;
    expect(await r.link.connect(db.connectionToken(shape))).toEqual({ ok: true });
    const call = db.setups.at(-1)!;
    expect(db.setups.length).toBe(before + 1);
    expect(call.iot_box).toEqual({ identifier: "10000000abcdef01", mac: "b8:27:eb:12:34:56", ip: "192.168.1.10", token: db.token, version: "1.2.3", name: "caja-01" });
    expect(call.devices).toEqual({ "P400Plus-275039202": { name: "Adyen P400Plus-275039202", type: "payment", manufacturer: "Adyen", connection: "network", subtype: "" } });
    // the request is the reference's JSON-RPC shape
    expect(db.requests.at(-1)).toMatchObject({ path: "/iot/setup", body: { jsonrpc: "2.0", method: "call", params: { iot_box: { identifier: "10000000abcdef01" } } } });
    expect(r.config.get()).toMatchObject({ serverUrl: db.url, dbUuid: db.dbUuid, enterpriseCode: db.enterpriseCode });
    const file = connectionStore(r.box.dataDir).path;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(r.box.dataDir, "odoo")).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(file, "utf8"))).toMatchObject({ token: db.token, via: "token", dbName: shape === "url" ? db.dbName : null });
    expect(r.link.status()).toMatchObject({ connected: true, server: db.url, registered: true, registeredAs: "192.168.1.10", error: null });
    expect(r.connected.length).toBe(1);
    expect(r.logs.join("\n")).not.toContain(db.token);
    expect(JSON.stringify(r.link.status())).not.toContain(db.token);
  });

  test("without a Pi serial number the identifier is the box id", () => {
    const r = rig();
    expect(r.identifier).toBe(r.config.get().boxId);
  });

  test("a token that does not parse, a database that does not answer, one that refuses: each its code, nothing saved", async () => {
    const r = rig();
    const n = db.setups.length;
    expect(await r.link.connect("https://shop.example.com/?db_uuid=x")).toMatchObject({ ok: false, code: "ERR_IOT_ODOO_TOKEN_INVALID" });
    db.down();
    expect(await r.link.connect(db.connectionToken("url"))).toMatchObject({ ok: false, code: "ERR_IOT_ODOO_SETUP_STATUS", detail: "HTTP 503" });
    db.hang();
    expect(await r.link.connect(db.connectionToken("url"))).toMatchObject({ ok: false, code: "ERR_IOT_ODOO_SETUP_UNREACHABLE", detail: "timeout" });
    db.up();
    const wrong = db.connectionToken("pipes").replace(db.token, "tok_not_the_right_one");
    expect(await r.link.connect(wrong)).toMatchObject({ ok: false, code: "ERR_IOT_ODOO_SETUP_REFUSED", detail: "403 Forbidden: invalid IoT token" });
    const closed = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() });
    const port = closed.port;
    closed.stop(true);
    expect(await r.link.connect(`http://127.0.0.1:${port}|${db.token}|${db.dbUuid}|${db.enterpriseCode}`)).toMatchObject({ ok: false, code: "ERR_IOT_ODOO_SETUP_UNREACHABLE" });
    expect(db.setups.length).toBe(n);
    expect(existsSync(connectionStore(r.box.dataDir).path)).toBe(false);
    expect(r.config.get()).toMatchObject({ serverUrl: null, dbUuid: null, enterpriseCode: null });
    expect(r.link.status().connected).toBe(false);
  });
});

describe("telling the database", () => {
  async function connectedRig() {
    const r = rig({ serial: "10000000feedf00d" });
    expect(await r.link.connect(db.connectionToken("url"))).toEqual({ ok: true });
    r.link.start();
    return r;
  }
  const setupsOf = (id: string) => db.setups.filter((s) => s.iot_box.identifier === id);

  test("no change, no request (no timer loop); an IP change, a new terminal, the HTTPS domain: each one registration", async () => {
    const r = await connectedRig();
    const id = r.identifier;
    await Bun.sleep(200); // ten local checks
    expect(setupsOf(id).length).toBe(1);
    r.facts.lanIp = "192.168.1.77";
    await until(() => setupsOf(id).length === 2);
    expect(setupsOf(id)[1]!.iot_box.ip).toBe("192.168.1.77");
    r.facts.terminals = [...r.facts.terminals, { id: "P400Plus-2", poiid: "P400Plus-2" }];
    await until(() => setupsOf(id).length === 3);
    expect(Object.keys(setupsOf(id)[2]!.devices).sort()).toEqual(["P400Plus-2", "P400Plus-275039202"]);
    r.facts.httpsUrl = "https://192-168-1-77.ab12cd34ef.iotbox.test";
    await until(() => setupsOf(id).length === 4);
    expect(setupsOf(id)[3]!.iot_box.ip).toBe("192-168-1-77.ab12cd34ef.iotbox.test");
    await Bun.sleep(150);
    expect(setupsOf(id).length).toBe(4);
    expect(r.link.status().registeredAs).toBe("192-168-1-77.ab12cd34ef.iotbox.test");
  });

  test("the certificate's end date after each change (a renewal reports the new date), once each", async () => {
    const r = await connectedRig();
    const mine = () => db.certStatus.filter((c) => c.identifier === r.identifier);
    r.setCert(new Date("2027-03-01T10:00:00Z"));
    await until(() => mine().length === 1);
    expect(mine()[0]!.ssl_certificate_end_date).toBe("2027-03-01 10:00:00");
    await Bun.sleep(150);
    expect(mine().length).toBe(1);
    r.setCert(new Date("2027-05-30T10:00:00Z"));
    await until(() => mine().length === 2);
    expect(mine()[1]!.ssl_certificate_end_date).toBe("2027-05-30 10:00:00");
  });

  test("a database that goes away: the failure is shown with its code and retried with back-off until it answers", async () => {
    const r = await connectedRig();
    db.down();
    r.facts.lanIp = "192.168.1.99";
    await until(() => r.link.status().error !== null);
    expect(r.link.status()).toMatchObject({ connected: true, registered: false, error: { code: "ERR_IOT_ODOO_SETUP_STATUS", detail: "HTTP 503" } });
    expect(r.link.status().error!.retryAt).not.toBeNull();
    const tries = db.requests.length;
    db.up();
    await until(() => r.link.status().registered);
    expect(r.link.status().error).toBeNull();
    expect(db.setups.at(-1)!.iot_box.ip).toBe("192.168.1.99");
    expect(db.requests.length - tries).toBeLessThanOrEqual(2);
  });

  test("disconnect: the token file and the credential go, nothing more is sent", async () => {
    const r = await connectedRig();
    r.link.disconnect();
    expect(existsSync(connectionStore(r.box.dataDir).path)).toBe(false);
    expect(r.config.get()).toMatchObject({ serverUrl: null, dbUuid: null, enterpriseCode: null });
    const n = db.requests.length;
    r.facts.lanIp = "10.0.0.5";
    await Bun.sleep(150);
    expect(db.requests.length).toBe(n);
    expect(r.link.status()).toMatchObject({ connected: false, server: null });
  });
});

test("connection_token in iotbox.conf: applied (credential in config.json, token in odoo/connection.json), removed from the file, registered in the background", async () => {
  const r = rig({ serial: "10000000c0ffee00" });
  mkdirSync(join(r.box.root, "boot"));
  const conf = join(r.box.root, "boot", "iotbox.conf");
  writeFileSync(conf, `hostname = caja-07\nconnection_token = ${db.connectionToken("base64")}\nlog_level = debug\n`);
  const store = connectionStore(r.box.dataDir);
  const out = await importBootConf(conf, r.config, createLogger({ write: (l) => r.logs.push(l) }), undefined, undefined,
    (c) => store.save({ ...c, connectedAt: new Date().toISOString(), via: "iotbox.conf" }));
  expect(out.applied).toContain("connection_token");
  const left = readFileSync(conf, "utf8");
  expect(left).not.toContain("connection_token =");
  expect(left).not.toContain(db.token);
  expect(left).toContain("hostname = caja-07");
  expect(left).toContain("connection_token removed from this file");
  expect(r.config.get()).toMatchObject({ serverUrl: db.url, dbUuid: db.dbUuid, enterpriseCode: db.enterpriseCode });
  expect(store.load()).toMatchObject({ token: db.token, via: "iotbox.conf" });
  expect(r.logs.join("\n")).not.toContain(db.token);
  // A link opened on this data dir registers by itself.
  const link = createOdooLink({ dataDir: r.box.dataDir, config: r.config, logger: createLogger({ write: () => {} }), backoff: () => 100, checkEveryMs: 20,
    certificateEnd: () => null, facts: () => boxFacts({ identifier: "10000000c0ffee00", mac: "m", lanIp: "192.168.1.10", httpsUrl: null, version: "1", name: "caja-07", terminals: [] }) });
  cleanups.push(() => link.stop());
  link.start();
  await until(() => db.setups.some((s) => s.iot_box.identifier === "10000000c0ffee00"));
  // A token that does not parse stays in the file and is listed as a problem.
  writeFileSync(conf, "connection_token = not-a-token\n");
  const bad = await importBootConf(conf, r.config, createLogger({ write: () => {} }), undefined, undefined, () => { throw new Error("must not be called"); });
  expect(bad.problems.join("\n")).toContain("line 1: this is not a connection token");
  expect(readFileSync(conf, "utf8")).toBe("connection_token = not-a-token\n");
});
