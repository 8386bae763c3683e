/**
 * End to end in network namespaces (root): every fault yields exactly its code within 10 s and
 * clears within 10 s of the repair; the healthy network yields none. Real dnsmasq, unbound, nft,
 * DHCP, TLS and HTTP servers; every target points into the lab.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createLab, BUN, ROOT, type Lab } from "./lab";
import { runScenario, SCENARIOS, startWatcher, type Watcher } from "./scenarios";

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

describe("diagnostics in a namespace lab", () => {
  test("healthy network: no code, every probe ok, exit 0", async () => {
    await lab.baseline();
    expect(await w.waitFor(() => w.healthy(), 15000)).not.toBeNull();
    const m = w.mark();
    await new Promise((r) => setTimeout(r, 6000));
    expect(w.seenSince(m).flat()).toEqual([]);
    const { code, report } = await oneShot();
    expect(code).toBe(0);
    expect(report.codes).toEqual([]);
    for (const [id, p] of Object.entries(report.probes) as [string, any][]) expect(`${id} ${p.status}`).toBe(`${id} ok`);
  }, 40000);

  test("one-shot report keeps 'not checked' apart from 'failed' (no link)", async () => {
    await lab.baseline();
    await lab.fault("no_link");
    try {
      const { code, report } = await oneShot();
      expect(code).toBe(1);
      expect(report.codes).toEqual(["ERR_IOT_NET_NO_LINK"]);
      expect(report.probes.link.status).toBe("failed");
      expect(report.probes.dns_system.status).toBe("not_checked");
      expect(report.probes.https.status).toBe("not_checked");
    } finally { await lab.repair("no_link"); }
  }, 30000);

  for (const s of SCENARIOS) {
    test(`${s.fault} (${s.what}) → ${s.code} within 10 s, cleared within 10 s of the repair`, async () => {
      const r = await runScenario(lab, w, s);
      expect({ fault: s.fault, shown: r.faultMs !== null, cleared: r.clearMs !== null, foreign: r.foreign })
        .toEqual({ fault: s.fault, shown: true, cleared: true, foreign: [] });
    }, 60000);
  }
});
