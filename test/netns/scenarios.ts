/**
 * One scenario end to end: the diagnosis daemon (`diagnose --watch --json`) runs in the box
 * namespace; apply a fault, time until exactly its code is shown, repair, time until nothing is.
 * Shared by the test (test/netns/diagnostics.test.ts) and the benchmark (bench/diagnostics.ts).
 */
import type { ChildProcess } from "node:child_process";
import { BUN, ROOT, watchLines, type Fault, type Lab, type RunLine } from "./lab";

/** Each fault, exactly the code it must give, and (where it matters) words the detail must hold. */
export interface Scenario { fault: Fault; code: string; what: string; detail?: string }
export const SCENARIOS: Scenario[] = [
  { fault: "no_link", code: "ERR_IOT_NET_NO_LINK", what: "router port down" },
  { fault: "no_address", code: "ERR_IOT_NET_NO_ADDRESS", what: "DHCP server gone, lease lost" },
  { fault: "no_gateway", code: "ERR_IOT_NET_NO_GATEWAY", what: "default route removed" },
  { fault: "dns_drop", code: "ERR_IOT_DNS_UNREACHABLE", what: "nft drops port 53" },
  { fault: "dns_reject", code: "ERR_IOT_DNS_UNREACHABLE", what: "nft rejects port 53" },
  { fault: "rebind_dnsmasq", code: "ERR_IOT_DNS_REBIND_BLOCKED", what: "dnsmasq --stop-dns-rebind", detail: "EDE 15 Blocked" },
  { fault: "rebind_unbound", code: "ERR_IOT_DNS_REBIND_BLOCKED", what: "unbound private-address" },
  { fault: "https_drop", code: "ERR_IOT_FIREWALL_HTTPS_DROPPED", what: "nft drops 443", detail: "no answer within" },
  { fault: "https_reject", code: "ERR_IOT_FIREWALL_HTTPS_REJECTED", what: "nft rejects 443 (tcp reset)", detail: "reset (RST)" },
  { fault: "https_reject_icmp", code: "ERR_IOT_FIREWALL_HTTPS_REJECTED", what: "nft rejects 443 (ICMP admin-prohibited)", detail: "ICMP administratively prohibited from 10.77.0.1" },
  { fault: "tls_intercept", code: "ERR_IOT_TLS_INTERCEPTED", what: "TLS proxy with its own CA" },
  { fault: "captive", code: "ERR_IOT_CAPTIVE_PORTAL", what: "HTTP redirected to a portal" },
  { fault: "clock", code: "ERR_IOT_CLOCK_UNSYNCED", what: "clock-sync reader says unsynced" },
];

/** Issue 11: every way a router refuses the name, network shapes where the outside cannot confirm, the uplink. */
export const MATRIX: Scenario[] = [
  { fault: "rebind_dnsmasq_locked", code: "ERR_IOT_DNS_REBIND_BLOCKED", what: "dnsmasq rebind protection, port 53 to the outside dropped", detail: "DNS is locked to the router" },
  { fault: "rebind_dnsmasq_dnat", code: "ERR_IOT_DNS_REBIND_BLOCKED", what: "dnsmasq rebind protection, port 53 DNAT'd to the router", detail: "redirected to the router" },
  { fault: "refused_unbound", code: "ERR_IOT_DNS_REBIND_BLOCKED", what: "unbound local-zone refuse (REFUSED, as Knot/dnscrypt-proxy)", detail: "REFUSED" },
  { fault: "nxdomain_unbound", code: "ERR_IOT_DNS_REBIND_BLOCKED", what: "unbound local-zone always_nxdomain", detail: "NXDOMAIN" },
  { fault: "silent_unbound", code: "ERR_IOT_DNS_REBIND_BLOCKED", what: "unbound local-zone deny (no answer for the zone only)", detail: "no answer (timeout)" },
  { fault: "zero_dnsmasq", code: "ERR_IOT_DNS_REBIND_BLOCKED", what: "dnsmasq address=/zone/0.0.0.0 (Pi-hole style rewrite)", detail: "0.0.0.0 instead of 10." },
  { fault: "zero_unbound_dnat", code: "ERR_IOT_DNS_REBIND_BLOCKED", what: "unbound redirect to 0.0.0.0, port 53 DNAT'd to it", detail: "redirected to the router" },
  { fault: "uplink_down", code: "ERR_IOT_NET_UPLINK_DOWN", what: "router without default route (names from its cache)", detail: "ICMP network unreachable from 10.77.0.1" },
  { fault: "uplink_down_cold", code: "ERR_IOT_NET_UPLINK_DOWN", what: "the same, the router's cache empty (it answers REFUSED, EDE 23)", detail: "cannot resolve any outside name" },
  { fault: "uplink_blackhole", code: "ERR_IOT_NET_UPLINK_DOWN", what: "everything out of the router lost", detail: "no answer (timeout)" },
  { fault: "http_drop", code: "ERR_IOT_DIAG_UNEXPLAINED", what: "port 80 dropped, 443 fine (no known cause)", detail: "captive: connectivity check" },
];

