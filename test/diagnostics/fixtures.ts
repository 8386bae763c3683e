import type { DnsLookup, Observations } from "../../src/diagnostics/report";
import { makePlan, type DiagnosticsTargets } from "../../src/diagnostics/plan";

export const TARGETS: DiagnosticsTargets = {
  publicResolvers: ["198.18.1.2"], provisioningUrl: "https://provision.vendor.example/",
  connectivityUrl: "http://connectivity.vendor.example/generate_204", canaryName: "10-0-0-1.iot.example", boxName: "10-77-0-100.iot.example",
};
export const PLAN = makePlan(TARGETS);

const ans = (name: string, addresses: string[], rcode = "NOERROR", server = "10.77.0.1"): DnsLookup =>
  ({ name, server, ms: 1, outcome: { kind: "answer", rcode, addresses } });
export const lookups = {
  healthy: (): DnsLookup[] => [ans("10-77-0-100.iot.example", ["10.77.0.100"]), ans("10-0-0-1.iot.example", ["10.0.0.1"]),
    ans("provision.vendor.example", ["198.18.1.3"]), ans("connectivity.vendor.example", ["198.18.1.4"])],
  rebound: (rcode = "NOERROR"): DnsLookup[] => [ans("10-77-0-100.iot.example", [], rcode), ans("10-0-0-1.iot.example", [], rcode),
    ans("provision.vendor.example", ["198.18.1.3"]), ans("connectivity.vendor.example", ["198.18.1.4"])],
  publicConfirms: (): DnsLookup[] => [ans("10-77-0-100.iot.example", ["10.77.0.100"], "NOERROR", "198.18.1.2"), ans("10-0-0-1.iot.example", ["10.0.0.1"], "NOERROR", "198.18.1.2")],
  timeouts: (): DnsLookup[] => PLAN.privateNames.concat(PLAN.publicNames).map((n) => ({ name: n.name, server: "10.77.0.1", ms: 1500, outcome: { kind: "timeout" } })),
};

export function healthy(): Observations {
  return {
    links: [{ name: "eth0", carrier: true, operstate: "up" }],
    addresses: [{ iface: "eth0", address: "10.77.0.100" }],
    gateway: { address: "10.77.0.1", neighbour: "reachable" },
    systemResolvers: ["10.77.0.1"],
    dnsSystem: lookups.healthy(), dnsPublic: null,
    https: { ip: "198.18.1.3", tcp: { kind: "connected" }, tls: { kind: "authorized", issuer: "Vendor CA" }, ms: 5 },
    captive: { ip: "198.18.1.4", http: { kind: "response", status: 204, location: null }, ms: 2 },
    clock: { synced: true, plausible: true },
  };
}
