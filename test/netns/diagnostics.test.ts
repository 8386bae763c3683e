/**
 * End to end in network namespaces (root): every fault yields exactly its code within 10 s and
 * clears within 10 s of the repair; the healthy network yields none. Real dnsmasq, unbound, nft,
 * DHCP, TLS and HTTP servers; every target points into the lab.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createLab, BUN, ROOT, type Fault, type Lab } from "./lab";
import { MATRIX, runScenario, SCENARIOS, startWatcher, type Watcher } from "./scenarios";

let lab: Lab;
let w: Watcher;

beforeAll(async () => {
  lab = await createLab();
  w = startWatcher(lab);
}, 60000);

afterAll(async () => {
  await w?.stop();
  lab?.cleanup();
}, 20000);

const oneShot = async (extra: string[] = []) => {
  const p = lab.inBox([BUN, `${ROOT}/src/diagnostics/cli.ts`, "--targets", JSON.stringify(lab.targets), "--json",
    "--ca-file", lab.caFile, "--clock-sync-file", lab.clockFile, "--resolv-conf", "/etc/resolv.conf", ...extra]);
  let out = "";
  p.stdout!.on("data", (d) => { out += d; });
  const code = await new Promise<number | null>((r) => p.on("exit", r));
  return { code, report: JSON.parse(out) };
};

/** The one-shot command with one fault on, repaired afterwards whatever `check` found. */
const oneShotWith = async (fault: Fault, check: (r: Awaited<ReturnType<typeof oneShot>>) => void) => {
  await lab.baseline();
  await lab.fault(fault);
  try { check(await oneShot()); } finally { await lab.repair(fault); }
};

describe("diagnostics in a namespace lab", () => {
  test("healthy network: no code, every probe ok, exit 0", async () => {
    await lab.baseline();
    expect(await w.waitFor(() => w.healthy(), 15000)).not.toBeNull();
    const m = w.mark();
    for (let i = 0; i < 3; i++) { w.visit(); await new Promise((r) => setTimeout(r, 2000)); }
    expect(w.runsSince(m).length).toBeGreaterThan(0);
    expect(w.seenSince(m).flat()).toEqual([]);
    const { code, report } = await oneShot();
    expect(code).toBe(0);
    expect(report.codes).toEqual([]);
    for (const [id, p] of Object.entries(report.probes) as [string, any][]) expect(`${id} ${p.status}`).toBe(`${id} ok`);
  }, 40000);

  test("one-shot report keeps 'not checked' apart from 'failed' (no link)", async () => {
    await oneShotWith("no_link", ({ code, report }) => {
      expect(code).toBe(1);
      expect(report.codes).toEqual(["ERR_IOT_NET_NO_LINK"]);
      expect(report.probes.link.status).toBe("failed");
      expect(report.probes.dns_system.status).toBe("not_checked");
      expect(report.probes.https.status).toBe("not_checked");
    });
  }, 30000);

  for (const s of [...SCENARIOS, ...MATRIX]) {
    test(`${s.fault} (${s.what}) → ${s.code} within 10 s of opening the page, cleared within 10 s of the repair`, async () => {
      const r = await runScenario(lab, w, s);
      expect({ fault: s.fault, shown: r.faultMs !== null, cleared: r.clearMs !== null, foreign: r.foreign, detail: s.detail ? r.detail.includes(s.detail) || r.detail : true })
        .toEqual({ fault: s.fault, shown: true, cleared: true, foreign: [], detail: true });
    }, 60000);
  }

  test("iotbox diagnose (one shot) names what was seen: ICMP admin-prohibited, not ECONNREFUSED", async () => {
    await oneShotWith("https_reject_icmp", ({ code, report }) => {
      expect(code).toBe(1);
      expect(report.codes).toEqual(["ERR_IOT_FIREWALL_HTTPS_REJECTED"]);
      expect(report.probes.https.detail).toBe("connect to 198.18.1.3:443: ICMP administratively prohibited from 10.77.0.1");
    });
  }, 30000);

  test("probe budget with the runtime's schedule: page closed, nothing leaves the box; page open, one run per 30 s", async () => {
    await lab.baseline();
    const d = startWatcher(lab, {});
    try {
      expect(await d.waitFor(() => d.healthy(), 15000)).not.toBeNull();
      const m = d.mark();
      await new Promise((r) => setTimeout(r, 5000));
      expect(d.runsSince(m).length).toBe(0); // page closed: the next light check is 10–12 min away
      // A page polling every 5 s for 40 s: the first run 30 s after the start's, then one per 30 s.
      const t0 = performance.now();
      while (performance.now() - t0 < 40_000) { d.visit(); await new Promise((r) => setTimeout(r, 5000)); }
      await new Promise((r) => setTimeout(r, 1500));
      const at = d.runsSince(0).map((r) => Date.parse(r.at));
      expect(at.length).toBeGreaterThanOrEqual(2);
      expect(at.length).toBeLessThanOrEqual(3);
      for (let i = 1; i < at.length; i++) expect(at[i]! - at[i - 1]!).toBeGreaterThan(29_000);
      expect(d.runsSince(m).every((r) => r.kind === "full")).toBe(true);
    } finally { await d.stop(); }
  }, 90000);
});
