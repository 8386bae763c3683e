/**
 * createDiagnostics with injected I/O (a ProbeIO whose answers the test changes) and an injected
 * network watcher: scheduling, hold times, re-run on network change, onChange, stop.
 */
import { describe, expect, test } from "bun:test";
import { createDiagnostics } from "../../src/diagnostics/daemon";
import type { ProbeIO } from "../../src/diagnostics/probes";
import type { DnsOutcome } from "../../src/diagnostics/report";
import { silentLogger } from "../../src/log/index";
import { TARGETS } from "./fixtures";

function fakeIO() {
  const state = { carrier: true, https: "connected" as "connected" | "timeout", calls: 0 };
  const io: ProbeIO = {
    links: () => { state.calls++; return [{ name: "eth0", carrier: state.carrier, operstate: state.carrier ? "up" : "down" }]; },
    addresses: () => [{ iface: "eth0", address: "10.77.0.100" }],
    gateway: () => ({ address: "10.77.0.1", neighbour: "reachable" }),
    systemResolvers: () => ["10.77.0.1"],
    dns: async (_s, name): Promise<DnsOutcome> => ({ kind: "answer", rcode: "NOERROR", addresses: [name.startsWith("10-0-0-1") ? "10.0.0.1" : name.startsWith("10-77") ? "10.77.0.100" : "198.18.1.3"] }),
    https: async () => state.https === "connected"
      ? { tcp: { kind: "connected" }, tls: { kind: "authorized", issuer: "CA" } }
      : { tcp: { kind: "timeout" }, tls: null },
    http: async () => ({ kind: "response", status: 204, location: null }),
    clock: async () => ({ synced: true, plausible: true }),
  };
  return { io, state };
}

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("createDiagnostics", () => {
  test("nothing runs before start(); runNow works without start", async () => {
    const { io, state } = fakeIO();
    const d = createDiagnostics({ targets: () => TARGETS, logger: silentLogger(), io, watcher: () => () => {} });
    await wait(50);
    expect(state.calls).toBe(0);
    expect(d.current()).toEqual({ active: [], report: null });
    const r = await d.runNow();
    expect(r.codes).toEqual([]);
    expect(r.sent).toEqual({ dnsQueries: 4, tcpConnections: 2 });
  });

  test("start(delay) at power-on: no run until the delay, but the address's arrival (a network event) runs at once", async () => {
    const { io, state } = fakeIO();
    let netEvent: (why: string) => void = () => {};
    const d = createDiagnostics({
      targets: () => TARGETS, logger: silentLogger(), io,
      watcher: (cb) => { netEvent = cb; return () => {}; },
      schedule: { healthyMs: 60000, activeMs: 100, pendingMs: 100, debounceMs: 10 },
    });
    d.start(60_000);
    await wait(80);
    expect(state.calls).toBe(0);
    netEvent("address added");
    await wait(80);
    expect(state.calls).toBe(1);
    d.stop();
  });

  test("a fault is shown after its hold, with its LED; repair clears it; network events re-run at once", async () => {
    const { io, state } = fakeIO();
    let netEvent: (why: string) => void = () => {};
    let watching = false;
    const d = createDiagnostics({
      targets: () => TARGETS, logger: silentLogger(), io,
      watcher: (cb) => { netEvent = cb; watching = true; return () => { watching = false; }; },
      schedule: { healthyMs: 60000, activeMs: 100, pendingMs: 100, debounceMs: 10 },
    });
    let changes = 0;
    d.onChange(() => changes++);
    d.start();
    expect(watching).toBe(true);
    await wait(50);
    const first = state.calls;
    expect(first).toBe(1);
    state.carrier = false;
    netEvent("link down"); // healthy period is a minute: only the event can trigger the run
    await wait(100);
    expect(state.calls).toBeGreaterThan(first);
    expect(d.current().active).toEqual([]); // seen, still holding (1.5 s)
    await wait(1800);
    const a = d.current().active;
    expect(a.map((x) => [x.code, x.led, x.severity])).toEqual([["ERR_IOT_NET_NO_LINK", "net", "error"]]);
    expect(changes).toBe(1);
    state.carrier = true;
    await wait(300); // active → re-run every 100 ms
    expect(d.current().active).toEqual([]);
    expect(changes).toBe(2);
    d.stop();
    expect(watching).toBe(false);
    const calls = state.calls;
    await wait(300);
    expect(state.calls).toBe(calls);
  });

  test("concurrent runNow calls share one run", async () => {
    const { io, state } = fakeIO();
    const d = createDiagnostics({ targets: () => TARGETS, logger: silentLogger(), io, watcher: () => () => {} });
    const [a, b] = await Promise.all([d.runNow(), d.runNow()]);
    expect(a).toBe(b);
    expect(state.calls).toBe(1);
  });
});
