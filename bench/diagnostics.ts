/**
 * Diagnostics benchmark (root; network namespaces), from one run:
 *  1. The probe budget per box per day, healthy and while a code is shown: the daemon's own
 *     schedule (createDiagnostics) on a simulated clock and network (test/diagnostics/sim.ts), so a
 *     day passes in a second; packets from the per-probe packet counts measured in the lab (nft
 *     counters at the router, by port).
 *  2. Fault → code and repair → clear: in the namespace lab with real dnsmasq, unbound, nft (the
 *     page opened after the fault, the repair with the page open; a failed certificate request),
 *     and on the simulated clock where minutes must pass (the page closed; the page open all along).
 *   bun bench/diagnostics.ts [--runs 1] [--trials 200] [--no-lab]
 */
import { spawnSync } from "node:child_process";
import { createDiagnostics, DEFAULT_SCHEDULE } from "../src/diagnostics/daemon";
import type { Report } from "../src/diagnostics/report";
import { silentLogger } from "../src/log/index";
import { TARGETS } from "../test/diagnostics/fixtures";
import { simClock, simNetwork, type SimFault } from "../test/diagnostics/sim";
import { createLab, type Lab } from "../test/netns/lab";
import { MATRIX, runScenario, SCENARIOS, startWatcher, type Scenario, type Watcher } from "../test/netns/scenarios";

const arg = (name: string, dflt: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const RUNS = arg("--runs", 1);
const TRIALS = arg("--trials", 200);
const LAB = !process.argv.includes("--no-lab");
const GOAL_MS = 10_000, DAY = 86_400_000, MIN = 60_000;
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length ? (s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2) : NaN; };
const fmt = (ms: number | null) => (ms === null || Number.isNaN(ms) ? "—" : ms >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : `${(ms / 1000).toFixed(1)} s`);
const table = (head: string[], rows: string[][]) => {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => "| " + r.map((x, i) => x.padEnd(w[i]!)).join(" | ") + " |";
  return [line(head), "|" + w.map((n) => "-".repeat(n + 2)).join("|") + "|", ...rows.map(line)].join("\n");
};
let seed = 42;
const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

/** A daemon on the simulated clock and network. */
function simBox() {
  const clock = simClock();
  const net = simNetwork(clock);
  const reports: Report[] = [];
  const d = createDiagnostics({ targets: () => TARGETS, logger: silentLogger(), io: net.io, now: clock.now, timers: clock.timers, random,
    watcher: () => () => {}, onReport: (r) => reports.push(r) });
  const shown = () => d.current().active.map((a) => a.code);
  const until = async (pred: () => boolean, limit: number, visitEveryMs = 0) => {
    const t0 = clock.now();
    let nextVisit = t0;
    while (!pred()) {
      if (clock.now() - t0 > limit) return null;
      if (visitEveryMs && clock.now() >= nextVisit) { d.visit(); nextVisit += visitEveryMs; }
      await clock.advance(100);
    }
    return clock.now() - t0;
  };
  return { clock, net, d, reports, shown, until };
}

/** One simulated day: counts, with `fault` present all day (after a healthy start). */
async function simDay(fault: SimFault) {
  const b = simBox();
  b.d.start();
  await b.clock.advance(MIN);
  const c0 = { ...b.net.count }, r0 = b.reports.length;
  b.net.state.fault = fault;
  await b.clock.advance(DAY);
  b.d.stop();
  const runs = b.reports.slice(r0);
  const c = Object.fromEntries(Object.entries(b.net.count).map(([k, v]) => [k, v - c0[k as keyof typeof c0]])) as typeof c0;
  return { ...c, light: runs.filter((r) => r.kind === "light").length, full: runs.filter((r) => r.kind === "full").length, shown: b.shown() };
}

/** Simulated times (the page closed or open all along); the fault is https_drop (the slowest run, 2.5 s timeouts). */
async function simTimes(pageOpen: boolean) {
  const f: number[] = [], c: number[] = [];
  const visit = pageOpen ? 5000 : 0;
  for (let i = 0; i < TRIALS; i++) {
    const b = simBox();
    b.d.start();
    await b.clock.advance(MIN + random() * 30 * MIN);
    if (pageOpen) { for (let t = 0; t < 60_000; t += 5000) { b.d.visit(); await b.clock.advance(5000); } }
    b.net.state.fault = "https_drop";
    const tf = await b.until(() => b.shown().length > 0, 30 * MIN, visit);
    if (tf !== null) f.push(tf);
    await b.clock.advance(random() * (pageOpen ? 30_000 : 40 * MIN)); // the code is shown a while, then repaired
    b.net.state.fault = null;
    const tc = await b.until(() => b.shown().length === 0, 30 * MIN, visit);
    if (tc !== null) c.push(tc);
    b.d.stop();
  }
  return { f, c };
}

