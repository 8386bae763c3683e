/**
 * createDiagnostics on a simulated clock and network (test/diagnostics/sim.ts): when it probes
 * (start, local change, visits at most once per 30 s, failed certificate requests, a light check
 * every 10–12 min), the back-off while a code is shown, the speed-up while the homepage is open,
 * hold times, onChange, stop. Real timers only for the "nothing before start" check.
 */
import { describe, expect, test } from "bun:test";
import { createDiagnostics, DEFAULT_SCHEDULE, type DiagnosticsOptions } from "../../src/diagnostics/daemon";
import type { Report } from "../../src/diagnostics/report";
import { silentLogger } from "../../src/log/index";
import { TARGETS } from "./fixtures";
import { simClock, simNetwork } from "./sim";

const S = 1000, MIN = 60 * S, DAY = 24 * 60 * MIN;

function sim(extra: Partial<DiagnosticsOptions> = {}) {
  const clock = simClock();
  const net = simNetwork(clock);
  let netEvent: (why: string) => void = () => {};
  let watching = false;
  const reports: Array<{ at: number; r: Report }> = [];
  const d = createDiagnostics({
    targets: () => TARGETS, logger: silentLogger(), io: net.io, now: clock.now, timers: clock.timers,
    watcher: (cb) => { netEvent = cb; watching = true; return () => { watching = false; }; },
    onReport: (r) => reports.push({ at: clock.now(), r }), ...extra,
  });
  const codes = () => d.current().active.map((a) => a.code);
  /** Advance in 100 ms steps until pred holds; the simulated time it took, or null. */
  const until = async (pred: () => boolean, limitMs: number) => {
    const t0 = clock.now();
    while (!pred()) { if (clock.now() - t0 > limitMs) return null; await clock.advance(100); }
    return clock.now() - t0;
  };
  return { clock, net, d, codes, until, reports, netEvent: (w: string) => netEvent(w), watching: () => watching };
}

describe("createDiagnostics: when it probes", () => {
  test("nothing runs before start(); runNow works without start", async () => {
    const { clock, net, d } = sim();
    await clock.advance(DAY);
    expect(net.count.runs).toBe(0);
    expect(d.current()).toEqual({ active: [], report: null });
    const run = d.runNow();
    await clock.advance(S);
    const r = await run;
    expect(r.codes).toEqual([]);
    expect(r.sent).toEqual({ dnsQueries: 4, tcpConnections: 2 });
  });

  test("healthy: a light check every 10–12 min with jitter, one DNS query each; ≤ 200 handshakes, checks and queries a day", async () => {
    let x = 0;
    const { clock, net, d, reports } = sim({ random: () => (x = (x * 9301 + 49297) % 233280) / 233280 });
    d.start();
    await clock.advance(DAY);
    const gaps = reports.slice(1).map((r, i) => r.at - reports[i]!.at);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(10 * MIN);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(12 * MIN + 1000);
    expect(new Set(gaps.map((g) => Math.round(g / 1000))).size).toBeGreaterThan(20); // jitter: a fleet does not probe in step
    expect(reports.slice(1).every((r) => r.r.kind === "light" && r.r.sent.dnsQueries === 1)).toBe(true);
    for (const k of ["tlsHandshakes", "connectivityChecks", "dnsQueries"] as const) expect(net.count[k]).toBeLessThanOrEqual(200);
    expect(d.current().active).toEqual([]);
    d.stop();
  });

  test("start(delay) at power-on: no run until the delay, but a local change (netlink) runs at once", async () => {
    const { clock, net, d, netEvent } = sim();
    d.start(60_000);
    await clock.advance(5 * S);
    expect(net.count.runs).toBe(0);
    netEvent("address added");
    await clock.advance(S);
    expect(net.count.runs).toBe(1);
    d.stop();
  });

  test("a netlink event that changed none of the local facts probes nothing; a real change does", async () => {
    const { clock, net, d, netEvent } = sim();
    d.start();
    await clock.advance(S);
    const runs = net.count.runs;
    for (let i = 0; i < 10; i++) { netEvent("route: IPv6 RA lifetime refreshed"); await clock.advance(10 * S); }
    expect(net.count.runs).toBe(runs);
    net.state.fault = "no_link";
    netEvent("link: eth0 NO-CARRIER");
    await clock.advance(S);
    expect(net.count.runs).toBe(runs + 1);
    d.stop();
  });

  test("visits (homepage, /api/status, diagnose) run the probes at most once per 30 s", async () => {
    const { clock, d, reports } = sim();
    d.start();
    await clock.advance(MIN);
    const n = reports.length;
    for (let i = 0; i < 60; i++) { d.visit(); await clock.advance(S); } // a page polling every second for a minute
    const visitRuns = reports.slice(n);
    expect(visitRuns.length).toBe(2);
    expect(visitRuns[1]!.at - visitRuns[0]!.at).toBeGreaterThanOrEqual(DEFAULT_SCHEDULE.visitMinMs);
    expect(visitRuns.every((r) => r.r.kind === "full")).toBe(true);
    d.stop();
  });

  test("a LAN flood of visits (10,000 at once, then 100 a second for 5 min) still probes at most once per 30 s", async () => {
    const { clock, net, d, reports } = sim();
    d.start();
    await clock.advance(MIN);
    const n = reports.length, runs = net.count.runs;
    for (let i = 0; i < 10_000; i++) d.visit();
    for (let s = 0; s < 300; s++) { for (let i = 0; i < 100; i++) d.visit(); await clock.advance(S); }
    const at = reports.slice(n).map((r) => r.at);
    expect(at.length).toBeGreaterThan(0);
    expect(at.length).toBeLessThanOrEqual(300 / 30 + 1);
    for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThanOrEqual(DEFAULT_SCHEDULE.visitMinMs);
    expect(net.count.runs - runs).toBe(at.length); // every run reported, none hidden behind another
    d.stop();
  });

  test("a failed certificate request runs the probes within 2 s; a light check that fails turns into a full run", async () => {
    const { clock, net, d, reports, codes, until } = sim();
    d.start();
    await clock.advance(MIN);
    net.state.fault = "https_drop";
    const n = reports.length;
    d.certificateFailed();
    await clock.advance(3 * S); // it starts at once; its report comes when the 2.5 s connect timeout ends
    expect(reports.length).toBe(n + 1);
    expect(await until(() => codes().includes("ERR_IOT_FIREWALL_HTTPS_DROPPED"), 10 * S)).not.toBeNull();
    net.state.fault = null;
    expect(await until(() => codes().length === 0, 10 * MIN)).not.toBeNull();
    // Now the periodic light check meets a fault: it asks again in full at once, then confirms.
    await clock.advance(MIN);
    net.state.fault = "rebind";
    const m = reports.length;
    expect(await until(() => codes().includes("ERR_IOT_DNS_REBIND_BLOCKED"), 13 * MIN)).not.toBeNull();
    const kinds = reports.slice(m).map((r) => r.r.kind);
    expect(kinds.slice(0, 2)).toEqual(["light", "full"]);
    d.stop();
  });
});

