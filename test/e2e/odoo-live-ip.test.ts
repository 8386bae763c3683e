/**
 * The compiled box in a network namespace of its own (needs root), linked to this host by a
 * veth pair: the certificate service and the database double listen on the host's end. The box
 * gets its certificate and registers its HTTPS domain; then its address changes while it runs
 * (the DHCP case, no restart): it reports the new address to the certificate service and
 * registers the new domain at the database. Nothing leaves this machine.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startFleet, type Fleet } from "../../testkit";
import { boxBinary } from "../../testkit/box-binary";
import { startOdooDbDouble, type OdooDbDouble } from "../../testkit/odoo-db-double";
import { waitFor } from "../../testkit/ports";
import { makeBoxDir } from "../support/box-fixture";

const NS = `iotbox-ip-${process.pid}`;
const HOST_IF = `iotip${process.pid % 100000}`;
const HOST_IP = "10.98.0.1", FIRST = "10.98.0.2", SECOND = "10.98.0.3";
const sh = (args: string[]) => {
  const r = spawnSync(args[0]!, args.slice(1), { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
};
let fleet: Fleet, db: OdooDbDouble, proc: ReturnType<typeof Bun.spawn> | null = null;
const box = makeBoxDir();

beforeAll(async () => {
  sh(["ip", "netns", "add", NS]);
  sh(["ip", "link", "add", HOST_IF, "type", "veth", "peer", "name", "eth0", "netns", NS]);
  sh(["ip", "addr", "add", `${HOST_IP}/24`, "dev", HOST_IF]);
  sh(["ip", "link", "set", HOST_IF, "up"]);
  sh(["ip", "-n", NS, "link", "set", "lo", "up"]);
  sh(["ip", "-n", NS, "addr", "add", `${FIRST}/24`, "dev", "eth0"]);
  sh(["ip", "-n", NS, "link", "set", "eth0", "up"]);
  sh(["ip", "-n", NS, "route", "add", "default", "via", HOST_IP]);
  fleet = await startFleet({ bindHost: HOST_IP, extraIpSans: [HOST_IP] });
  db = await startOdooDbDouble({ dbUuid: fleet.eligible.db_uuid, enterpriseCode: fleet.eligible.enterprise_code, hostname: HOST_IP });
}, 180_000);

afterAll(async () => {
  if (proc) { proc.kill("SIGKILL"); await proc.exited; }
  await db?.stop();
  await fleet?.stop();
  spawnSync("ip", ["link", "del", HOST_IF]);
  spawnSync("ip", ["netns", "del", NS]);
  box.cleanup();
});

test("the address changes while the box runs: the service hears the new one, the database gets the new domain", async () => {
  const serial = "10000000e2e000a1";
  mkdirSync(join(box.root, "boot"), { recursive: true });
  mkdirSync(join(box.root, "proc/device-tree"), { recursive: true });
  writeFileSync(join(box.root, "proc/device-tree/serial-number"), `${serial}\0`);
  writeFileSync(join(box.root, "boot/iotbox.conf"), [`provisioning_url = ${fleet.provisioningUrl}`, `connection_token = ${db.connectionToken("url")}`, ""].join("\n"));
  const port = 18080;
  proc = Bun.spawn(["ip", "netns", "exec", NS, boxBinary(), "serve"], {
    env: { ...process.env as Record<string, string>, NODE_EXTRA_CA_CERTS: fleet.caBundleFile, IOTBOX_DATA_DIR: box.dataDir, IOTBOX_BOOT_DIR: join(box.root, "boot"),
      IOTBOX_HTTP_PORT: String(port), IOTBOX_HTTPS_PORT: "18443", IOTBOX_SYSFS: join(box.root, "sys"), IOTBOX_DIAGNOSTICS: "off", IOTBOX_PROC: join(box.root, "proc") },
    stdout: "ignore", stderr: "ignore" });
  let ip = FIRST;
  const status = async () => { try { return await (await fetch(`http://${ip}:${port}/api/status`, { signal: AbortSignal.timeout(2000) })).json() as any; } catch { return null; } };
  const registeredAs = (name: string) => waitFor(async () => {
    const s = await status();
    return !!s?.cert.url && new URL(s.cert.url).hostname === name && s.odoo.registeredAs === name && db.boxes().get(serial)?.iot_box.ip === name;
  }, 60_000, `registration as ${name}`);

  await waitFor(async () => { const s = await status(); return !!(s?.cert.url && s.odoo.registered); }, 60_000, "the first certificate and registration");
  const first = await status();
  const domain1 = new URL(first.cert.url).hostname;
  expect(domain1.startsWith("10-98-0-2.")).toBe(true);
  await registeredAs(domain1);

  // DHCP gives another lease while the box runs.
  sh(["ip", "-n", NS, "addr", "del", `${FIRST}/24`, "dev", "eth0"]);
  sh(["ip", "-n", NS, "addr", "add", `${SECOND}/24`, "dev", "eth0"]);
  sh(["ip", "-n", NS, "route", "replace", "default", "via", HOST_IP]);
  ip = SECOND;
  const domain2 = domain1.replace(/^10-98-0-2\./, "10-98-0-3.");
  await registeredAs(domain2);
  expect((await status()).box.ip).toBe(SECOND);
  // The service points the new name at the new address (its DNS record), so the POS can reach it.
  await waitFor(async () => fleet.dns.records().some((r) => r.content === SECOND), 15_000, "the A record moved to the new address");
}, 180_000);
