import { describe, expect, test } from "bun:test";
import { analyse, needsPublicResolvers } from "../../src/diagnostics/report";
import { makePlan } from "../../src/diagnostics/plan";
import { healthy, lookups, PLAN, TARGETS } from "./fixtures";

const codes = (o: ReturnType<typeof healthy>) => analyse(PLAN, o).codes;

describe("analyse (pure: what a probe result means)", () => {
  test("healthy observations: no code, every probe ok", () => {
    const r = analyse(PLAN, healthy());
    expect(r.codes).toEqual([]);
    expect(Object.values(r.probes).every((p) => p.status === "ok")).toBe(true);
  });

  test("no carrier: NO_LINK only, everything after it not checked (not failed)", () => {
    const o = { ...healthy(), links: [{ name: "eth0", carrier: false, operstate: "down" }] };
    const r = analyse(PLAN, o);
    expect(r.codes).toEqual(["ERR_IOT_NET_NO_LINK"]);
    for (const id of ["address", "gateway", "dns_system", "dns_rebind", "https", "tls", "captive"] as const)
      expect(r.probes[id].status).toBe("not_checked");
    expect(r.probes.clock.status).toBe("ok");
  });

  test("no address, no route, failed gateway ARP", () => {
    expect(codes({ ...healthy(), addresses: [] })).toEqual(["ERR_IOT_NET_NO_ADDRESS"]);
    expect(codes({ ...healthy(), gateway: { address: null, neighbour: "unknown" } })).toEqual(["ERR_IOT_NET_NO_GATEWAY"]);
    expect(codes({ ...healthy(), gateway: { address: "10.77.0.1", neighbour: "failed" } })).toEqual(["ERR_IOT_NET_NO_GATEWAY"]);
  });

  test("an address on an interface without carrier does not count", () => {
    const o = { ...healthy(), links: [{ name: "eth0", carrier: false, operstate: "down" }, { name: "wlan0", carrier: true, operstate: "up" }] };
    expect(codes(o)).toEqual(["ERR_IOT_NET_NO_ADDRESS"]);
  });

  test("DNS: timeouts everywhere → UNREACHABLE and the firewall is not checked", () => {
    const o = { ...healthy(), dnsSystem: lookups.timeouts(), https: null, captive: null };
    const r = analyse(PLAN, o);
    expect(r.codes).toEqual(["ERR_IOT_DNS_UNREACHABLE"]);
    expect(r.probes.https.status).toBe("not_checked");
    expect(r.probes.dns_rebind.status).toBe("not_checked");
  });

  test("DNS: nothing to resolve (IP-literal URLs, no canary) → not checked, no code", () => {
    const plan = makePlan({ ...TARGETS, canaryName: "", boxName: undefined, provisioningUrl: "https://198.18.1.3/", connectivityUrl: "http://198.18.1.4/generate_204" });
    const r = analyse(plan, { ...healthy(), dnsSystem: [] });
    expect(r.probes.dns_system.status).toBe("not_checked");
    expect(r.codes).toEqual([]);
  });

  test("DNS: no resolver configured → UNREACHABLE", () => {
    expect(codes({ ...healthy(), systemResolvers: [], dnsSystem: null, https: null, captive: null })).toEqual(["ERR_IOT_DNS_UNREACHABLE"]);
  });

  for (const rcode of ["NOERROR", "NXDOMAIN", "SERVFAIL"]) test(`rebinding: local ${rcode} without address + public confirms → REBIND_BLOCKED`, () => {
    expect(codes({ ...healthy(), dnsSystem: lookups.rebound(rcode), dnsPublic: lookups.publicConfirms() })).toEqual(["ERR_IOT_DNS_REBIND_BLOCKED"]);
  });

  test("rebinding needs the public confirmation: public also empty → failed probe but no code", () => {
    const pub = lookups.publicConfirms().map((l) => ({ ...l, outcome: { kind: "answer" as const, rcode: "NXDOMAIN", addresses: [] } }));
    const r = analyse(PLAN, { ...healthy(), dnsSystem: lookups.rebound(), dnsPublic: pub });
    expect(r.codes).toEqual([]);
    expect(r.probes.dns_rebind.status).toBe("failed");
  });

  test("public resolvers are asked only when a name failed locally (probe budget)", () => {
    expect(needsPublicResolvers(PLAN, lookups.healthy())).toBe(false);
    expect(needsPublicResolvers(PLAN, lookups.rebound())).toBe(true);
    expect(needsPublicResolvers(PLAN, lookups.timeouts())).toBe(false); // unreachable already: do not wait longer
  });

  test("443: timeout → DROPPED; refused, reset, admin-prohibited → REJECTED", () => {
    const with443 = (tcp: any) => ({ ...healthy(), https: { ip: "198.18.1.3", tcp, tls: null, ms: 1 } });
    expect(codes(with443({ kind: "timeout" }))).toEqual(["ERR_IOT_FIREWALL_HTTPS_DROPPED"]);
    for (const code of ["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH"]) expect(codes(with443({ kind: "error", code }))).toEqual(["ERR_IOT_FIREWALL_HTTPS_REJECTED"]);
  });

  test("TLS: unknown issuer → INTERCEPTED; not yet valid → CLOCK; reset in the handshake → REJECTED", () => {
    const withTls = (tls: any) => ({ ...healthy(), https: { ip: "198.18.1.3", tcp: { kind: "connected" as const }, tls, ms: 1 } });
    expect(codes(withTls({ kind: "unauthorized", error: "SELF_SIGNED_CERT_IN_CHAIN", issuer: "Fortinet" }))).toEqual(["ERR_IOT_TLS_INTERCEPTED"]);
    expect(codes(withTls({ kind: "unauthorized", error: "ERR_TLS_CERT_ALTNAME_INVALID", issuer: "X" }))).toEqual(["ERR_IOT_TLS_INTERCEPTED"]);
    expect(codes(withTls({ kind: "unauthorized", error: "CERT_NOT_YET_VALID", issuer: "Vendor CA" }))).toEqual(["ERR_IOT_CLOCK_UNSYNCED"]);
    expect(codes(withTls({ kind: "error", code: "ECONNRESET" }))).toEqual(["ERR_IOT_FIREWALL_HTTPS_REJECTED"]);
  });

  test("captive portal explains a broken HTTPS probe (one root cause)", () => {
    const o = { ...healthy(), captive: { ip: "198.18.1.4", http: { kind: "response" as const, status: 302, location: "http://portal/" }, ms: 1 },
      https: { ip: "198.18.1.3", tcp: { kind: "timeout" as const }, tls: null, ms: 1 } };
    expect(codes(o)).toEqual(["ERR_IOT_CAPTIVE_PORTAL"]);
    expect(codes({ ...healthy(), captive: { ip: "x", http: { kind: "response", status: 200, location: null }, ms: 1 } })).toEqual(["ERR_IOT_CAPTIVE_PORTAL"]);
  });

  test("connectivity URL unreachable is a failed probe without a code", () => {
    const r = analyse(PLAN, { ...healthy(), captive: { ip: "x", http: { kind: "timeout" }, ms: 1 } });
    expect(r.codes).toEqual([]);
    expect(r.probes.captive.status).toBe("failed");
  });

  test("clock: unsynced or before the build → CLOCK; unknown → not checked", () => {
    expect(codes({ ...healthy(), clock: { synced: false, plausible: true } })).toEqual(["ERR_IOT_CLOCK_UNSYNCED"]);
    expect(codes({ ...healthy(), clock: { synced: true, plausible: false } })).toEqual(["ERR_IOT_CLOCK_UNSYNCED"]);
    expect(analyse(PLAN, { ...healthy(), clock: { synced: null, plausible: true } }).probes.clock.status).toBe("not_checked");
  });

  test("independent causes are both reported, most basic first", () => {
    expect(codes({ ...healthy(), addresses: [], clock: { synced: false, plausible: true } })).toEqual(["ERR_IOT_NET_NO_ADDRESS", "ERR_IOT_CLOCK_UNSYNCED"]);
  });
});