describe("createDiagnostics: while a code is shown", () => {
  test("page closed: re-checks back off from 5 s to 5 min; the page open: every 3 s, so a repair clears in < 10 s", async () => {
    const { clock, net, d, codes, until, reports } = sim();
    let changes = 0;
    d.onChange(() => changes++);
    d.start();
    await clock.advance(S);
    net.state.fault = "https_drop";
    d.visit(); // the technician opens the page: last run > 30 s? no — it ran 1 s ago; the page counts as open
    await clock.advance(40 * S);
    d.visit();
    expect(await until(() => codes().length > 0, 10 * S)).not.toBeNull();
    expect(d.current().active[0]).toMatchObject({ code: "ERR_IOT_FIREWALL_HTTPS_DROPPED", led: "firewall", severity: "error" });
    expect(d.current().active[0]!.detail).toContain("no answer within 2.5 s");
    expect(changes).toBe(1);
    // Nobody looks: the gaps between re-checks grow to 5 min and stay there.
    const n = reports.length;
    await clock.advance(60 * MIN);
    const gaps = reports.slice(n).map((r, i, a) => (i ? r.at - a[i - 1]!.at : NaN)).slice(1);
    expect(gaps[0]!).toBeLessThan(15 * S);
    expect(gaps.every((g, i) => i === 0 || g >= gaps[i - 1]! - 3000)).toBe(true);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(DEFAULT_SCHEDULE.activeMaxMs + 3000);
    expect(Math.max(...gaps)).toBeGreaterThanOrEqual(4 * MIN);
    // The technician opens the page (it polls /api/status every 5 s), repairs: cleared in < 10 s.
    const poll = async (ms: number) => { for (let t = 0; t < ms; t += 5 * S) { d.visit(); await clock.advance(5 * S); } };
    await poll(20 * S);
    net.state.fault = null;
    const t0 = clock.now();
    while (codes().length && clock.now() - t0 < 60 * S) await poll(5 * S);
    expect(clock.now() - t0).toBeLessThan(10 * S);
    expect(changes).toBe(2);
    d.stop();
  });

  test("a glitch shorter than the hold is never shown; stop() ends the watcher and the timers", async () => {
    const { clock, net, d, codes, watching } = sim();
    d.start();
    await clock.advance(S);
    expect(watching()).toBe(true);
    net.state.fault = "no_link";
    d.certificateFailed();
    await clock.advance(3);
    net.state.fault = null;
    await clock.advance(10 * S);
    expect(codes()).toEqual([]);
    d.stop();
    expect(watching()).toBe(false);
    const runs = net.count.runs;
    await clock.advance(DAY);
    expect(net.count.runs).toBe(runs);
  });

  test("onReport comes after the verdict: the run that shows a code reports it shown (the watch stream, the lab)", async () => {
    const seen: string[][] = [];
    let d!: ReturnType<typeof createDiagnostics>;
    const { clock, net, d: dd } = sim({ onReport: () => seen.push(d.current().active.map((a) => a.code)) });
    d = dd;
    d.start();
    await clock.advance(S);
    net.state.fault = "https_drop";
    d.certificateFailed();
    await clock.advance(10 * S);
    const first = seen.findIndex((a) => a.length > 0);
    expect(first).toBeGreaterThan(0);
    expect(d.current().report!.codes).toEqual(["ERR_IOT_FIREWALL_HTTPS_DROPPED"]);
    expect(seen.length - first).toBeLessThanOrEqual(2); // shown by the confirming run itself, not one later
    d.stop();
  });

  test("concurrent runNow calls share one run", async () => {
    const { clock, net, d } = sim();
    const both = Promise.all([d.runNow(), d.runNow()]);
    await clock.advance(S);
    const [a, b] = await both;
    expect(a).toBe(b);
    expect(net.count.runs).toBe(1);
  });
});
