// Debian's `pebble` (Let's Encrypt's test ACME server) on free loopback ports, validating DNS-01
// for real against the DNS server given (`-dnsserver`). Its listener certificate comes from a
// test CA: trust `caFile` (NODE_EXTRA_CA_CERTS) in whatever talks to `directoryUrl`.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createTestCA, type TestCA } from "./ca";
import { freePort, terminate, waitFor } from "./ports";

export interface Pebble {
  directoryUrl: string;
  /** The test CA file that trusts Pebble's listener (for NODE_EXTRA_CA_CERTS). */
  caFile: string;
  /** The root that signs this run's certificates (from the management /roots/0). */
  rootPem(): Promise<string>;
  /** The intermediate (from the management /intermediates/0). */
  intermediatePem(): Promise<string>;
  managementUrl: string;
  /** Pebble's own output so far, for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

export interface PebbleOptions {
  /** "host:port" of a DNS server answering the challenge records (the DNSimple double's). */
  dnsServer: string;
  /** Reuse a test CA (its certFile is then the caFile); by default Pebble gets its own. */
  ca?: TestCA;
  /** Extra environment, e.g. { PEBBLE_WFE_NONCEREJECT: "50" } to test client retries. */
  env?: Record<string, string>;
  /** How long the certificates Pebble issues are valid (its `certificateValidityPeriod`), e.g. to see renewals. */
  certificateValiditySeconds?: number;
}

export async function startPebble(opts: PebbleOptions): Promise<Pebble> {
  const ownCa = !opts.ca;
  const ca = opts.ca ?? createTestCA({ name: "iotbox pebble listener CA" });
  const dir = mkdtempSync(join(tmpdir(), "iotbox-pebble-"));
  const [port, mport] = [await freePort(), await freePort()];
  const leaf = ca.issue(["localhost"], ["127.0.0.1"]);
  const config = join(dir, "pebble-config.json");
  writeFileSync(config, JSON.stringify({
    pebble: {
      listenAddress: `127.0.0.1:${port}`,
      managementListenAddress: `127.0.0.1:${mport}`,
      certificate: leaf.certFile,
      privateKey: leaf.keyFile,
      // Ports Pebble would connect to for HTTP-01 / TLS-ALPN-01: unused (DNS-01 only), kept on loopback.
      httpPort: 5002,
      tlsPort: 5001,
      ocspResponderURL: "",
      externalAccountBindingRequired: false,
      ...(opts.certificateValiditySeconds ? { certificateValidityPeriod: opts.certificateValiditySeconds } : {}),
    },
  }));
  let out = "";
  const proc = Bun.spawn(["pebble", "-config", config, "-dnsserver", opts.dnsServer], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      PEBBLE_VA_NOSLEEP: "1",
      // Deterministic runs: no random nonce rejection, no authorization reuse.
      PEBBLE_WFE_NONCEREJECT: "0",
      PEBBLE_AUTHZREUSE: "0",
      ...opts.env,
    },
    stdout: "pipe",
    stderr: "pipe",
  });
  const collect = async (s: ReadableStream<Uint8Array>) => {
    const dec = new TextDecoder();
    for await (const chunk of s) { out += dec.decode(chunk); if (out.length > 200_000) out = out.slice(-100_000); }
  };
  void collect(proc.stdout);
  void collect(proc.stderr);
  const tls = { ca: ca.certPem };
  const directoryUrl = `https://127.0.0.1:${port}/dir`;
  const managementUrl = `https://127.0.0.1:${mport}`;
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await terminate(proc);
    rmSync(dir, { recursive: true, force: true });
    if (ownCa) ca.cleanup();
  };
  try {
    await waitFor(async () => (await fetch(directoryUrl, { tls })).ok, 15_000, "pebble /dir",
      () => (proc.exitCode !== null ? `exit ${proc.exitCode}: ${out.slice(-2000)}` : null));
    await waitFor(async () => (await fetch(`${managementUrl}/roots/0`, { tls })).ok, 5_000, "pebble management");
  } catch (e) {
    await stop();
    throw e;
  }
  const get = async (path: string) => {
    const r = await fetch(`${managementUrl}${path}`, { tls });
    if (!r.ok) throw new Error(`pebble ${path}: HTTP ${r.status}`);
    return r.text();
  };
  return {
    directoryUrl,
    caFile: ca.certFile,
    managementUrl,
    rootPem: () => get("/roots/0"),
    intermediatePem: () => get("/intermediates/0"),
    output: () => out,
    stop,
  };
}
