/**
 * One scenario end to end: the diagnosis daemon (`diagnose --watch --json`) runs in the box
 * namespace; apply a fault, time until exactly its code is shown, repair, time until nothing is.
 * Shared by the test (test/netns/diagnostics.test.ts) and the benchmark (bench/diagnostics.ts).
 */
import type { ChildProcess } from "node:child_process";
import { BUN, ROOT, watchLines, type Fault, type Lab, type RunLine } from "./lab";

export const SCENARIOS: Array<{ fault: Fault; code: string; what: string }> = [
  { fault: "no_link", code: "ERR_IOT_NET_NO_LINK", what: "router port down" },
  { fault: "no_address", code: "ERR_IOT_NET_NO_ADDRESS", what: "DHCP server gone, lease lost" },
  { fault: "no_gateway", code: "ERR_IOT_NET_NO_GATEWAY", what: "default route removed" },
  { fault: "dns_drop", code: "ERR_IOT_DNS_UNREACHABLE", what: "nft drops port 53" },
  { fault: "dns_reject", code: "ERR_IOT_DNS_UNREACHABLE", what: "nft rejects port 53" },
  { fault: "rebind_dnsmasq", code: "ERR_IOT_DNS_REBIND_BLOCKED", what: "dnsmasq --stop-dns-rebind" },
  { fault: "rebind_unbound", code: "ERR_IOT_DNS_REBIND_BLOCKED", what: "unbound private-address" },
  { fault: "https_drop", code: "ERR_IOT_FIREWALL_HTTPS_DROPPED", what: "nft drops 443" },
  { fault: "https_reject", code: "ERR_IOT_FIREWALL_HTTPS_REJECTED", what: "nft rejects 443 (tcp reset)" },
  { fault: "https_reject_icmp", code: "ERR_IOT_FIREWALL_HTTPS_REJECTED", what: "nft rejects 443 (ICMP admin-prohibited)" },
  { fault: "tls_intercept", code: "ERR_IOT_TLS_INTERCEPTED", what: "TLS proxy with its own CA" },
  { fault: "captive", code: "ERR_IOT_CAPTIVE_PORTAL", what: "HTTP redirected to a portal" },
  { fault: "clock", code: "ERR_IOT_CLOCK_UNSYNCED", what: "clock-sync reader says unsynced" },
];

export interface Watcher {
  active(): string[];
  /** The last run found nothing and nothing is shown. */
  healthy(): boolean;
  /** Every distinct active set seen since the last mark. */
  seenSince(mark: number): string[][];
  /** The JSON line of every run since the mark. */
  runsSince(mark: number): RunLine[];
  mark(): number;
  waitFor(pred: (active: string[]) => boolean, timeoutMs: number): Promise<number | null>;
  stop(): Promise<void>;
}

export function startWatcher(lab: Lab): Watcher {
  const p: ChildProcess = lab.inBox([BUN, `${ROOT}/src/diagnostics/cli.ts`, "--targets", JSON.stringify(lab.targets),
    "--watch", "--json", "--ca-file", lab.caFile, "--clock-sync-file", lab.clockFile, "--resolv-conf", "/etc/resolv.conf"]);
  const history: Array<{ t: number; active: string[]; line: RunLine }> = [];
  let current: string[] = [];
  let lastCodes: string[] | null = null; // null until the first run reported
  const waiters = new Set<() => void>();
  let stderr = "";
  p.stderr!.on("data", (d) => { stderr = (stderr + d.toString()).slice(-4000); });
  watchLines(p, (l) => {
    current = l.active;
    lastCodes = l.codes;
    history.push({ t: performance.now(), active: l.active, line: l });
    for (const w of waiters) w();
  });
  return {
    active: () => current,
    healthy: () => lastCodes !== null && lastCodes.length === 0 && current.length === 0,
    mark: () => history.length,
    seenSince: (m) => history.slice(m).map((h) => h.active),
    runsSince: (m) => history.slice(m).map((h) => h.line),
    waitFor(pred, timeoutMs) {
      const t0 = performance.now();
      return new Promise((resolve) => {
        const check = () => { if (pred(current)) { done(); resolve(performance.now() - t0); } };
        const timer = setTimeout(() => { done(); resolve(null); }, timeoutMs);
        const done = () => { clearTimeout(timer); waiters.delete(check); };
        waiters.add(check);
        check();
      });
    },
    async stop() {
      const exited = new Promise((r) => p.once("exit", r));
      p.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
      if (process.env.IOTDIAG_DEBUG) console.error(stderr);
    },
  };
}

const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export interface ScenarioResult { faultMs: number | null; clearMs: number | null; foreign: string[] }

/** Healthy first (waits up to 15 s), then fault → exactly [code], then repair → []. */
export async function runScenario(lab: Lab, w: Watcher, s: { fault: Fault; code: string }, limitMs = 10000): Promise<ScenarioResult> {
  await lab.baseline();
  const healthy = await w.waitFor(() => w.healthy(), 15000);
  if (healthy === null) throw new Error(`not healthy before ${s.fault}: ${w.active().join(",")}`);
  // A settled healthy state, then the fault at a random phase of the 3 s healthy period, so
  // the timings are those of a fault that arrives at any moment.
  await new Promise((r) => setTimeout(r, 1500 + Math.random() * 3000));
  const m = w.mark();
  await lab.fault(s.fault);
  const faultMs = await w.waitFor((a) => same(a, [s.code]), limitMs);
  await lab.repair(s.fault);
  const clearMs = await w.waitFor((a) => a.length === 0, limitMs);
  const foreign = [...new Set(w.seenSince(m).flat())].filter((c) => c !== s.code);
  return { faultMs, clearMs, foreign };
}
