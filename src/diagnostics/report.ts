/**
 * The report: raw observations of one run turned into plain data, probe by probe, and the
 * codes they mean. Pure: `analyse` decides "what does this probe result mean?" without I/O.
 * A probe that could not be run because an earlier one failed is "not_checked", never "failed".
 */
import type { Code } from "./codes";
import type { Plan } from "./plan";

export type DnsOutcome =
  | { kind: "answer"; rcode: string; addresses: string[]; ede?: number }
  | { kind: "timeout" }
  | { kind: "error"; code: string };
export interface DnsLookup { name: string; server: string; outcome: DnsOutcome; ms: number }

export type TcpOutcome = { kind: "connected" } | { kind: "timeout" } | { kind: "error"; code: string };
export type TlsOutcome =
  | { kind: "authorized"; issuer: string }
  | { kind: "unauthorized"; error: string; issuer: string }
  | { kind: "timeout" }
  | { kind: "error"; code: string };
export type HttpOutcome =
  | { kind: "response"; status: number; location: string | null }
  | { kind: "timeout" }
  | { kind: "error"; code: string };

export interface Observations {
  links: Array<{ name: string; carrier: boolean; operstate: string }>;
  addresses: Array<{ iface: string; address: string }>;
  gateway: { address: string | null; neighbour: "reachable" | "failed" | "unknown" };
  systemResolvers: string[];
  dnsSystem: DnsLookup[] | null;
  dnsPublic: DnsLookup[] | null;
  https: { ip: string; tcp: TcpOutcome; tls: TlsOutcome | null; ms: number } | null;
  captive: { ip: string; http: HttpOutcome; ms: number } | null;
  clock: { synced: boolean | null; plausible: boolean };
}

export type ProbeId = "link" | "address" | "gateway" | "dns_system" | "dns_rebind" | "https" | "tls" | "captive" | "clock";
export const PROBE_IDS: ProbeId[] = ["link", "address", "gateway", "dns_system", "dns_rebind", "https", "tls", "captive", "clock"];
export interface ProbeResult { status: "ok" | "failed" | "not_checked"; detail: string; code?: Code }

export interface Report {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  probes: Record<ProbeId, ProbeResult>;
  /** Root causes found by this run, most basic first; empty = healthy. */
  codes: Code[];
  /** Datagrams and connections this run opened (the probe budget). */
  sent: { dnsQueries: number; tcpConnections: number };
  problems: string[];
  observations: Observations;
}

const ok = (detail: string): ProbeResult => ({ status: "ok", detail });
const failed = (detail: string, code?: Code): ProbeResult => (code ? { status: "failed", detail, code } : { status: "failed", detail });
const skipped = (why: string): ProbeResult => ({ status: "not_checked", detail: why });

/** The local resolver's answer looks like a rebinding block: empty, NXDOMAIN or SERVFAIL. */
export function looksBlocked(o: DnsOutcome): boolean {
  return o.kind === "answer" && (o.rcode === "NXDOMAIN" || o.rcode === "SERVFAIL" || (o.rcode === "NOERROR" && o.addresses.length === 0));
}
export const resolved = (o: DnsOutcome): o is { kind: "answer"; rcode: string; addresses: string[] } =>
  o.kind === "answer" && o.rcode === "NOERROR" && o.addresses.length > 0;
export const outcomeText = (o: DnsOutcome | TcpOutcome | TlsOutcome | HttpOutcome): string => {
  switch (o.kind) {
    case "answer": return o.addresses.length ? `${o.rcode} ${o.addresses.join(",")}` : `${o.rcode} (no address${o.ede !== undefined ? `, EDE ${o.ede}` : ""})`;
    case "timeout": return "timeout";
    case "error": return o.code;
    case "connected": return "connected";
    case "authorized": return `trusted certificate from ${o.issuer}`;
    case "unauthorized": return `${o.error} (issuer ${o.issuer})`;
    case "response": return `HTTP ${o.status}${o.location ? ` → ${o.location}` : ""}`;
  }
};

/** Certificate errors that mean "someone else's certificate" (interception). */
const UNKNOWN_ISSUER = new Set([
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY", "UNABLE_TO_GET_ISSUER_CERT", "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT", "UNABLE_TO_VERIFY_LEAF_SIGNATURE", "CERT_UNTRUSTED", "ERR_TLS_CERT_ALTNAME_INVALID",
  "HOSTNAME_MISMATCH", "CERT_SIGNATURE_FAILURE",
]);
const REFUSED = new Set(["ECONNREFUSED", "ECONNRESET", "EHOSTUNREACH", "ENETUNREACH", "EACCES", "EPERM", "EPIPE"]);

