import { isIP as netIsIP } from "node:net";

/**
 * The plan: which probes to run, computed from the targets alone (pure, no I/O).
 */
export interface DiagnosticsTargets {
  /** "ip" or "ip:port" of resolvers outside the LAN, asked only to confirm a rebinding block. */
  publicResolvers: string[];
  /** The certificate service; its host is resolved and port 443 (or the URL's) is probed with TLS. */
  provisioningUrl: string;
  /** An HTTP URL that answers 204 (captive-portal check). */
  connectivityUrl: string;
  /** A name in the box's zone that points to a private address, e.g. "10-0-0-1.<zone>". */
  canaryName: string;
  /** The box's HTTPS name when known. */
  boxName?: string;
  expectedIp?: string;
}

export interface Endpoint { host: string; port: number }
export interface NameCheck { name: string; expect: string | null; kind: "box" | "canary" | "public" }

export interface Plan {
  privateNames: NameCheck[];      // box name and canary: rebinding check
  publicNames: NameCheck[];       // hosts of the provisioning and connectivity URLs: DNS works at all
  publicResolvers: Endpoint[];
  provisioning: (Endpoint & { servername: string; ipLiteral: boolean }) | null;
  connectivity: (Endpoint & { hostHeader: string; path: string; ipLiteral: boolean; expectStatus: number }) | null;
  timeouts: Timeouts;
  problems: string[];             // targets that could not be understood (reported, never thrown)
}

export interface Timeouts { dnsMs: number; connectMs: number; tlsMs: number; httpMs: number }
export const DEFAULT_TIMEOUTS: Timeouts = { dnsMs: 1500, connectMs: 2500, tlsMs: 2500, httpMs: 2500 };

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;
export const isIPv4 = (s: string) => IPV4.test(s);
const isIP = (s: string) => netIsIP(s) !== 0;

/** "10-0-0-1.zone" → "10.0.0.1" (the vendor zone encodes the address in the first label). */
export function addressInName(name: string): string | null {
  const first = name.split(".")[0] ?? "";
  const ip = first.replace(/-/g, ".");
  return isIPv4(ip) ? ip : null;
}

/** "ip", "ip:port", "v6", "[v6]:port" → endpoint; null when malformed. */
export function parseResolver(s: string): Endpoint | null {
  const t = s.trim();
  const m = /^([0-9.]+)(?::(\d{1,5}))?$/.exec(t) ?? /^\[([0-9a-fA-F:.]+)\](?::(\d{1,5}))?$/.exec(t) ?? /^([0-9a-fA-F:]*:[0-9a-fA-F:.]*)()$/.exec(t);
  if (!m || !isIP(m[1]!)) return null;
  const port = m[2] ? Number(m[2]) : 53;
  return port > 0 && port < 65536 ? { host: m[1]!, port } : null;
}

export function makePlan(t: DiagnosticsTargets, timeouts: Timeouts = DEFAULT_TIMEOUTS): Plan {
  const problems: string[] = [];
  const publicResolvers: Endpoint[] = [];
  for (const r of t.publicResolvers) {
    const e = parseResolver(r);
    if (e) publicResolvers.push(e); else problems.push(`bad public resolver "${r}"`);
  }
  const privateNames: NameCheck[] = [];
  if (t.boxName) privateNames.push({ name: t.boxName.toLowerCase(), expect: t.expectedIp ?? addressInName(t.boxName), kind: "box" });
  if (t.canaryName && t.canaryName.toLowerCase() !== t.boxName?.toLowerCase())
    privateNames.push({ name: t.canaryName.toLowerCase(), expect: addressInName(t.canaryName), kind: "canary" });

  let provisioning: Plan["provisioning"] = null;
  let connectivity: Plan["connectivity"] = null;
  try {
    const u = new URL(t.provisioningUrl);
    if (u.protocol !== "https:") throw new Error("not https");
    provisioning = { host: u.hostname, port: Number(u.port || 443), servername: u.hostname, ipLiteral: isIPv4(u.hostname) };
  } catch { problems.push(`bad provisioning URL "${t.provisioningUrl}"`); }
  try {
    const u = new URL(t.connectivityUrl);
    if (u.protocol !== "http:") throw new Error("not http");
    connectivity = { host: u.hostname, port: Number(u.port || 80), hostHeader: u.host, path: u.pathname + u.search,
      ipLiteral: isIPv4(u.hostname), expectStatus: 204 };
  } catch { problems.push(`bad connectivity URL "${t.connectivityUrl}"`); }

  const publicNames: NameCheck[] = [];
  for (const e of [provisioning, connectivity])
    if (e && !e.ipLiteral && !publicNames.some((n) => n.name === e.host)) publicNames.push({ name: e.host, expect: null, kind: "public" });
  return { privateNames, publicNames, publicResolvers, provisioning, connectivity, timeouts, problems };
}
