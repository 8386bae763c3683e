/**
 * Memory of the compiled box (issue 10): RSS right after its first certificate, after 60 s idle,
 * and after 10,000 fuzzed requests (half HTTP, half HTTPS; bench/support/fuzz.ts), next to the
 * reference the box bench already has (a bare hono app on Bun, compiled as bench/box.ts compiles it, serving a
 * JSON file over HTTPS, fuzzed with the same number of requests). The box runs with the
 * environment of the image's unit (overlay/…/iotbox.service). Medians of --runs fresh boxes.
 * Usage: bun bench/memory.ts [--runs 3] [--idle 60] [--requests 10000]
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, waitFor } from "../testkit/ports";
import { startFaultProvisioner, type FaultProvisioner } from "../test/support/fault-provisioner";
import { findKey, splitCerts } from "../src/cert/x509";
import { fuzz, type FuzzTally } from "./support/fuzz";

const ROOT = join(import.meta.dir, "..");
const BIN = process.env.IOTBOX_BIN ?? join(ROOT, "dist/iotbox-linux-x64");
const arg = (n: string, d: number) => { const i = process.argv.indexOf(n); return i > 0 ? Number(process.argv[i + 1]) : d; };
export const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2; };
const procMb = (pid: number, field: string) => Number(new RegExp(`${field}:\\s+(\\d+)`).exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) / 1024;
export const rss = (pid: number) => ({ total: procMb(pid, "VmRSS"), anon: procMb(pid, "RssAnon"), file: procMb(pid, "RssFile") });
export type Rss = ReturnType<typeof rss>;

/** The `Environment=` settings of the image's unit that change how the runtime runs (JSC, Bun, allocator). */
export function unitEnv(): Record<string, string> {
  const unit = readFileSync(join(ROOT, "overlay/etc/systemd/system/iotbox.service"), "utf8");
  const env: Record<string, string> = {};
  for (const line of unit.split("\n")) {
    if (!line.startsWith("Environment=")) continue;
    for (const kv of line.slice("Environment=".length).trim().split(/\s+/)) {
      const [k, v] = [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)];
      if (/^(BUN_|MIMALLOC_)/.test(k)) env[k] = v;
    }
  }
  return env;
}

export interface BoxRun { certMs: number; atCert: Rss; idle: Rss; afterFuzz: Rss; settled: Rss; tally: FuzzTally }

