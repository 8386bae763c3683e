/**
 * The report: raw observations of one run turned into plain data, probe by probe, and the
 * codes they mean. Pure: `analyse` decides "what does this probe result mean?" without I/O.
 * A probe that could not be run because an earlier one failed is "not_checked", never "failed";
 * a probe that failed with no known cause raises ERR_IOT_DIAG_UNEXPLAINED, never "all fine".
 */
import type { Code } from "./codes";
import type { NameCheck, Plan } from "./plan";

/** `ede`/`edeText`: the Extended DNS Error (RFC 8914) the resolver attached, if any. */
export type DnsOutcome =
  | { kind: "answer"; rcode: string; addresses: string[]; ede?: number; edeText?: string }
  | { kind: "timeout" }
  | { kind: "error"; code: string };
/** `cached`: reused from an earlier run (a light run asks one name, see run.ts), not asked now. */
export interface DnsLookup { name: string; server: string; outcome: DnsOutcome; ms: number; cached?: boolean }

/** What a second, libc-level connect saw after a failure (connect-detail.ts). */
export interface ConnectFailure {
  kind: "reset" | "icmp" | "timeout" | "connected" | "error";
  errno?: string;
  icmp?: { type: number; code: number; name: string; from: string };
}
export type TcpOutcome = { kind: "connected" } | { kind: "timeout" } | { kind: "error"; code: string; seen?: ConnectFailure };
export type TlsOutcome =
  | { kind: "authorized"; issuer: string }
  | { kind: "unauthorized"; error: string; issuer: string }
  | { kind: "timeout" }
  | { kind: "error"; code: string };
export type HttpOutcome =
  | { kind: "response"; status: number; location: string | null }
  | { kind: "timeout" }
  | { kind: "error"; code: string; seen?: ConnectFailure };

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

export type ProbeId = "link" | "address" | "gateway" | "uplink" | "dns_system" | "dns_rebind" | "https" | "tls" | "captive" | "clock";
/** In the order a technician reads them (most basic first); `uplink` is decided last, from https and captive. */
export const PROBE_IDS: ProbeId[] = ["link", "address", "gateway", "uplink", "dns_system", "dns_rebind", "https", "tls", "captive", "clock"];
export interface ProbeResult { status: "ok" | "failed" | "not_checked"; detail: string; code?: Code }

export interface Report {
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  probes: Record<ProbeId, ProbeResult>;
  /** Root causes found by this run, most basic first; empty = healthy. */
  codes: Code[];
  /** For each code, what was seen (the detail of the probe(s) that raised it). */
  details: Partial<Record<Code, string>>;
  /** "full": every name asked; "light": the periodic check (one name asked, the rest from the last run). */
  kind: "full" | "light";
  /** Datagrams and connections this run opened (the probe budget). */
  sent: { dnsQueries: number; tcpConnections: number };
  problems: string[];
  observations: Observations;
}

const ok = (detail: string): ProbeResult => ({ status: "ok", detail });
const failed = (detail: string, code?: Code): ProbeResult => (code ? { status: "failed", detail, code } : { status: "failed", detail });
const skipped = (why: string): ProbeResult => ({ status: "not_checked", detail: why });


/** RFC 8914 names of the Extended DNS Errors resolvers and filters attach. */
export const EDE_NAMES: Record<number, string> = {
  0: "Other", 1: "Unsupported DNSKEY Algorithm", 2: "Unsupported DS Digest Type", 3: "Stale Answer", 4: "Forged Answer",
  5: "DNSSEC Indeterminate", 6: "DNSSEC Bogus", 7: "Signature Expired", 8: "Signature Not Yet Valid", 9: "DNSKEY Missing",
  10: "RRSIGs Missing", 11: "No Zone Key Bit Set", 12: "NSEC Missing", 13: "Cached Error", 14: "Not Ready", 15: "Blocked",
  16: "Censored", 17: "Filtered", 18: "Prohibited", 19: "Stale NXDOMAIN Answer", 20: "Not Authoritative", 21: "Not Supported",
  22: "No Reachable Authority", 23: "Network Error", 24: "Invalid Data",
};
const edePart = (o: { ede?: number; edeText?: string }) =>
  o.ede === undefined ? "" : `EDE ${o.ede} ${EDE_NAMES[o.ede] ?? "(unassigned)"}${o.edeText ? ` "${o.edeText.slice(0, 80)}"` : ""}`;