/** Which address the run should use for a host: the system resolver's, else a public one's. */
export function addressFor(host: string, ipLiteral: boolean, sys: DnsLookup[] | null, pub: DnsLookup[] | null): string | null {
  if (ipLiteral) return host;
  for (const l of [...(sys ?? []), ...(pub ?? [])]) if (l.name === host && resolved(l.outcome)) return l.outcome.addresses[0]!;
  return null;
}

/**
 * Does the run need the public resolvers? Only when the local resolver answers but a name
 * failed (cheap when healthy). When it answers nothing the verdict is already "unreachable",
 * and waiting for public resolvers would only delay it.
 */
export function needsPublicResolvers(plan: Plan, sys: DnsLookup[]): boolean {
  if (!sys.some((l) => l.outcome.kind === "answer")) return false;
  const privateBad = plan.privateNames.some((n) => sys.filter((l) => l.name === n.name).every((l) => !resolved(l.outcome)));
  const publicBad = plan.publicNames.some((n) => sys.filter((l) => l.name === n.name).every((l) => !resolved(l.outcome)));
  return plan.publicResolvers.length > 0 && (privateBad || publicBad);
}

export function analyse(plan: Plan, o: Observations): { probes: Record<ProbeId, ProbeResult>; codes: Code[] } {
  const p = {} as Record<ProbeId, ProbeResult>;
  const up = o.links.filter((l) => l.carrier);
  p.link = up.length ? ok(`link up on ${up.map((l) => l.name).join(", ")}`)
    : failed(o.links.length ? `no carrier on ${o.links.map((l) => `${l.name} (${l.operstate})`).join(", ")}` : "no network interface", "ERR_IOT_NET_NO_LINK");
  const addrs = o.addresses.filter((a) => up.some((l) => l.name === a.iface));
  p.address = p.link.status !== "ok" ? skipped("no link")
    : addrs.length ? ok(addrs.map((a) => `${a.iface} ${a.address}`).join(", ")) : failed("no IPv4 address on a linked interface", "ERR_IOT_NET_NO_ADDRESS");
  p.gateway = p.address.status !== "ok" ? skipped("no address")
    : !o.gateway.address ? failed("no default route", "ERR_IOT_NET_NO_GATEWAY")
    : o.gateway.neighbour === "failed" ? failed(`gateway ${o.gateway.address} does not answer (ARP failed)`, "ERR_IOT_NET_NO_GATEWAY")
    : ok(`default route via ${o.gateway.address}`);
  const netOk = p.gateway.status === "ok";

  // DNS works at all: some name that must resolve does resolve through the system resolver.
  const sys = o.dnsSystem ?? [];
  if (!netOk) p.dns_system = skipped("no network");
  else if (!plan.privateNames.length && !plan.publicNames.length) p.dns_system = skipped("no name to resolve");
  else if (!o.systemResolvers.length) p.dns_system = failed("no DNS server configured", "ERR_IOT_DNS_UNREACHABLE");
  else if (!o.dnsSystem) p.dns_system = skipped("not run");
  else {
    const mustResolve = plan.publicNames.length ? sys.filter((l) => plan.publicNames.some((n) => n.name === l.name)) : sys;
    const good = plan.publicNames.length ? mustResolve.filter((l) => resolved(l.outcome)) : mustResolve.filter((l) => l.outcome.kind === "answer");
    const summary = mustResolve.map((l) => `${l.name}@${l.server}: ${outcomeText(l.outcome)}`).join("; ");
    p.dns_system = good.length ? ok(summary) : failed(summary || "no answer", "ERR_IOT_DNS_UNREACHABLE");
  }

  // Rebinding: a private name is empty/NXDOMAIN/SERVFAIL locally while a public resolver returns its address.
  if (p.dns_system.status !== "ok") p.dns_rebind = skipped(p.dns_system.status === "failed" ? "DNS does not work" : p.dns_system.detail);
  else if (!plan.privateNames.length) p.dns_rebind = skipped("no private name to check");
  else {
    const parts: string[] = [];
    let blocked = false, unconfirmed = false;
    for (const n of plan.privateNames) {
      const local = sys.filter((l) => l.name === n.name);
      if (local.some((l) => resolved(l.outcome))) { parts.push(`${n.name}: ${outcomeText(local.find((l) => resolved(l.outcome))!.outcome)}`); continue; }
      const pub = (o.dnsPublic ?? []).filter((l) => l.name === n.name);
      const confirmed = pub.find((l) => resolved(l.outcome) && (n.expect === null || l.outcome.addresses.includes(n.expect)));
      const localText = local.map((l) => outcomeText(l.outcome)).join(", ") || "not asked";
      if (confirmed && local.some((l) => looksBlocked(l.outcome))) {
        blocked = true;
        parts.push(`${n.name}: local ${localText}, public ${confirmed.server} ${outcomeText(confirmed.outcome)}`);
      } else { unconfirmed = true; parts.push(`${n.name}: local ${localText}, public ${pub.map((l) => outcomeText(l.outcome)).join(", ") || "not asked"}`); }
    }
    p.dns_rebind = blocked ? failed(parts.join("; "), "ERR_IOT_DNS_REBIND_BLOCKED") : unconfirmed ? failed(parts.join("; ")) : ok(parts.join("; "));
  }

  // HTTPS to the certificate service: TCP, then TLS.
  if (!plan.provisioning) { p.https = skipped("no provisioning URL"); p.tls = skipped("no provisioning URL"); }
  else if (!netOk) { p.https = skipped("no network"); p.tls = skipped("no network"); }
  else if (!o.https) { p.https = skipped(`${plan.provisioning.host} did not resolve`); p.tls = skipped("no TCP connection"); }
  else {
    const where = `${o.https.ip}:${plan.provisioning.port}`;
    const t = o.https.tcp;
    p.https = t.kind === "connected" ? ok(`connected to ${where}`)
      : t.kind === "timeout" ? failed(`connect to ${where} timed out`, "ERR_IOT_FIREWALL_HTTPS_DROPPED")
      : REFUSED.has(t.code) ? failed(`connect to ${where}: ${t.code}`, "ERR_IOT_FIREWALL_HTTPS_REJECTED")
      : failed(`connect to ${where}: ${t.code}`);
    const s = o.https.tls;
    if (p.https.status !== "ok" || !s) p.tls = skipped("no TCP connection");
    else if (s.kind === "authorized") p.tls = ok(outcomeText(s));
    else if (s.kind === "unauthorized" && UNKNOWN_ISSUER.has(s.error)) p.tls = failed(outcomeText(s), "ERR_IOT_TLS_INTERCEPTED");
    else if (s.kind === "unauthorized" && s.error === "CERT_NOT_YET_VALID") p.tls = failed(outcomeText(s), "ERR_IOT_CLOCK_UNSYNCED");
    else if (s.kind === "timeout") p.tls = failed("TLS handshake timed out", "ERR_IOT_FIREWALL_HTTPS_DROPPED");
    else if (s.kind === "error" && REFUSED.has(s.code)) p.tls = failed(`TLS handshake: ${s.code}`, "ERR_IOT_FIREWALL_HTTPS_REJECTED");
    else p.tls = failed(outcomeText(s));
  }

  // Captive portal: the connectivity URL must answer exactly its status, not a redirect or a page.
  if (!plan.connectivity) p.captive = skipped("no connectivity URL");
  else if (!netOk) p.captive = skipped("no network");
  else if (!o.captive) p.captive = skipped(`${plan.connectivity.host} did not resolve`);
  else {
    const h = o.captive.http;
    p.captive = h.kind === "response" && h.status === plan.connectivity.expectStatus ? ok(outcomeText(h))
      : h.kind === "response" ? failed(outcomeText(h), "ERR_IOT_CAPTIVE_PORTAL")
      : failed(`connectivity check: ${outcomeText(h)}`);
  }

  p.clock = o.clock.synced === false ? failed("the system clock is not synchronised (NTP)", "ERR_IOT_CLOCK_UNSYNCED")
    : !o.clock.plausible ? failed("the system clock is before the firmware was built", "ERR_IOT_CLOCK_UNSYNCED")
    : o.clock.synced === null ? skipped("synchronisation state unknown") : ok("synchronised");

  // Root causes: a captive portal explains broken HTTPS; a wrong clock explains certificate errors.
  let codes = PROBE_IDS.map((id) => p[id].code).filter((c): c is Code => !!c);
  if (codes.includes("ERR_IOT_CAPTIVE_PORTAL"))
    codes = codes.filter((c) => !["ERR_IOT_FIREWALL_HTTPS_DROPPED", "ERR_IOT_FIREWALL_HTTPS_REJECTED", "ERR_IOT_TLS_INTERCEPTED"].includes(c));
  return { probes: p, codes: [...new Set(codes)] };
}