/** One fresh box: first certificate from `svc`, idle, fuzz. `env` adds to the unit's environment. */
export async function measureBox(svc: FaultProvisioner, o: { bin?: string; env?: Record<string, string>; idleS: number; requests: number; seed: number }): Promise<BoxRun> {
  const dir = mkdtempSync(join(tmpdir(), "iotbox-mem-"));
  try {
    mkdirSync(join(dir, "boot"));
    writeFileSync(join(dir, "boot/iotbox.conf"), ["server_url = https://odoo.test", "db_uuid = 1f2e3d4c-0000-1111", "enterprise_code = M2401234",
      `provisioning_url = ${svc.url}`, "admin_password = correct horse battery", ""].join("\n"));
    const httpPort = await freePort(), httpsPort = await freePort();
    const t0 = performance.now();
    const proc = Bun.spawn([o.bin ?? BIN, "serve"], {
      env: { ...process.env, ...unitEnv(), ...o.env, NODE_EXTRA_CA_CERTS: svc.ca.certFile, IOTBOX_DATA_DIR: join(dir, "data"), IOTBOX_BOOT_DIR: join(dir, "boot"),
        IOTBOX_SYSFS: join(dir, "sys"), IOTBOX_HTTP_PORT: String(httpPort), IOTBOX_HTTPS_PORT: String(httpsPort), IOTBOX_LAN_IP: "192.168.1.10",
        IOTBOX_LISTEN: "127.0.0.1", IOTBOX_LOG_LEVEL: "warn", IOTBOX_DIAGNOSTICS: "off" },
      stdout: "ignore", stderr: "ignore",
    });
    try {
      await waitFor(async () => (await (await fetch(`http://127.0.0.1:${httpPort}/api/status`, { headers: { host: `127.0.0.1:${httpPort}` } })).json() as any).cert.url !== null,
        30_000, "the box's first certificate", () => (proc.exitCode !== null ? `exit ${proc.exitCode}` : null));
      const certMs = performance.now() - t0;
      const atCert = rss(proc.pid);
      await Bun.sleep(o.idleS * 1000);
      const idle = rss(proc.pid);
      const tally = await fuzz({ seed: o.seed, count: o.requests, httpPort, httpsPort });
      if (proc.exitCode !== null) throw new Error(`the box exited during the fuzz run (${proc.exitCode})`);
      const afterFuzz = rss(proc.pid);
      await Bun.sleep(10_000);
      return { certMs, atCert, idle, afterFuzz, settled: rss(proc.pid), tally };
    } finally { proc.kill("SIGKILL"); await proc.exited; }
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

export interface RefRun { idle: Rss; afterFuzz: Rss; tally: FuzzTally }

/** The reference: bare hono on Bun (bench/support/bare-hono.ts), compiled like the box, same idle and request count. */
export async function measureReference(svc: FaultProvisioner, o: { idleS: number; requests: number; seed: number }): Promise<RefRun> {
  const dir = mkdtempSync(join(tmpdir(), "iotbox-mem-ref-"));
  try {
    const leaf = svc.ca.issue(["localhost"], ["127.0.0.1"]);
    writeFileSync(join(dir, "status.json"), JSON.stringify({ box: { id: "x".repeat(10) }, cert: { code: null }, padding: "x".repeat(1500) }));
    const bin = join(dir, "bare-hono");
    if (Bun.spawnSync([process.execPath, "build", "--compile", "--minify", join(import.meta.dir, "support/bare-hono.ts"), "--outfile", bin], { stdout: "ignore", stderr: "inherit" }).exitCode !== 0) throw new Error("could not compile the bare hono reference");
    const port = await freePort();
    const proc = Bun.spawn([bin, String(port), leaf.certFile, leaf.keyFile, join(dir, "status.json")], { env: { ...process.env, ...unitEnv() }, stdout: "ignore", stderr: "ignore" });
    try {
      await waitFor(async () => (await fetch(`https://127.0.0.1:${port}/api/status`, { tls: { rejectUnauthorized: false } })).ok, 10_000, "bare hono");
      await Bun.sleep(o.idleS * 1000);
      const idle = rss(proc.pid);
      const tally = await fuzz({ seed: o.seed, count: o.requests, httpsPort: port });
      return { idle, afterFuzz: rss(proc.pid), tally };
    } finally { proc.kill("SIGKILL"); await proc.exited; }
  } finally { rmSync(dir, { recursive: true, force: true }); }
}

if (import.meta.main) {
  const RUNS = arg("--runs", 3), IDLE = arg("--idle", 60), REQUESTS = arg("--requests", 10_000);
  if (!existsSync(BIN)) {
    const b = Bun.spawnSync([process.execPath, join(ROOT, "scripts/build.ts"), "--only", "iotbox-linux-x64"], { stdout: "inherit", stderr: "inherit" });
    if (b.exitCode !== 0) process.exit(1);
  }
  const svc = await startFaultProvisioner();
  const boxes: BoxRun[] = [], refs: RefRun[] = [];
  try {
    for (let i = 0; i < RUNS; i++) {
      const seed = 1000 + i;
      // the box and the reference side by side: the same machine load for both
      const [b, r] = await Promise.all([measureBox(svc, { idleS: IDLE, requests: REQUESTS, seed }), measureReference(svc, { idleS: IDLE, requests: REQUESTS, seed })]);
      boxes.push(b); refs.push(r);
      console.log(`run ${i + 1}/${RUNS}: box ${b.atCert.total.toFixed(1)} → idle ${b.idle.total.toFixed(1)} → fuzzed ${b.afterFuzz.total.toFixed(1)} MB (${b.tally.fiveHundreds} answers ≥ 500 other than 501, ${b.tally.notImplemented} 501, ${b.tally.noAnswer} without an answer); bare hono idle ${r.idle.total.toFixed(1)} → fuzzed ${r.afterFuzz.total.toFixed(1)} MB`);
    }
  } finally { await svc.stop(); }
  const tallies = (xs: Array<{ tally: FuzzTally }>) => ["fiveHundreds", "notImplemented", "noAnswer"].map((k) => xs.reduce((a, x) => a + (x.tally as any)[k], 0)).join(" / ");
  const m = (f: (x: BoxRun) => number) => median(boxes.map(f)).toFixed(1);
  const mr = (f: (x: RefRun) => number) => median(refs.map(f)).toFixed(1);
  const split = (f: (x: BoxRun) => Rss) => `${m((x) => f(x).anon)} / ${m((x) => f(x).file)}`;
  const rows = [
    ["RSS just after the first certificate (MB)", m((x) => x.atCert.total), "", ""],
    [`RSS after the first certificate + ${IDLE} s idle (MB)`, m((x) => x.idle.total), mr((x) => x.idle.total), "< 60"],
    ["  of which private (RssAnon) / executable pages (RssFile)", split((x) => x.idle), `${mr((x) => x.idle.anon)} / ${mr((x) => x.idle.file)}`, ""],
    [`RSS right after ${REQUESTS} fuzzed requests (MB)`, m((x) => x.afterFuzz.total), mr((x) => x.afterFuzz.total), "< 80"],
    ["  of which private / executable pages", split((x) => x.afterFuzz), `${mr((x) => x.afterFuzz.anon)} / ${mr((x) => x.afterFuzz.file)}`, ""],
    ["RSS 10 s after the fuzz run (MB)", m((x) => x.settled.total), "", ""],
    ["fuzzed answers ≥ 500 but 501 / 501 / none (sums of the runs)", tallies(boxes), tallies(refs), "0 / / 0"],
    ["start → first certificate (ms)", m((x) => x.certMs), "", ""],
  ];
  console.log(`\nbox memory, medians of ${RUNS} fresh boxes (${BIN.replace(ROOT + "/", "")}, the unit's environment ${JSON.stringify(unitEnv())})\n`);
  const w = [58, 14, 14, 6];
  const line = (c: string[]) => c.map((x, i) => (i === 0 ? x.padEnd(w[i]!) : x.padStart(w[i]!))).join(" | ");
  console.log(line(["measure", "iotbox", "bare hono", "goal"]));
  console.log(w.map((n) => "-".repeat(n)).join("-|-"));
  for (const r of rows) console.log(line(r));
  const statuses: Record<string, number> = {};
  for (const b of boxes) for (const [k, v] of Object.entries(b.tally.byStatus)) statuses[k] = (statuses[k] ?? 0) + v;
  console.log(`\nthe box's answers to the fuzzed requests: ${JSON.stringify(statuses)}`);
  for (const e of boxes.flatMap((b) => b.tally.examples).slice(0, 5)) console.log(`  e.g. ${e}`);
}