export const resolved = (o: DnsOutcome): o is { kind: "answer"; rcode: string; addresses: string[] } =>
  o.kind === "answer" && o.rcode === "NOERROR" && o.addresses.length > 0;

/** What a libc-level second connect saw, in words: "reset (RST)", "ICMP administratively prohibited from 10.77.0.1". */
export function seenText(f: ConnectFailure): string {
  switch (f.kind) {
    case "reset": return "reset (RST)";
    case "icmp": return f.icmp ? `ICMP ${f.icmp.name} from ${f.icmp.from}` : `ICMP unreachable (${f.errno})`;
    case "timeout": return "refused at first, then no answer (timeout)";
    case "connected": return "refused once, connected on a second try";
    case "error": return f.errno ?? "error";
  }
}

export const outcomeText = (o: DnsOutcome | TcpOutcome | TlsOutcome | HttpOutcome): string => {
  switch (o.kind) {
    case "answer": {
      const ede = edePart(o);
      if (o.addresses.length) return `${o.rcode} ${o.addresses.join(",")}${ede ? ` (${ede})` : ""}`;
      return o.rcode === "NOERROR" ? `NOERROR (no address${ede ? `, ${ede}` : ""})` : `${o.rcode}${ede ? ` (${ede})` : ""}`;
    }
    case "timeout": return "no answer (timeout)";
    case "error": return "seen" in o && o.seen ? seenText(o.seen) : o.code;
    case "connected": return "connected";
    case "authorized": return `trusted certificate from ${o.issuer}`;
    case "unauthorized": return `${o.error} (issuer ${o.issuer})`;
    case "response": return `HTTP ${o.status}${o.location ? ` → ${o.location}` : ""}`;
  }
};

/**
 * How a resolver's answer refuses a private name, or null when it gives the address the name
 * stands for. Every way counts: NXDOMAIN, SERVFAIL, REFUSED or any other rcode, NOERROR without
 * an address, and an address other than the one the name encodes (a filter's 0.0.0.0).
 */
export function refusal(n: NameCheck, o: DnsOutcome): string | null {
  if (o.kind !== "answer") return outcomeText(o);
  if (o.rcode !== "NOERROR" || !o.addresses.length) return outcomeText(o);
  if (n.expect && !o.addresses.includes(n.expect)) { const ede = edePart(o); return `${o.rcode} ${o.addresses.join(",")} instead of ${n.expect}${ede ? ` (${ede})` : ""}`; }
  return null;
}
const sameAnswer = (a: DnsOutcome, b: DnsOutcome) => a.kind === "answer" && b.kind === "answer" && a.rcode === b.rcode &&
  a.addresses.join(",") === b.addresses.join(",") && a.ede === b.ede;

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

/** The private names the local resolver did not answer with their own address. */
export function refusedLocally(plan: Plan, sys: DnsLookup[]): NameCheck[] {
  return plan.privateNames.filter((n) => { const l = sys.filter((x) => x.name === n.name); return !l.length || l.every((x) => refusal(n, x.outcome) !== null); });
}

/**
 * Does the run need the public resolvers? Only when the local resolver answers but a name
 * failed (cheap when healthy). When it answers nothing the verdict is already "unreachable",
 * and waiting for public resolvers would only delay it.
 */
export function needsPublicResolvers(plan: Plan, sys: DnsLookup[]): boolean {
  if (!sys.some((l) => l.outcome.kind === "answer")) return false;
  const publicBad = plan.publicNames.some((n) => sys.filter((l) => l.name === n.name).every((l) => !resolved(l.outcome)));
  return plan.publicResolvers.length > 0 && (refusedLocally(plan, sys).length > 0 || publicBad);
}