// ---- 1. the budget -------------------------------------------------------------------------
const healthy = await simDay(null);
const rebind = await simDay("rebind");
const drop = await simDay("https_drop");

// ---- packets per probe, and the lab's times ---------------------------------------------------
let perProbe = { dns: NaN, tls: NaN, http: NaN };
const labRows: string[][] = [];
let certRow: string[] | null = null;
let lab: Lab | null = null;
let w: Watcher | null = null;
const stopAll = async () => { await w?.stop(); lab?.cleanup(); };
process.on("SIGINT", () => { void stopAll().then(() => process.exit(130)); });
try {
  if (LAB) {
    lab = await createLab();
    const l = lab;
    // Per-probe packets: a daemon checking every 3 s (light checks, and full runs on visits), nft counting by port.
    const counter = startWatcher(l, { healthyMs: 3000, jitterMs: 0, visitMinMs: 0 });
    await l.baseline();
    if ((await counter.waitFor(() => counter.healthy(), 15000)) === null) throw new Error("lab not healthy");
    const nft = (args: string[], input?: string) => spawnSync("ip", ["netns", "exec", l.ns.router, "nft", ...args], { input, encoding: "utf8" });
    nft(["-f", "-"], `table inet iotdiag_count {\n  chain count {\n    type filter hook prerouting priority -300;\n    iifname "lan0" udp dport 53 counter\n    iifname "lan0" tcp dport 443 counter\n    iifname "lan0" tcp dport 80 counter\n  }\n}\n`);
    const m = counter.mark();
    for (let i = 0; i < 10; i++) { if (i % 3 === 0) counter.visit(); await new Promise((r) => setTimeout(r, 2000)); }
    const lines = counter.runsSince(m);
    const pk = [...nft(["list", "table", "inet", "iotdiag_count"]).stdout.matchAll(/packets (\d+)/g)].map((x) => Number(x[1]));
    nft(["delete", "table", "inet", "iotdiag_count"]);
    await counter.stop();
    const dnsQ = lines.reduce((n, r) => n + r.sent.dnsQueries, 0);
    perProbe = { dns: pk[0]! / dnsQ, tls: pk[1]! / lines.length, http: pk[2]! / lines.length };

    // Fault → code from opening the page, repair → clear with it open (the runtime's schedule, every visit runs).
    w = startWatcher(l);
    for (const s of [...SCENARIOS, ...MATRIX] as Scenario[]) {
      const f: number[] = [], c: number[] = [];
      let bad = 0;
      for (let i = 0; i < RUNS; i++) {
        const r = await runScenario(l, w, s, 20000);
        if (r.faultMs === null || r.clearMs === null || r.foreign.length) bad++;
        if (r.faultMs !== null) f.push(r.faultMs);
        if (r.clearMs !== null) c.push(r.clearMs);
      }
      labRows.push([s.fault, s.code, fmt(median(f)), fmt(f.length ? Math.max(...f) : null), fmt(median(c)), fmt(c.length ? Math.max(...c) : null),
        f.length && c.length && Math.max(...f, ...c) < GOAL_MS && !bad ? "yes" : `NO${bad ? ` (${bad} bad)` : ""}`]);
    }
    // A failed certificate request (no visit): https_drop, the slowest probe.
    const ft: number[] = [];
    for (let i = 0; i < Math.max(RUNS, 3); i++) {
      await l.baseline();
      await w.waitFor(() => w!.healthy(), 15000);
      await l.fault("https_drop");
      w.certFailed();
      const t = await w.waitFor((a) => a.includes("ERR_IOT_FIREWALL_HTTPS_DROPPED"), 20000);
      if (t !== null) ft.push(t);
      await l.repair("https_drop");
      const poll = setInterval(() => w!.visit(), 3000);
      await w.waitFor((a) => a.length === 0, 20000);
      clearInterval(poll);
    }
    certRow = ["lab: a certificate request fails (page closed)", fmt(median(ft)), fmt(ft.length ? Math.max(...ft) : null)];
  }
} finally { await stopAll(); }