export interface Watcher {
  active(): string[];
  /** The homepage was opened / polled (the runtime calls diagnostics.visit()). */
  visit(): void;
  /** A certificate request failed. */
  certFailed(): void;
  /** The last run's details per code. */
  details(): Record<string, string>;
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

/** The daemon's schedule as the runtime has it, except (unless `schedule` says) that every visit runs the probes: each scenario opens the page afresh. */
export function startWatcher(lab: Lab, schedule: Record<string, number> = { visitMinMs: 0 }): Watcher {
  const p: ChildProcess = lab.inBox([BUN, `${ROOT}/src/diagnostics/cli.ts`, "--targets", JSON.stringify(lab.targets),
    "--watch", "--json", "--ca-file", lab.caFile, "--clock-sync-file", lab.clockFile, "--resolv-conf", "/etc/resolv.conf",
    "--schedule", JSON.stringify(schedule)], "pipe");
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
    visit: () => { p.stdin!.write("visit\n"); },
    certFailed: () => { p.stdin!.write("cert-failed\n"); },
    details: () => history[history.length - 1]?.line.details ?? {},
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
      p.stdin?.end();
      p.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 2000))]);
      if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
      if (process.env.IOTDIAG_DEBUG) console.error(stderr);
    },
  };
}

const same = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

export interface ScenarioResult { faultMs: number | null; clearMs: number | null; foreign: string[]; detail: string }

/** While `during` runs, the homepage is open: it asks /api/status every `everyMs` (3 s). */
async function pageOpen<T>(w: Watcher, during: Promise<T>, everyMs = 3000): Promise<T> {
  w.visit();
  const t = setInterval(() => w.visit(), everyMs);
  try { return await during; } finally { clearInterval(t); }
}

/**
 * Healthy first (up to 15 s, the page open), the page closed, then the fault; the technician
 * opens the homepage (a visit; the lab lets every visit run) up to a second later → exactly
 * [code]; the repair with the page still open → nothing, by the daemon's own open-page re-check.
 * Times are from the visit and from the repair.
 */
export async function runScenario(lab: Lab, w: Watcher, s: Scenario, limitMs = 10000): Promise<ScenarioResult> {
  await lab.baseline();
  const healthy = await pageOpen(w, w.waitFor(() => w.healthy(), 15000), 1000);
  if (healthy === null) throw new Error(`not healthy before ${s.fault}: ${w.active().join(",")}`);
  await new Promise((r) => setTimeout(r, 500));
  const m = w.mark();
  await lab.fault(s.fault);
  await new Promise((r) => setTimeout(r, Math.random() * 1000));
  const faultMs = await pageOpen(w, w.waitFor((a) => same(a, [s.code]), limitMs));
  const detail = w.details()[s.code] ?? "";
  await lab.repair(s.fault);
  // The page stays open (its last poll was < 3 s ago: it counts as open for 15 s), and no visit is
  // sent here: the clear comes from the daemon's own re-check while the page is open (every 3 s),
  // not from a visit that the lab's schedule would let run at once.
  const clearMs = await w.waitFor((a) => a.length === 0, limitMs);
  const foreign = [...new Set(w.seenSince(m).flat())].filter((c) => c !== s.code);
  return { faultMs, clearMs, foreign, detail };
}
