/**
 * A simulated clock and a simulated network for the diagnostics daemon: a day passes in well
 * under a second, and every probe the daemon sends is counted. Used by the daemon's tests and by
 * bench/diagnostics.ts (the per-day budget and the page-closed times).
 */
import type { Timers } from "../../src/diagnostics/daemon";
import type { ProbeIO } from "../../src/diagnostics/probes";
import type { DnsOutcome } from "../../src/diagnostics/report";

export function simClock(start = Date.parse("2026-12-01T00:00:00Z")) {
  let t = start, seq = 0;
  const queue = new Map<number, { at: number; fn: () => void }>();
  const timers: Timers = {
    setTimeout(fn, ms) { const id = ++seq; queue.set(id, { at: t + Math.max(0, ms), fn }); return id; },
    clearTimeout(h) { queue.delete(h as number); },
  };
  const flush = async () => { for (let i = 0; i < 20; i++) await Promise.resolve(); };
  return {
    now: () => t, timers,
    /** Let simulated time pass, firing each timer at its moment and letting the promises it starts settle. */
    async advance(ms: number) {
      const end = t + ms;
      for (;;) {
        await flush();
        let next: [number, { at: number; fn: () => void }] | null = null;
        for (const e of queue) if (e[1].at <= end && (!next || e[1].at < next[1].at)) next = e;
        if (!next) break;
        queue.delete(next[0]);
        t = next[1].at;
        next[1].fn();
      }
      t = end;
      await flush();
    },
    sleep(ms: number) { return new Promise<void>((r) => timers.setTimeout(r, ms)); },
  };
}

export type SimFault = null | "no_link" | "https_drop" | "rebind" | "uplink_down";

/** The lab's network, simulated: names, the service, the connectivity check; probes take simulated time. */
export function simNetwork(clock: ReturnType<typeof simClock>) {
  const count = { dnsQueries: 0, tlsHandshakes: 0, tcpConnections: 0, connectivityChecks: 0, runs: 0 };
  const state = { fault: null as SimFault };
  const A: Record<string, string> = {
    "10-77-0-100.iot.example": "10.77.0.100", "10-0-0-1.iot.example": "10.0.0.1",
    "provision.vendor.example": "198.18.1.3", "connectivity.vendor.example": "198.18.1.4",
  };
  const io: ProbeIO = {
    links: () => [{ name: "eth0", carrier: state.fault !== "no_link", operstate: state.fault === "no_link" ? "down" : "up" }],
    addresses: () => [{ iface: "eth0", address: "10.77.0.100" }],
    gateway: () => ({ address: "10.77.0.1", neighbour: "reachable" }),
    systemResolvers: () => ["10.77.0.1"],
    // the run reads the clock once: a run counter that the daemon's own reads of the local facts do not bump
    clock: async () => { count.runs++; return { synced: true, plausible: true }; },
    async dns(server, name): Promise<DnsOutcome> {
      count.dnsQueries++;
      await clock.sleep(3);
      const pub = server.host !== "10.77.0.1";
      if (state.fault === "uplink_down" && pub) { await clock.sleep(1500); return { kind: "timeout" }; }
      if (state.fault === "rebind" && !pub && name.endsWith(".iot.example")) return { kind: "answer", rcode: "NOERROR", addresses: [], ede: 15 };
      return A[name] ? { kind: "answer", rcode: "NOERROR", addresses: [A[name]!] } : { kind: "answer", rcode: "NXDOMAIN", addresses: [] };
    },
    async https(_ip, _port, _sn, connectMs) {
      count.tcpConnections++;
      if (state.fault === "https_drop" || state.fault === "uplink_down") { await clock.sleep(connectMs); return { tcp: { kind: "timeout" }, tls: null }; }
      count.tlsHandshakes++;
      await clock.sleep(40);
      return { tcp: { kind: "connected" }, tls: { kind: "authorized", issuer: "Vendor CA" } };
    },
    async http(_ip, _port, _h, _p, timeoutMs) {
      count.tcpConnections++; count.connectivityChecks++;
      if (state.fault === "uplink_down") { await clock.sleep(timeoutMs); return { kind: "timeout" }; }
      await clock.sleep(20);
      return { kind: "response", status: 204, location: null };
    },
  };
  return { io, count, state };
}
