/**
 * End to end with the compiled binary: `iotbox serve` imports iotbox.conf, gets its certificate
 * from a real HTTPS certificate service (trusted through NODE_EXTRA_CA_CERTS, as in production),
 * serves it over HTTPS under the box's name, and `iotbox status` / `iotbox cert` report it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { boxBinary } from "../../testkit/box-binary";
import { connect } from "node:tls";
import { startFaultProvisioner, type FaultProvisioner } from "../support/fault-provisioner";
import { makeBoxDir } from "../support/box-fixture";
import { freePort, waitFor } from "../../testkit/ports";

const ROOT = join(import.meta.dir, "../..");
const BIN = boxBinary.path;
let svc: FaultProvisioner;
let box: ReturnType<typeof makeBoxDir>;
let proc: ReturnType<typeof Bun.spawn> | null = null;
let httpPort = 0, httpsPort = 0;
let env: Record<string, string>;
/** Run a command without blocking this process's event loop (the certificate service runs in it). */
async function run(cmd: string[], e: Record<string, string>) {
  const p = Bun.spawn(cmd, { env: e, stdout: "pipe", stderr: "pipe" });
  const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
  return { out, code };
}

beforeAll(async () => {
  boxBinary();
  svc = await startFaultProvisioner();
  box = makeBoxDir();
  mkdirSync(join(box.root, "boot"));
  writeFileSync(join(box.root, "boot/iotbox.conf"), [
    "# written by the technician", `server_url = https://odoo.test`, "db_uuid = 1f2e3d4c-0000-1111", "enterprise_code = M2401234",
    `provisioning_url = ${svc.url}`, "admin_password = correct horse battery", "",
  ].join("\n"));
  httpPort = await freePort(); httpsPort = await freePort();
  env = { ...process.env as Record<string, string>, NODE_EXTRA_CA_CERTS: svc.ca.certFile, IOTBOX_DATA_DIR: box.dataDir, IOTBOX_BOOT_DIR: join(box.root, "boot"),
    IOTBOX_HTTP_PORT: String(httpPort), IOTBOX_HTTPS_PORT: String(httpsPort), IOTBOX_SYSFS: join(box.root, "sys"), IOTBOX_LAN_IP: "192.168.1.10", IOTBOX_LISTEN: "127.0.0.1",
    IOTBOX_DIAGNOSTICS: "off" /* no probes to public resolvers from a test */ };
}, 120_000);

afterAll(async () => {
  if (proc) { proc.kill("SIGKILL"); await proc.exited; }
  await svc?.stop();
  box?.cleanup();
});

test("the binary provisions itself and serves the certificate under the box's name", async () => {
  proc = Bun.spawn([BIN, "serve"], { env, stdout: "pipe", stderr: "pipe" });
  let status: any = null;
  await waitFor(async () => {
    try { status = await (await fetch(`http://127.0.0.1:${httpPort}/api/status`)).json(); } catch { return false; }
    return status.cert.url !== null;
  }, 20_000, "the box to get its certificate");
  expect(status.cert.code).toBeNull();
  expect(status.cert.subject).toBe("*.d73e7513.iot.test");
  expect(status.cert.url).toBe(`https://192-168-1-10.d73e7513.iot.test:${httpsPort}`);
  expect(svc.requests[0]).toMatchObject({ db_uuid: "1f2e3d4c-0000-1111", enterprise_code: "M2401234", ip: "192.168.1.10" });

  // A TLS client that trusts only the service's CA connects by the box's name (resolved to loopback).
  const servedName = await new Promise<string>((resolve, reject) => {
    const s = connect({ host: "127.0.0.1", port: httpsPort, servername: "192-168-1-10.d73e7513.iot.test", ca: [svc.ca.certPem] }, () => {
      resolve(String(s.getPeerCertificate().subject.CN)); s.end();
    });
    s.on("error", reject);
  });
  expect(servedName).toBe("*.d73e7513.iot.test");

  // The HTTP homepage sends browsers on to the HTTPS name once they reach it (the page's name check; test/browser/name-check.test.ts).
  const onIp = await fetch(`http://127.0.0.1:${httpPort}/`, { redirect: "manual", headers: { accept: "text/html" } });
  expect(onIp.status).toBe(200);
  const page = await onIp.text();
  expect(page).toContain(`data-url="https://192-168-1-10.d73e7513.iot.test:${httpsPort}"`);
  expect(page).toContain('data-go="1"');

  // The boot file lost its secrets, the key file is private.
  const conf = readFileSync(join(box.root, "boot/iotbox.conf"), "utf8");
  expect(conf).not.toContain("M2401234");
  expect(conf).not.toContain("correct horse");
  expect(conf).toContain("db_uuid = 1f2e3d4c-0000-1111");
  expect(statSync(join(box.dataDir, "cert/current.pem")).mode & 0o777).toBe(0o600);

  // The commands ask the running daemon.
  const st = await run([BIN, "status", "--json"], env);
  expect(st.code).toBe(0);
  expect(JSON.parse(st.out).cert.subject).toBe("*.d73e7513.iot.test");
  const version = (await run([BIN, "version"], env)).out.trim();
  expect(version).toMatch(/^\d+\.\d+\.\d+/);
}, 60_000);

test("`iotbox cert` without a daemon reports the code and exits non-zero", async () => {
  if (proc) { proc.kill("SIGTERM"); expect(await proc.exited).toBe(0); proc = null; }
  const fresh = makeBoxDir();
  try {
    svc.fault = "status-404";
    const e2 = { ...env, IOTBOX_DATA_DIR: fresh.dataDir, IOTBOX_BOOT_DIR: join(fresh.root, "none") };
    await run([BIN, "status"], e2);
    const cfgPath = join(fresh.dataDir, "config.json");
    const cfg = JSON.parse(readFileSync(cfgPath, "utf8"));
    Object.assign(cfg, { serverUrl: "https://odoo.test", dbUuid: "1f2e3d4c-0000-1111", enterpriseCode: "M2401234", provisioningUrl: svc.url });
    writeFileSync(cfgPath, JSON.stringify(cfg));
    const r = await run([BIN, "cert", "--json"], e2);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out).cert.code).toBe("ERR_IOT_HTTPS_LOAD_REQUEST_STATUS 404");
    const human = (await run([BIN, "cert"], e2)).out;
    expect(human).toContain("ERR_IOT_HTTPS_LOAD_REQUEST_STATUS 404");
    expect(human).toContain("what to do:");
  } finally { fresh.cleanup(); svc.fault = "ok"; }
}, 60_000);
