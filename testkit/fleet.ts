// Everything wired for an end-to-end test: the DNSimple double (HTTPS API + DNS), Pebble
// validating DNS-01 against it, and the provisioner as a child process (`bun
// provisioner/src/main.ts serve …`, or the compiled binary when IOTBOX_PROVISIONER_BIN is set)
// with an eligible and an ineligible database registered.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createTestCA } from "./ca";
import { startDnsimpleDouble, type DnsimpleDouble } from "./dnsimple-double";
import { startPebble, type Pebble } from "./pebble";
import { freePort, terminate, waitFor } from "./ports";

const REPO = resolve(import.meta.dir, "..");

export interface Credentials { db_uuid: string; enterprise_code: string }

export interface Fleet {
  /** Base URL of the provisioner (the box's `provisioning_url`), e.g. https://127.0.0.1:PORT. */
  provisioningUrl: string;
  /** PEM file that trusts the provisioner's TLS listener: the box's NODE_EXTRA_CA_CERTS. */
  caBundleFile: string;
  /** The root of this run's Pebble: what a client must trust to accept an issued certificate. */
  pebbleRootPem(): Promise<string>;
  zone: string;
  eligible: Credentials;
  ineligible: Credentials;
  dns: DnsimpleDouble;
  /** The ACME server (stop it to test the CA being down). */
  pebble: Pebble;
  /** The provisioner's sqlite database (for `database add` in a test). */
  dbUrl: string;
  /** Runs `iotbox-provisioner …` (e.g. ["database", "add", …]) against this fleet's database. */
  provisionerCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  /** The provisioner's log lines so far (JSON lines, every instance). */
  provisionerLog(): string;
  /** Another provisioner instance on the same database, CA, DNS and Pebble (stopped by stop()). */
  addProvisioner(): Promise<{ url: string; stop: () => Promise<void> }>;
  stop(): Promise<void>;
}

export interface FleetOptions {
  /** Address the provisioner listens on (default 127.0.0.1; QEMU reaches it as 10.0.2.2). */
  bindHost?: string;
  /** More IP SANs for the provisioner's certificate. */
  extraIpSans?: string[];
  zone?: string;
  /** Extra `serve` options, e.g. ["--weekly-new-certs", "1"]. */
  serveArgs?: string[];
  /** The provisioner's database (default: sqlite in the fleet's temp dir), e.g. a postgres:// URL. */
  dbUrl?: string;
  /** Pebble's certificate lifetime (default Pebble's own): short ones make boxes renew within a test. */
  certificateValiditySeconds?: number;
}

function provisionerCommand(): string[] {
  const bin = process.env.IOTBOX_PROVISIONER_BIN;
  return bin ? [bin] : [process.execPath, join(REPO, "provisioner/src/main.ts")];
}

export async function startFleet(opts: FleetOptions = {}): Promise<Fleet> {
  const zone = opts.zone ?? "iotbox.test";
  const dir = mkdtempSync(join(tmpdir(), "iotbox-fleet-"));
  const ca = createTestCA({ name: "iotbox fleet test CA" });
  const cleanups: Array<() => Promise<void> | void> = [() => ca.cleanup(), () => rmSync(dir, { recursive: true, force: true })];
  const stopAll = async () => { for (const c of cleanups.splice(0).reverse()) { try { await c(); } catch {} } };
  try {
    const dns = await startDnsimpleDouble({ zone, ca });
    cleanups.push(() => dns.stop());
    const pebble = await startPebble({ dnsServer: dns.dnsAddress, ca, certificateValiditySeconds: opts.certificateValiditySeconds });
    cleanups.push(() => pebble.stop());

    const dbUrl = opts.dbUrl ?? `sqlite:${join(dir, "provisioner.db")}`;
    const cmd = provisionerCommand();
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, NODE_EXTRA_CA_CERTS: ca.certFile };
    const cli = async (args: string[]) => {
      const p = Bun.spawn([...cmd, ...args], { env, stdout: "pipe", stderr: "pipe" });
      const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      return { code, stdout, stderr };
    };
    const eligible = { db_uuid: crypto.randomUUID(), enterprise_code: `EC-${crypto.randomUUID()}` };
    const ineligible = { db_uuid: crypto.randomUUID(), enterprise_code: `EC-${crypto.randomUUID()}` };
    for (const [c, kind] of [[eligible, "production"], [ineligible, "test"]] as const) {
      const r = await cli(["database", "add", "--db", dbUrl, "--uuid", c.db_uuid, "--enterprise-code", c.enterprise_code,
        "--kind", kind, "--subscription", "in_progress", "--iot-box-lines", "100"]);
      if (r.code !== 0) throw new Error(`provisioner database add failed: ${r.stderr}`);
    }

    const bindHost = opts.bindHost ?? "127.0.0.1";
    const tlsLeaf = ca.issue(["localhost"], ["127.0.0.1", "10.0.2.2", ...(opts.extraIpSans ?? [])]);
    const bundle = join(dir, "provisioner-ca.pem");
    writeFileSync(bundle, ca.certPem);
    let log = "";
    const spawnProvisioner = async (): Promise<{ url: string; stop: () => Promise<void> }> => {
      const port = await freePort(bindHost);
      const proc = Bun.spawn([...cmd, "serve", "--host", bindHost, "--port", String(port), "--db", dbUrl, "--zone", zone,
        "--acme-directory", pebble.directoryUrl, "--dnsimple-base-url", dns.baseUrl, "--dnsimple-account", String(dns.accountId),
        "--tls-cert", tlsLeaf.certFile, "--tls-key", tlsLeaf.keyFile, ...(opts.serveArgs ?? [])],
      { env: { ...env, IOTBOX_PROVISIONER_DNSIMPLE_TOKEN: dns.token }, stdout: "pipe", stderr: "pipe" });
      const dec = new TextDecoder();
      void (async () => { for await (const c of proc.stderr) log += dec.decode(c); })();
      void (async () => { for await (const c of proc.stdout) log += dec.decode(c); })();
      let stopped = false;
      const stop = async () => {
        if (stopped) return;
        stopped = true;
        await terminate(proc);
      };
      cleanups.push(stop);
      const host = bindHost === "0.0.0.0" ? "127.0.0.1" : bindHost;
      const url = `https://${host.includes(":") ? `[${host}]` : host}:${port}`;
      await waitFor(async () => (await fetch(`${url}/health`, { tls: { ca: ca.certPem } })).ok, 20_000, "provisioner /health",
        () => (proc.exitCode !== null ? `exit ${proc.exitCode}: ${log.slice(-2000)}` : null));
      return { url, stop };
    };
    const { url: provisioningUrl } = await spawnProvisioner();
    return {
      provisioningUrl,
      caBundleFile: bundle,
      pebbleRootPem: () => pebble.rootPem(),
      zone,
      eligible,
      ineligible,
      dns,
      pebble,
      dbUrl,
      provisionerCli: cli,
      provisionerLog: () => log,
      addProvisioner: spawnProvisioner,
      stop: stopAll,
    };
  } catch (e) {
    await stopAll();
    throw e;
  }
}
