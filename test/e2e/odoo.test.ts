/**
 * End to end with the compiled binary (`iotbox serve`), the certificate service as a child
 * process with Pebble and the DNS double (testkit startFleet: the provisioner also serves the
 * pairing routes) and the database double (testkit/odoo-db-double.ts):
 *   - a fresh box shows a pairing code; the code is claimed at the provisioner; the box is
 *     connected, fetches its certificate with the credential it received, registers with its
 *     HTTPS domain and reports the certificate's end date;
 *   - a box given `connection_token` (URL shape) in iotbox.conf, the line removed from the file;
 *     restarted on another IP, it registers again with the new domain;
 *   - a box connected by pasting the token (base64 shape) in the settings over HTTPS.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { boxBinary } from "../../testkit/box-binary";
import { startFleet, type Fleet } from "../../testkit";
import { startOdooDbDouble, type OdooDbDouble } from "../../testkit/odoo-db-double";
import { freePort } from "../../testkit/ports";
import { makeBoxDir } from "../support/box-fixture";
import { browserFor } from "../support/http-box";
import { waitFor as waitForValue } from "../terminals/helpers";

const ROOT = join(import.meta.dir, "../..");
const BIN = boxBinary.path;
let fleet: Fleet, db: OdooDbDouble, ca: string;
const procs: Array<ReturnType<typeof Bun.spawn>> = [];
const dirs: Array<ReturnType<typeof makeBoxDir>> = [];

const waitFor = <T>(f: () => T | Promise<T>, ms: number, what: string) => waitForValue(f, ms, what, 100);

beforeAll(async () => {
  boxBinary();
  fleet = await startFleet();
  ca = readFileSync(fleet.caBundleFile, "utf8");
  db = await startOdooDbDouble({ dbUuid: fleet.eligible.db_uuid, enterpriseCode: fleet.eligible.enterprise_code });
}, 180_000);
afterAll(async () => {
  for (const p of procs) { p.kill("SIGKILL"); await p.exited; }
  await db?.stop();
  await fleet?.stop();
  for (const d of dirs) d.cleanup();
});

async function startBox(o: { serial: string; conf: string[]; ip?: string; reuse?: ReturnType<typeof makeBoxDir>; fleet?: Fleet }) {
  const f = o.fleet ?? fleet;
  const box = o.reuse ?? makeBoxDir();
  if (!o.reuse) dirs.push(box);
  mkdirSync(join(box.root, "boot"), { recursive: true });
  mkdirSync(join(box.root, "proc/device-tree"), { recursive: true });
  writeFileSync(join(box.root, "proc/device-tree/serial-number"), `${o.serial}\0`);
  writeFileSync(join(box.root, "boot/iotbox.conf"), [`provisioning_url = ${f.provisioningUrl}`, "admin_password = correct horse battery", ...o.conf, ""].join("\n"));
  const httpPort = await freePort(), httpsPort = await freePort();
  const env = { ...process.env as Record<string, string>, NODE_EXTRA_CA_CERTS: f.caBundleFile, IOTBOX_DATA_DIR: box.dataDir, IOTBOX_BOOT_DIR: join(box.root, "boot"),
    IOTBOX_HTTP_PORT: String(httpPort), IOTBOX_HTTPS_PORT: String(httpsPort), IOTBOX_SYSFS: join(box.root, "sys"), IOTBOX_LAN_IP: o.ip ?? "192.168.1.10",
    IOTBOX_LISTEN: "127.0.0.1", IOTBOX_DIAGNOSTICS: "off", IOTBOX_PROC: join(box.root, "proc") };
  const proc = Bun.spawn([BIN, "serve"], { env, stdout: "ignore", stderr: "ignore" });
  procs.push(proc);
  const status = async () => { try { return await (await fetch(`http://127.0.0.1:${httpPort}/api/status`)).json() as any; } catch { return null; } };
  await waitFor(async () => !!(await status()), 20_000, "the box to answer");
  return { box, proc, httpPort, httpsPort, status, async stop() { proc.kill("SIGTERM"); await proc.exited; } };
}

/** What the database knows once the box is certified: its HTTPS domain as `ip`, and the certificate's end date. */
async function expectCertifiedAndRegistered(serial: string, status: () => Promise<any>) {
  const s = await waitFor(async () => { const x = await status(); return x?.cert.url && x.odoo.registered && x.odoo.registeredAs === new URL(x.cert.url).hostname ? x : null; }, 60_000, "certificate + registration with the domain");
  const domain = new URL(s.cert.url).hostname;
  expect(domain).toMatch(new RegExp(`^192-168-1-\\d+\\.[0-9a-f]{10}\\.${fleet.zone.replace(/\./g, "\\.")}$`));
  expect(db.boxes().get(serial)!.iot_box).toMatchObject({ identifier: serial, ip: domain, token: db.token });
  const end = new Date(s.cert.notAfter).toISOString().replace("T", " ").replace(/\.\d+Z$/, "");
  await waitFor(() => db.certStatus.some((c) => c.identifier === serial && c.ssl_certificate_end_date === end), 15_000, "the certificate end date at the database");
  return { s, domain };
}

