import { describe, expect, test } from "bun:test";
import { analyse, EDE_NAMES, needsPublicResolvers, type ConnectFailure, type DnsLookup, type DnsOutcome, type HttpOutcome, type TcpOutcome } from "../../src/diagnostics/report";
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

  // Every way a resolver refuses a name whose address is in its first label is a block, whatever
  // the outside says (it may be the router itself: DNS forced to it, or the outside unreachable).
  const answer = (rcode: string, addresses: string[] = [], ede?: number, edeText?: string): DnsOutcome =>
    ({ kind: "answer", rcode, addresses, ...(ede !== undefined ? { ede } : {}), ...(edeText ? { edeText } : {}) });
  const localRefuses = (o: DnsOutcome) => lookups.rebound().map((l) => l.name.endsWith(".iot.example") ? { ...l, outcome: o } : l);
  const publicSays = (o: DnsOutcome | ((name: string) => DnsOutcome)) => lookups.publicConfirms().map((l) => ({ ...l, outcome: typeof o === "function" ? o(l.name) : o }));
  const REFUSALS: Array<[string, DnsOutcome]> = [
    ["NXDOMAIN", answer("NXDOMAIN")], ["SERVFAIL", answer("SERVFAIL")], ["REFUSED", answer("REFUSED")], ["NOTIMP", answer("NOTIMP")],
    ["NOERROR, no address", answer("NOERROR")], ["NOERROR 0.0.0.0", answer("NOERROR", ["0.0.0.0"])], ["NOERROR 192.0.2.1", answer("NOERROR", ["192.0.2.1"])],
    ["NOERROR, no address, EDE 15", answer("NOERROR", [], 15)], ["NXDOMAIN, EDE 17 with text", answer("NXDOMAIN", [], 17, "blocked by policy")],
    ["REFUSED, EDE 18", answer("REFUSED", [], 18)], ["0.0.0.0, EDE 16", answer("NOERROR", ["0.0.0.0"], 16)],
  ];
  const OUTSIDE: Array<[string, DnsLookup[] | null]> = [
    ["public confirms", lookups.publicConfirms()],
    ["public unreachable (DNS locked to the router)", publicSays({ kind: "timeout" })],
    ["public port refused", publicSays({ kind: "error", code: "ECONNREFUSED" })],
    ["public not asked", null],
  ];
  for (const [what, local] of REFUSALS) for (const [where, pub] of OUTSIDE) test(`rebinding: router ${what}, ${where} → REBIND_BLOCKED`, () => {
    const r = analyse(PLAN, { ...healthy(), dnsSystem: localRefuses(local), dnsPublic: pub });
    expect(r.codes).toEqual(["ERR_IOT_DNS_REBIND_BLOCKED"]);
    if (local.kind === "answer" && local.ede !== undefined) expect(r.details.ERR_IOT_DNS_REBIND_BLOCKED).toContain(`EDE ${local.ede} ${EDE_NAMES[local.ede]}`);
    if (local.kind === "answer" && local.addresses[0]) expect(r.details.ERR_IOT_DNS_REBIND_BLOCKED).toContain(`${local.addresses[0]} instead of 10.`);
  });
  test("rebinding: a redirected 'public' resolver giving the router's very answer is named as such", () => {
    const r = analyse(PLAN, { ...healthy(), dnsSystem: localRefuses(answer("NOERROR", [], 15)), dnsPublic: publicSays(answer("NOERROR", [], 15)) });
    expect(r.codes).toEqual(["ERR_IOT_DNS_REBIND_BLOCKED"]);
    expect(r.details.ERR_IOT_DNS_REBIND_BLOCKED).toContain("redirected to the router");
  });
  test("rebinding: only the box name refused (the canary fine) is still a block", () => {
    const sys = lookups.healthy().map((l) => l.name.startsWith("10-77") ? { ...l, outcome: answer("REFUSED") } : l);
    expect(codes({ ...healthy(), dnsSystem: sys, dnsPublic: lookups.publicConfirms() })).toEqual(["ERR_IOT_DNS_REBIND_BLOCKED"]);
  });
  test("a name that encodes no address, refused everywhere: failed probe → UNEXPLAINED with what was seen, never healthy", () => {
    const plan = makePlan({ ...TARGETS, boxName: "box.iot.example", canaryName: "" });
    const sys = lookups.healthy().filter((l) => !l.name.endsWith(".iot.example")).concat({ name: "box.iot.example", server: "10.77.0.1", ms: 1, outcome: answer("NXDOMAIN") });
    const r = analyse(plan, { ...healthy(), dnsSystem: sys, dnsPublic: [{ name: "box.iot.example", server: "198.18.1.2", ms: 1, outcome: answer("NXDOMAIN") }] });
    expect(r.probes.dns_rebind.status).toBe("failed");
    expect(r.codes).toEqual(["ERR_IOT_DIAG_UNEXPLAINED"]);
    expect(r.details.ERR_IOT_DIAG_UNEXPLAINED).toContain("dns_rebind: box.iot.example: router 10.77.0.1 NXDOMAIN");
  });

  test("public resolvers are asked only when a name failed locally (probe budget)", () => {
    expect(needsPublicResolvers(PLAN, lookups.healthy())).toBe(false);
    expect(needsPublicResolvers(PLAN, lookups.rebound())).toBe(true);
    expect(needsPublicResolvers(PLAN, lookups.timeouts())).toBe(false); // unreachable already: do not wait longer
    const rewritten = lookups.healthy().map((l) => l.name.startsWith("10-0-0-1") ? { ...l, outcome: { kind: "answer" as const, rcode: "NOERROR", addresses: ["0.0.0.0"] } } : l);
    expect(needsPublicResolvers(PLAN, rewritten)).toBe(true); // an answer, but not the address the name encodes
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

  test("connectivity URL unreachable while 443 works: no known cause → UNEXPLAINED (never healthy)", () => {
    const r = analyse(PLAN, { ...healthy(), captive: { ip: "198.18.1.4", http: { kind: "timeout" }, ms: 1 } });
    expect(r.codes).toEqual(["ERR_IOT_DIAG_UNEXPLAINED"]);
    expect(r.probes.captive.status).toBe("failed");
    expect(r.details.ERR_IOT_DIAG_UNEXPLAINED).toContain("captive: connectivity check http://connectivity.vendor.example/generate_204 (198.18.1.4): no answer (timeout)");
  });

  test("a TLS error no rule knows → UNEXPLAINED with the error", () => {
    const r = analyse(PLAN, { ...healthy(), https: { ip: "198.18.1.3", tcp: { kind: "connected" }, tls: { kind: "error", code: "ERR_SSL_WRONG_VERSION_NUMBER" }, ms: 1 } });
    expect(r.codes).toEqual(["ERR_IOT_DIAG_UNEXPLAINED"]);
    expect(r.details.ERR_IOT_DIAG_UNEXPLAINED).toContain("ERR_SSL_WRONG_VERSION_NUMBER");
  });

  // No way out of the LAN: 443 and 80 fail the same way (names still come from the router's cache).
  const seen = (kind: ConnectFailure["kind"], icmp?: number): ConnectFailure =>
    ({ kind, errno: kind === "reset" ? "ECONNREFUSED" : "ENETUNREACH", ...(icmp !== undefined ? { icmp: { type: 3, code: icmp, name: ICMP[icmp]!, from: "10.77.0.1" } } : {}) });
  const out = (tcp: TcpOutcome, http: HttpOutcome) => ({ ...healthy(), https: { ip: "198.18.1.3", tcp, tls: null, ms: 1 }, captive: { ip: "198.18.1.4", http, ms: 1 } });
  const ICMP: Record<number, string> = { 0: "network unreachable", 1: "host unreachable", 13: "administratively prohibited" };
  test("uplink: both ICMP network unreachable from the router → UPLINK_DOWN, not a firewall code", () => {
    const r = analyse(PLAN, out({ kind: "error", code: "ECONNREFUSED", seen: seen("icmp", 0) }, { kind: "error", code: "ECONNREFUSED", seen: seen("icmp", 0) }));
    expect(r.codes).toEqual(["ERR_IOT_NET_UPLINK_DOWN"]);
    expect(r.details.ERR_IOT_NET_UPLINK_DOWN).toContain("ICMP network unreachable from 10.77.0.1");
  });
  test("uplink: both time out → UPLINK_DOWN; both reset → UPLINK_DOWN", () => {
    expect(codes(out({ kind: "timeout" }, { kind: "timeout" }))).toEqual(["ERR_IOT_NET_UPLINK_DOWN"]);
    expect(codes(out({ kind: "error", code: "ECONNREFUSED", seen: seen("reset") }, { kind: "error", code: "ECONNREFUSED", seen: seen("reset") }))).toEqual(["ERR_IOT_NET_UPLINK_DOWN"]);
  });
  test("uplink down also explains the private names the router cannot fetch any more", () => {
    const o = { ...out({ kind: "timeout" }, { kind: "timeout" }), dnsSystem: lookups.rebound("SERVFAIL"), dnsPublic: publicSays({ kind: "timeout" }) };
    expect(codes(o)).toEqual(["ERR_IOT_NET_UPLINK_DOWN"]);
  });
  test("uplink down, the router's cache empty: it answers REFUSED (EDE 23) for every name and no outside resolver answers → UPLINK_DOWN, not DNS", () => {
    const refused = answer("REFUSED", [], 23);
    const o = { ...healthy(), dnsSystem: lookups.healthy().map((l) => ({ ...l, outcome: refused })), dnsPublic: publicSays({ kind: "error", code: "ENETUNREACH" }), https: null, captive: null };
    const r = analyse(PLAN, o);
    expect(r.codes).toEqual(["ERR_IOT_NET_UPLINK_DOWN"]);
    expect(r.details.ERR_IOT_NET_UPLINK_DOWN).toContain("REFUSED (EDE 23 Network Error)");
    // The same router DNS, but a public resolver answers: the way out exists, the router's DNS is the problem.
    expect(codes({ ...o, dnsPublic: lookups.publicConfirms() })).toEqual(["ERR_IOT_DNS_UNREACHABLE"]);
  });
  test("only 443 fails, port 80 answers: a firewall, and the detail says which ICMP (not ECONNREFUSED)", () => {
    const r = analyse(PLAN, out({ kind: "error", code: "ECONNREFUSED", seen: seen("icmp", 13) }, { kind: "response", status: 204, location: null }));
    expect(r.codes).toEqual(["ERR_IOT_FIREWALL_HTTPS_REJECTED"]);
    expect(r.details.ERR_IOT_FIREWALL_HTTPS_REJECTED).toBe("connect to 198.18.1.3:443: ICMP administratively prohibited from 10.77.0.1");
    expect(r.probes.uplink.status).toBe("ok");
    const reset = analyse(PLAN, out({ kind: "error", code: "ECONNREFUSED", seen: seen("reset") }, { kind: "response", status: 204, location: null }));
    expect(reset.details.ERR_IOT_FIREWALL_HTTPS_REJECTED).toBe("connect to 198.18.1.3:443: reset (RST)");
    const drop = analyse(PLAN, out({ kind: "timeout" }, { kind: "response", status: 204, location: null }));
    expect(drop.details.ERR_IOT_FIREWALL_HTTPS_DROPPED).toBe("connect to 198.18.1.3:443: no answer within 2.5 s (dropped)");
  });
  test("443 and 80 fail differently: not the uplink; the firewall code and the unexplained port-80 failure", () => {
    const r = analyse(PLAN, out({ kind: "timeout" }, { kind: "error", code: "ECONNREFUSED", seen: seen("reset") }));
    expect(r.codes).toEqual(["ERR_IOT_FIREWALL_HTTPS_DROPPED", "ERR_IOT_DIAG_UNEXPLAINED"]);
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