/** How a connection out failed, as a class ("timeout", "reset", "icmp 0"), or null when it got through. */
function outFailure(o: TcpOutcome | HttpOutcome): string | null {
  if (o.kind === "connected" || o.kind === "response") return null;
  if (o.kind === "timeout") return "timeout";
  const s = o.seen;
  if (!s) return o.code;
  return s.kind === "icmp" ? `icmp ${s.icmp?.code ?? s.errno}` : s.kind === "connected" ? null : s.kind === "error" ? s.errno ?? "error" : s.kind;
}

/** A failed probe without a code of its own is explained when one of these codes was found too. */
const EXPLAINED_BY: Partial<Record<ProbeId, Code[]>> = {
  dns_rebind: ["ERR_IOT_NET_UPLINK_DOWN"],
  https: ["ERR_IOT_NET_UPLINK_DOWN", "ERR_IOT_CAPTIVE_PORTAL"],
  tls: ["ERR_IOT_NET_UPLINK_DOWN", "ERR_IOT_CAPTIVE_PORTAL", "ERR_IOT_CLOCK_UNSYNCED"],
  captive: ["ERR_IOT_NET_UPLINK_DOWN"],
};
/** A root cause that explains (and so hides) the codes that follow from it. */
const HIDES: Partial<Record<Code, Code[]>> = {
  ERR_IOT_NET_UPLINK_DOWN: ["ERR_IOT_DNS_UNREACHABLE", "ERR_IOT_DNS_REBIND_BLOCKED", "ERR_IOT_FIREWALL_HTTPS_DROPPED", "ERR_IOT_FIREWALL_HTTPS_REJECTED", "ERR_IOT_TLS_INTERCEPTED", "ERR_IOT_CAPTIVE_PORTAL"],
  ERR_IOT_CAPTIVE_PORTAL: ["ERR_IOT_FIREWALL_HTTPS_DROPPED", "ERR_IOT_FIREWALL_HTTPS_REJECTED", "ERR_IOT_TLS_INTERCEPTED"],
};

function rebindProbe(plan: Plan, o: Observations, sys: DnsLookup[]): ProbeResult {
  const parts: string[] = [];
  let blocked = false, unconfirmed = false;
  for (const n of plan.privateNames) {
    const local = sys.filter((l) => l.name === n.name);
    const good = local.find((l) => refusal(n, l.outcome) === null);
    if (good) { parts.push(`${n.name}: ${outcomeText(good.outcome)}`); continue; }
    const localText = local.map((l) => `${l.server} ${refusal(n, l.outcome)}`).join(", ") || "not asked";
    const pub = (o.dnsPublic ?? []).filter((l) => l.name === n.name);
    const confirmed = pub.find((l) => resolved(l.outcome) && (n.expect === null || l.outcome.addresses.includes(n.expect)));
    if (confirmed) { blocked = true; parts.push(`${n.name}: router ${localText}; public ${confirmed.server} ${outcomeText(confirmed.outcome)}`); continue; }
    // No outside resolver confirms: the name still encodes its address (or the box knows its own),
    // so any other answer is a block, whoever answered. Say why the outside could not confirm.
    const why = !pub.length ? "public resolvers not asked"
      : pub.every((l) => l.outcome.kind !== "answer") ? `public resolvers unreachable (${pub.map((l) => `${l.server} ${outcomeText(l.outcome)}`).join(", ")}): DNS is locked to the router`
      : pub.some((l) => local.some((x) => sameAnswer(x.outcome, l.outcome))) ? `public resolver ${pub.map((l) => l.server).join(", ")} gives the router's very answer: DNS to outside resolvers is redirected to the router`
      : `public ${pub.map((l) => `${l.server} ${outcomeText(l.outcome)}`).join(", ")}`;
    if (n.expect !== null) { blocked = true; parts.push(`${n.name}: router ${localText}; ${why}`); }
    else { unconfirmed = true; parts.push(`${n.name}: router ${localText}; ${why}`); }
  }
  const detail = parts.join("; ");
  return blocked ? failed(detail, "ERR_IOT_DNS_REBIND_BLOCKED") : unconfirmed ? failed(detail) : ok(detail);
}

