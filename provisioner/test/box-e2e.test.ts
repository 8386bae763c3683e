// The box runtime (`bun src/main.ts serve`) against the real certificate service: an eligible
// box gets a Pebble-issued certificate and serves HTTPS with it under its name (a TLS client
// trusting only Pebble's root connects by that name, resolved to loopback); its A record is
// published; an ineligible box shows ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT on its homepage.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { connect } from "node:tls";
import { freePort, startFleet, waitFor, type Credentials, type Fleet } from "../../testkit";
import { deriveLabel } from "../src/naming";

const REPO = resolve(import.meta.dir, "../..");
let fleet: Fleet;
const boxes: Array<{ stop: () => Promise<void> }> = [];

beforeAll(async () => { fleet = await startFleet(); }, 60_000);
afterAll(async () => {
  for (const b of boxes.splice(0)) await b.stop();
  await fleet?.stop();
}, 30_000);

async function startBox(creds: Credentials, lanIp: string) {
  const root = mkdtempSync(join(tmpdir(), "iotbox-boxe2e-"));
  const boot = join(root, "boot"), data = join(root, "data"), sys = join(root, "sys");
  for (const d of [boot, data, sys]) mkdirSync(d, { recursive: true });
  writeFileSync(join(boot, "iotbox.conf"), [`server_url = https://odoo.test`, `db_uuid = ${creds.db_uuid}`,
    `enterprise_code = ${creds.enterprise_code}`, `provisioning_url = ${fleet.provisioningUrl}`, ""].join("\n"));
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  let log = "";
  const proc = Bun.spawn([process.execPath, join(REPO, "src/main.ts"), "serve"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root, NODE_EXTRA_CA_CERTS: fleet.caBundleFile, IOTBOX_DATA_DIR: data, IOTBOX_BOOT_DIR: boot,
      IOTBOX_HTTP_PORT: String(httpPort), IOTBOX_HTTPS_PORT: String(httpsPort), IOTBOX_SYSFS: sys, IOTBOX_LAN_IP: lanIp, IOTBOX_LISTEN: "127.0.0.1",
      IOTBOX_DIAGNOSTICS: "off" /* no probes to public resolvers from a test */ },
    stdout: "pipe", stderr: "pipe",
  });
  const dec = new TextDecoder();
  void (async () => { for await (const c of proc.stderr) log += dec.decode(c); })();
  void (async () => { for await (const c of proc.stdout) log += dec.decode(c); })();
  const box = {
    httpPort, httpsPort, log: () => log,
    status: async () => (await fetch(`http://127.0.0.1:${httpPort}/api/status`)).json() as Promise<any>,
    stop: async () => { proc.kill("SIGTERM"); const t = setTimeout(() => proc.kill("SIGKILL"), 3000); await proc.exited; clearTimeout(t); rmSync(root, { recursive: true, force: true }); },
  };
  boxes.push(box);
  return box;
}

test("an eligible box gets a Pebble certificate from the service and serves it under its name", async () => {
  const box = await startBox(fleet.eligible, "192.168.1.10");
  let status: any = null;
  await waitFor(async () => { status = await box.status(); return status?.cert?.url != null; }, 30_000, `the box's certificate (box log: ${box.log().slice(-1500)})`);
  const label = deriveLabel(fleet.eligible.db_uuid, status.box.id);
  const name = `192-168-1-10.${label}.${fleet.zone}`;
  expect(status.cert.code).toBeNull();
  expect(status.cert.subject).toBe(`*.${label}.${fleet.zone}`);
  expect(status.cert.url).toBe(`https://${name}:${box.httpsPort}`);

  const root = await fleet.pebbleRootPem();
  const cn = await new Promise<string>((res, rej) => {
    const s = connect({ host: "127.0.0.1", port: box.httpsPort, servername: name, ca: [root] }, () => { res(String(s.getPeerCertificate().subject.CN)); s.end(); });
    s.on("error", rej);
  });
  expect(cn).toBe(`*.${label}.${fleet.zone}`);
  expect(fleet.dns.records().filter((r) => r.type === "A" && r.name === `192-168-1-10.${label}`).map((r) => r.content)).toEqual(["192.168.1.10"]);
  expect(fleet.dns.records().filter((r) => r.type === "TXT")).toEqual([]);
}, 60_000);

test("an ineligible box shows ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT on its homepage", async () => {
  const box = await startBox(fleet.ineligible, "192.168.1.11");
  let status: any = null;
  await waitFor(async () => { status = await box.status(); return status?.cert?.code != null; }, 30_000, `the box's certificate error (box log: ${box.log().slice(-1500)})`);
  expect(status.cert.code).toBe("ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT");
  expect(status.cert.url).toBeNull();
  const page = await fetch(`http://127.0.0.1:${box.httpPort}/`, { headers: { accept: "text/html" }, redirect: "manual" });
  const html = page.status >= 300 && page.status < 400
    ? await (await fetch(page.headers.get("location")!.replace(/\/\/[^/:]+/, "//127.0.0.1"), { headers: { accept: "text/html" }, tls: { rejectUnauthorized: false } })).text()
    : await page.text();
  expect(html).toContain("ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT");
}, 60_000);
