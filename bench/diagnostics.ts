/**
 * Diagnostics benchmark (root; network namespaces): per scenario, the time from the fault to
 * exactly its code being shown and from the repair to the code clearing (median of N runs),
 * against the 10 s goal; and the probe budget when all is well, counted by nft in the router.
 *   bun bench/diagnostics.ts [--runs 3] [--budget-seconds 30]
 */
import { spawnSync } from "node:child_process";
import { createLab } from "../test/netns/lab";
import { runScenario, SCENARIOS, startWatcher } from "../test/netns/scenarios";

const arg = (name: string, dflt: number) => { const i = process.argv.indexOf(name); return i > 0 ? Number(process.argv[i + 1]) : dflt; };
const RUNS = arg("--runs", 3);
const BUDGET_S = arg("--budget-seconds", 30);
const GOAL_MS = 10000;
const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };
const fmt = (ms: number | null) => (ms === null ? "timeout" : `${(ms / 1000).toFixed(1)} s`);

const lab = await createLab();
const w = startWatcher(lab);
const stopAll = async () => { await w.stop(); lab.cleanup(); };
process.on("SIGINT", () => { void stopAll().then(() => process.exit(130)); });

try {
  // Probe budget: count the box's IP packets at the router while the network is healthy.
  await lab.baseline();
  if ((await w.waitFor(() => w.healthy(), 15000)) === null) throw new Error("lab not healthy");
  const nft = (args: string[], input?: string) => spawnSync("ip", ["netns", "exec", lab.ns.router, "nft", ...args], { input, encoding: "utf8" });
  nft(["-f", "-"], `table inet iotdiag_count {\n  chain count {\n    type filter hook prerouting priority -300;\n    iifname "lan0" ip saddr 10.77.0.0/24 counter\n  }\n}\n`);
  let runs = 0, dns = 0, tcp = 0;
  const t0 = performance.now();
  const stopCount = w.mark();
  await new Promise((r) => setTimeout(r, BUDGET_S * 1000));
  const elapsedMin = (performance.now() - t0) / 60000;
  const out = nft(["list", "table", "inet", "iotdiag_count"]).stdout;
  nft(["delete", "table", "inet", "iotdiag_count"]);
  const packets = Number(/packets (\d+)/.exec(out)?.[1] ?? NaN);
  runs = w.seenSince(stopCount).length;
  for (const r of w.runsSince(stopCount)) { dns += r.sent.dnsQueries; tcp += r.sent.tcpConnections; }
  if (w.seenSince(stopCount).flat().length) console.error("warning: a code was shown while measuring the healthy budget");

  // Fault → code, repair → clear.
  const rows: string[][] = [];
  let worst = 0;
  for (const s of SCENARIOS) {
    const f: number[] = [], c: number[] = [];
    let bad = 0;
    for (let i = 0; i < RUNS; i++) {
      const r = await runScenario(lab, w, s, 20000);
      if (r.faultMs === null || r.clearMs === null || r.foreign.length) bad++;
      if (r.faultMs !== null) f.push(r.faultMs);
      if (r.clearMs !== null) c.push(r.clearMs);
    }
    const mf = f.length ? median(f) : null, mc = c.length ? median(c) : null;
    worst = Math.max(worst, ...f, ...c);
    rows.push([s.fault, s.code, fmt(mf), fmt(f.length ? Math.max(...f) : null), fmt(mc), fmt(c.length ? Math.max(...c) : null),
      mf !== null && mc !== null && mf < GOAL_MS && mc < GOAL_MS && !bad ? "yes" : `NO${bad ? ` (${bad} bad run)` : ""}`]);
  }

  const head = ["scenario", "code", "fault→code (median)", "max", "repair→clear (median)", "max", `< ${GOAL_MS / 1000} s`];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => "| " + r.map((x, i) => x.padEnd(widths[i]!)).join(" | ") + " |";
  console.log(`\nDiagnostics: ${RUNS} runs per scenario, goal < ${GOAL_MS / 1000} s (worst single run ${fmt(worst)})\n`);
  console.log(line(head));
  console.log("|" + widths.map((w2) => "-".repeat(w2 + 2)).join("|") + "|");
  for (const r of rows) console.log(line(r));
  console.log(`\nProbe budget when all is well (${BUDGET_S} s measured, nft counter at the router):`);
  console.log(`  ${(runs / elapsedMin).toFixed(1)} runs/min, ${(dns / elapsedMin).toFixed(0)} DNS queries/min, ${(tcp / elapsedMin).toFixed(0)} TCP connections/min`);
  console.log(`  ${(packets / elapsedMin).toFixed(0)} IP packets/min sent by the box (${(packets / Math.max(runs, 1)).toFixed(1)} per run)`);
  if (rows.some((r) => r[6] !== "yes")) process.exitCode = 1;
} finally {
  await stopAll();
}