const closed = await simTimes(false);
const open = await simTimes(true);

// ---- the report -------------------------------------------------------------------------------
const pkts = (d: { dnsQueries: number; tlsHandshakes: number; tcpConnections: number; connectivityChecks: number }) =>
  Number.isNaN(perProbe.dns) ? "—" : Math.round(d.dnsQueries * perProbe.dns + (d.tcpConnections - d.connectivityChecks) * perProbe.tls + d.connectivityChecks * perProbe.http).toLocaleString("en");
const n = (x: number) => x.toLocaleString("en");
console.log(`\nProbe budget per box per day (simulated day, the runtime's schedule: light check every ${DEFAULT_SCHEDULE.healthyMs / MIN}–${(DEFAULT_SCHEDULE.healthyMs + DEFAULT_SCHEDULE.jitterMs) / MIN} min; back-off ${DEFAULT_SCHEDULE.activeMs / 1000} s → ${DEFAULT_SCHEDULE.activeMaxMs / MIN} min while a code is shown; no visit)\n`);
console.log(table(["state", "runs (light/full)", "TLS handshakes to the vendor", "TCP connections to it", "connectivity checks", "DNS queries", "packets sent by the box"], [
  ["before issue 11 (a run every 3 s)", "28,800", "28,800", "28,800", "28,800", "115,200", "≈ 432,000 (15 a run)"],
  ["healthy", `${healthy.light}/${healthy.full}`, n(healthy.tlsHandshakes), n(healthy.tcpConnections - healthy.connectivityChecks), n(healthy.connectivityChecks), n(healthy.dnsQueries), pkts(healthy)],
  [`code shown all day: ${rebind.shown.join(",") || "none"}`, `${rebind.light}/${rebind.full}`, n(rebind.tlsHandshakes), n(rebind.tcpConnections - rebind.connectivityChecks), n(rebind.connectivityChecks), n(rebind.dnsQueries), pkts(rebind)],
  [`code shown all day: ${drop.shown.join(",") || "none"}`, `${drop.light}/${drop.full}`, n(drop.tlsHandshakes), n(drop.tcpConnections - drop.connectivityChecks), n(drop.connectivityChecks), n(drop.dnsQueries), pkts(drop)],
]));
console.log(`goal ≤ 200 a day when healthy: TLS ${healthy.tlsHandshakes <= 200 ? "yes" : "NO"}, checks ${healthy.connectivityChecks <= 200 ? "yes" : "NO"}, DNS ${healthy.dnsQueries <= 200 ? "yes" : "NO"}. ` +
  `Each homepage visit (≥ 30 s apart) adds one full run: 4 DNS queries, 1 TLS handshake, 1 check.`);
if (!Number.isNaN(perProbe.dns)) console.log(`packets per probe, measured at the router: DNS query ${perProbe.dns.toFixed(1)}, TCP+TLS to the vendor ${perProbe.tls.toFixed(1)}, connectivity check ${perProbe.http.toFixed(1)}`);

if (labRows.length) {
  console.log(`\nNamespace lab (real dnsmasq, unbound, nft): the page opened after the fault, the repair with the page open; ${RUNS} run(s) per scenario, goal < ${GOAL_MS / 1000} s\n`);
  console.log(table(["scenario", "code", "open page → code (median)", "max", "repair → clear, page open (median)", "max", `< ${GOAL_MS / 1000} s`], labRows));
}
console.log(`\nFault → code and repair → clear, https_drop (the slowest probe): a failed certificate request in the lab; the page open all along and closed on the simulated clock (${TRIALS} trials each)\n`);
const rows = [
  ...(certRow ? [[certRow[0]!, certRow[1]!, certRow[2]!, "—", "—"]] : []),
  ["simulated: the page open all along (polls every 5 s)", fmt(median(open.f)), fmt(Math.max(...open.f)), fmt(median(open.c)), fmt(Math.max(...open.c))],
  ["simulated: the page closed", fmt(median(closed.f)), fmt(Math.max(...closed.f)), fmt(median(closed.c)), fmt(Math.max(...closed.c))],
];
console.log(table(["", "fault → code (median)", "max", "repair → clear (median)", "max"], rows));
if (labRows.some((r) => r[6] !== "yes") || healthy.tlsHandshakes > 200 || healthy.dnsQueries > 200 || healthy.connectivityChecks > 200) process.exitCode = 1;