export function analyse(plan: Plan, o: Observations): { probes: Record<ProbeId, ProbeResult>; codes: Code[]; details: Partial<Record<Code, string>> } {
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
    const summary = mustResolve.map((l) => `${l.name}@${l.server}: ${outcomeText(l.outcome)}${l.cached ? " (last run)" : ""}`).join("; ");
    p.dns_system = good.length ? ok(summary) : failed(summary || "no answer", "ERR_IOT_DNS_UNREACHABLE");
  }

  if (p.dns_system.status !== "ok") p.dns_rebind = skipped(p.dns_system.status === "failed" ? "DNS does not work" : p.dns_system.detail);
  else if (!plan.privateNames.length) p.dns_rebind = skipped("no private name to check");
  else p.dns_rebind = rebindProbe(plan, o, sys);

  // HTTPS to the certificate service: TCP, then TLS.
  if (!plan.provisioning) { p.https = skipped("no provisioning URL"); p.tls = skipped("no provisioning URL"); }
  else if (!netOk) { p.https = skipped("no network"); p.tls = skipped("no network"); }
  else if (!o.https) { p.https = skipped(`${plan.provisioning.host} did not resolve`); p.tls = skipped("no TCP connection"); }
  else {
    const where = `${o.https.ip}:${plan.provisioning.port}`;
    const t = o.https.tcp;
    const seen = t.kind === "error" ? t.seen : undefined;
    p.https = t.kind === "connected" ? ok(`connected to ${where}`)
      : t.kind === "timeout" ? failed(`connect to ${where}: no answer within ${plan.timeouts.connectMs / 1000} s (dropped)`, "ERR_IOT_FIREWALL_HTTPS_DROPPED")
      : seen?.kind === "connected" ? failed(`connect to ${where}: ${seenText(seen)}`)
      : seen && seen.kind !== "error" ? failed(`connect to ${where}: ${seenText(seen)}`, "ERR_IOT_FIREWALL_HTTPS_REJECTED")
      : REFUSED.has(seen?.errno ?? t.code) ? failed(`connect to ${where}: ${seen?.errno ?? t.code}`, "ERR_IOT_FIREWALL_HTTPS_REJECTED")
      : failed(`connect to ${where}: ${seen?.errno ?? t.code}`);
    const s = o.https.tls;
    if (p.https.status !== "ok" || !s) p.tls = skipped("no TCP connection");
    else if (s.kind === "authorized") p.tls = ok(outcomeText(s));
    else if (s.kind === "unauthorized" && UNKNOWN_ISSUER.has(s.error)) p.tls = failed(outcomeText(s), "ERR_IOT_TLS_INTERCEPTED");
    else if (s.kind === "unauthorized" && s.error === "CERT_NOT_YET_VALID") p.tls = failed(outcomeText(s), "ERR_IOT_CLOCK_UNSYNCED");
    else if (s.kind === "timeout") p.tls = failed("TLS handshake: no answer (timeout)", "ERR_IOT_FIREWALL_HTTPS_DROPPED");
    else if (s.kind === "error" && REFUSED.has(s.code)) p.tls = failed(`TLS handshake: ${s.code === "ECONNRESET" ? "reset (RST) during the handshake" : s.code}`, "ERR_IOT_FIREWALL_HTTPS_REJECTED");
    else p.tls = failed(`TLS handshake: ${outcomeText(s)}`);
  }

  // Captive portal: the connectivity URL must answer exactly its status, not a redirect or a page.
  if (!plan.connectivity) p.captive = skipped("no connectivity URL");
  else if (!netOk) p.captive = skipped("no network");
  else if (!o.captive) p.captive = skipped(`${plan.connectivity.host} did not resolve`);
  else {
    const h = o.captive.http;
    const where = `http://${plan.connectivity.hostHeader}${plan.connectivity.path} (${o.captive.ip})`;
    p.captive = h.kind === "response" && h.status === plan.connectivity.expectStatus ? ok(outcomeText(h))
      : h.kind === "response" ? failed(outcomeText(h), "ERR_IOT_CAPTIVE_PORTAL")
      : failed(`connectivity check ${where}: ${outcomeText(h)}`);
  }

  // No way out of the LAN: every connection out (443, 80, the public resolvers) fails alike; or
  // the router's DNS answers with an error for every outside name (dnsmasq: REFUSED, EDE 23
  // "Network Error") while no resolver outside answers the box either.
  const pubNames = sys.filter((l) => plan.publicNames.some((n) => n.name === l.name));
  const routerCannotResolve = p.dns_system.status === "failed" && pubNames.length > 0 && pubNames.every((l) => l.outcome.kind === "answer" && !resolved(l.outcome));
  const outsideSilent = (o.dnsPublic ?? []).length > 0 && o.dnsPublic!.every((l) => l.outcome.kind !== "answer");
  if (!netOk) p.uplink = skipped("no network");
  else if (routerCannotResolve && outsideSilent)
    p.uplink = failed(`the router's DNS cannot resolve any outside name (${[...new Set(pubNames.map((l) => outcomeText(l.outcome)))].join(", ")}) and no resolver outside answers (${o.dnsPublic!.map((l) => `${l.server} ${outcomeText(l.outcome)}`).filter((x, i, a) => a.indexOf(x) === i).join(", ")})`, "ERR_IOT_NET_UPLINK_DOWN");
  else if (!o.https && !o.captive) p.uplink = skipped("nothing outside was tried");
  else {
    const tries = [o.https && { what: `${o.https.ip}:${plan.provisioning?.port ?? 443}`, cls: outFailure(o.https.tcp), text: outcomeText(o.https.tcp) },
      o.captive && { what: `${o.captive.ip}:${plan.connectivity?.port ?? 80}`, cls: outFailure(o.captive.http), text: outcomeText(o.captive.http) }]
      .filter((x): x is { what: string; cls: string | null; text: string } => !!x);
    const out = tries.find((x) => x.cls === null) ?? (o.dnsPublic ?? []).find((l) => resolved(l.outcome) && !sys.some((x) => sameAnswer(x.outcome, l.outcome)));
    const text = tries.map((x) => `${x.what} ${x.text}`).join(", ");
    p.uplink = out ? ok("what" in out ? `reached ${out.what}` : `public resolver ${out.server} answered`)
      : tries.length < 2 ? skipped(`only one way out tried: ${text}`)
      : tries.every((x) => x.cls === tries[0]!.cls) ? failed(`every connection out fails alike: ${text}`, "ERR_IOT_NET_UPLINK_DOWN")
      : ok(`connections out fail differently (${text}): a filter, not the uplink`);
  }

  p.clock = o.clock.synced === false ? failed("the system clock is not synchronised (NTP)", "ERR_IOT_CLOCK_UNSYNCED")
    : !o.clock.plausible ? failed("the system clock is before the firmware was built", "ERR_IOT_CLOCK_UNSYNCED")
    : o.clock.synced === null ? skipped("synchronisation state unknown") : ok("synchronised");

  // Root causes, most basic first; a cause hides what follows from it.
  let codes = [...new Set(PROBE_IDS.map((id) => p[id].code).filter((c): c is Code => !!c))];
  for (const c of [...codes]) for (const h of HIDES[c] ?? []) codes = codes.filter((x) => x !== h);
  const details: Partial<Record<Code, string>> = {};
  for (const id of PROBE_IDS) { const c = p[id].code; if (c && codes.includes(c)) details[c] = details[c] ? `${details[c]}; ${p[id].detail}` : p[id].detail; }
  // A failed probe that no code found explains never reads as healthy.
  const unexplained = PROBE_IDS.filter((id) => p[id].status === "failed" && !(p[id].code && codes.includes(p[id].code!)) &&
    !(p[id].code && codes.some((c) => HIDES[c]?.includes(p[id].code!))) && !(EXPLAINED_BY[id] ?? []).some((c) => codes.includes(c)));
  if (unexplained.length) {
    codes.push("ERR_IOT_DIAG_UNEXPLAINED");
    details.ERR_IOT_DIAG_UNEXPLAINED = unexplained.map((id) => `${id}: ${p[id].detail}`).join("; ");
  }
  return { probes: p, codes, details };
}