test("pairing code → claimed at the provisioner → connected, certified with the credential received, registered with its HTTPS domain, end date reported", async () => {
  const b = await startBox({ serial: "10000000e2e00001", conf: [] });
  const first = await waitFor(async () => { const x = await b.status(); return x?.odoo?.pairing?.code ? x : null; }, 20_000, "a pairing code");
  expect(first.cert.code).toBe("ERR_IOT_HTTPS_CHECK_NO_SERVER");
  expect(first.odoo.connected).toBe(false);
  const code: string = first.odoo.pairing.code;
  const page = await (await fetch(`http://127.0.0.1:${b.httpPort}/?local&lang=es`)).text();
  expect(page).toContain(code);
  const claim = await fetch(`${fleet.provisioningUrl}/odoo-enterprise/iot/claim-box`, { method: "POST", headers: { "content-type": "application/json" }, tls: { ca },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, params: { pairing_code: code, url: db.url, token: db.token, ...fleet.eligible } }) } as RequestInit);
  expect(await claim.json()).toMatchObject({ result: { status: "claimed", serial_number: "10000000e2e00001" } });
  // The box's next poll (15 s after the first) brings the connection.
  const { s } = await expectCertifiedAndRegistered("10000000e2e00001", b.status);
  expect(s.odoo).toMatchObject({ connected: true, server: db.url, pairing: null, code: null });
  expect(existsSync(join(b.box.dataDir, "odoo/connection.json"))).toBe(true);
  expect(readFileSync(join(b.box.dataDir, "config.json"), "utf8")).toContain(fleet.eligible.db_uuid);
}, 120_000);

test("connection_token in iotbox.conf (URL shape): removed from the file, certified, registered; restarted on another IP it registers the new domain", async () => {
  const serial = "10000000e2e00002";
  let b = await startBox({ serial, conf: [`connection_token = ${db.connectionToken("url")}`] });
  const { domain } = await expectCertifiedAndRegistered(serial, b.status);
  const conf = readFileSync(join(b.box.root, "boot/iotbox.conf"), "utf8");
  expect(conf).not.toContain(db.token);
  expect(conf).toContain("connection_token removed from this file");
  await b.stop();
  b = await startBox({ serial, conf: [], ip: "192.168.1.77", reuse: b.box });
  const again = await expectCertifiedAndRegistered(serial, b.status);
  expect(again.domain).not.toBe(domain);
  expect(again.domain.startsWith("192-168-1-77.")).toBe(true);
}, 150_000);

test("a token pasted in the settings over HTTPS (base64 shape): connected, certified, registered", async () => {
  const serial = "10000000e2e00003";
  const b = await startBox({ serial, conf: [] });
  const admin = browserFor(`https://127.0.0.1:${b.httpsPort}`, "192.168.1.10");
  await admin.send("/settings");
  expect((await admin.form("/login", { password: "correct horse battery" })).status).toBe(303);
  const r = await admin.form("/settings/connect?lang=en", { token: db.connectionToken("base64") });
  expect(r.body).toContain("Connected: the database knows this box.");
  await expectCertifiedAndRegistered(serial, b.status);
}, 120_000);

test("a renewal reports the new end date to the database (Pebble issuing 1-hour certificates: the box renews one a minute after it arrives)", async () => {
  const short = await startFleet({ certificateValiditySeconds: 3600 });
  const db2 = await startOdooDbDouble({ dbUuid: short.eligible.db_uuid, enterpriseCode: short.eligible.enterprise_code });
  try {
    const serial = "10000000e2e00004";
    const b = await startBox({ serial, conf: [`connection_token = ${db2.connectionToken("url")}`], fleet: short });
    const endOf = (s: any) => new Date(s.cert.notAfter).toISOString().replace("T", " ").replace(/\.\d+Z$/, "");
    const first = await waitFor(async () => { const x = await b.status(); return x?.cert.url && x.odoo.registered ? x : null; }, 60_000, "the first certificate and registration");
    await waitFor(() => db2.certStatus.some((c) => c.identifier === serial && c.ssl_certificate_end_date === endOf(first)), 15_000, "the first end date at the database");
    const renewed = await waitFor(async () => { const x = await b.status(); return x?.cert.notAfter && x.cert.notAfter !== first.cert.notAfter && !x.cert.code ? x : null; }, 150_000, "a renewed certificate");
    expect(Date.parse(renewed.cert.notAfter)).toBeGreaterThan(Date.parse(first.cert.notAfter));
    await waitFor(() => db2.certStatus.some((c) => c.identifier === serial && c.ssl_certificate_end_date === endOf(renewed)), 15_000, "the renewed end date at the database");
    await b.stop();
  } finally { await db2.stop(); await short.stop(); }
}, 300_000);
