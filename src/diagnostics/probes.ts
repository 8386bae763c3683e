/**
 * The real I/O of a diagnosis, each function under its own timeout. The run receives them as
 * a `ProbeIO` so tests and other hosts can replace any of them; nothing here runs at import.
 */
import dgram from "node:dgram";
import net from "node:net";
import tls from "node:tls";
import { networkInterfaces } from "node:os";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as dnsPacket from "dns-packet";
import type { Endpoint } from "./plan";
import type { ConnectFailure, DnsOutcome, HttpOutcome, Observations, TcpOutcome, TlsOutcome } from "./report";

export interface ProbeIO {
  links(): Observations["links"];
  addresses(): Observations["addresses"];
  gateway(): Observations["gateway"];
  systemResolvers(): string[];
  dns(server: Endpoint, name: string, timeoutMs: number): Promise<DnsOutcome>;
  https(ip: string, port: number, servername: string, connectMs: number, tlsMs: number): Promise<{ tcp: TcpOutcome; tls: TlsOutcome | null }>;
  http(ip: string, port: number, hostHeader: string, path: string, timeoutMs: number): Promise<HttpOutcome>;
  clock(): Promise<Observations["clock"]>;
}

export interface HostIOOptions {
  sysClassNet?: string;          // /sys/class/net
  procNet?: string;              // /proc/net (per network namespace)
  /** Resolver files, first existing wins: systemd-resolved's upstream list, then /etc/resolv.conf. */
  resolvConf?: string[];
  /** Extra trusted CA (PEM) for the certificate service; default: the runtime's roots. */
  ca?: string;
  /** File that exists once NTP has synchronised the clock (systemd-timesyncd). */
  clockSyncFile?: string;
  /** Injected clock-sync reader; overrides clockSyncFile. */
  clockSynced?: () => Promise<boolean | null>;
  /** The clock is implausible before this instant (the firmware's build time). */
  notBefore?: Date;
  now?: () => Date;
  /** Interfaces that are not an uplink right now, e.g. wlan0 while it serves the set-up access point. */
  ignoreInterfaces?: () => string[];
  /** After a failed connect, what really happened (reset, which ICMP, timeout); default: connect-detail.ts. */
  explainConnect?: (ip: string, port: number, timeoutMs: number) => Promise<ConnectFailure | null>;
}

/** Interfaces that are never the box's uplink. */
const NOT_UPLINK = /^(lo|docker\d*|br-.*|virbr.*|veth.*|tailscale.*|wg.*|tun.*|tap.*|p2p-.*|dummy.*)$/;

export function hostIO(o: HostIOOptions = {}): ProbeIO {
  const sysNet = o.sysClassNet ?? "/sys/class/net";
  const procNet = o.procNet ?? "/proc/net";
  const read = (p: string) => { try { return readFileSync(p, "utf8").trim(); } catch { return ""; } };
  // Bun's node:net says ECONNREFUSED for a reset and for every ICMP unreachable alike.
  const explain = o.explainConnect ?? (async (ip: string, port: number, ms: number) => (await import("./connect-detail")).explainConnect(ip, port, ms));
  return {
    links() {
      let names: string[] = [];
      const ignored = o.ignoreInterfaces?.() ?? [];
      try { names = readdirSync(sysNet).filter((n) => !NOT_UPLINK.test(n) && !ignored.includes(n)); } catch {}
      return names.map((name) => {
        const operstate = read(join(sysNet, name, "operstate")) || "unknown";
        // carrier is unreadable (EINVAL) while the interface is administratively down.
        return { name, carrier: read(join(sysNet, name, "carrier")) === "1", operstate };
      });
    },
    addresses() {
      const out: Observations["addresses"] = [];
      for (const [iface, list] of Object.entries(networkInterfaces()))
        for (const a of list ?? [])
          if (a.family === "IPv4" && !a.internal && !a.address.startsWith("169.254.")) out.push({ iface, address: a.address });
      return out;
    },
    gateway() {
      let address: string | null = null;
      for (const line of read(join(procNet, "route")).split("\n").slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f[1] === "00000000" && f[7] === "00000000" && (parseInt(f[3] ?? "0", 16) & 0x3) === 0x3) { address = hexToIp(f[2]!); break; }
      }
      let neighbour: Observations["gateway"]["neighbour"] = "unknown";
      if (address) for (const line of read(join(procNet, "arp")).split("\n").slice(1)) {
        const f = line.trim().split(/\s+/);
        if (f[0] === address) neighbour = (parseInt(f[2] ?? "0", 16) & 0x2) ? "reachable" : "failed";
      }
      return { address, neighbour };
    },
    systemResolvers() {
      for (const path of o.resolvConf ?? ["/run/systemd/resolve/resolv.conf", "/etc/resolv.conf"]) {
        if (!existsSync(path)) continue;
        // IPv4 and IPv6 (a link-local one keeps its %scope, which the socket understands)
        return read(path).split("\n").map((l) => /^\s*nameserver\s+([0-9.]+|[0-9a-fA-F:]+(?:%[\w.-]+)?)\s*$/.exec(l)?.[1]).filter((x): x is string => !!x);
      }
      return [];
    },
    dns: dnsQuery,
    async https(ip, port, servername, connectMs, tlsMs) {
      const r = await httpsProbe(ip, port, servername, connectMs, tlsMs, o.ca);
      if (r.tcp.kind === "error") { const seen = await explain(ip, port, connectMs); if (seen) r.tcp = { ...r.tcp, seen }; }
      return r;
    },
    async http(ip, port, hostHeader, path, timeoutMs) {
      const r = await httpProbe(ip, port, hostHeader, path, timeoutMs);
      if (r.kind === "error" && r.code !== "EPROTO" && r.code !== "ECLOSED") { const seen = await explain(ip, port, timeoutMs); if (seen) return { ...r, seen }; }
      return r;
    },
    async clock() {
      const now = (o.now ?? (() => new Date()))();
      const plausible = now.getTime() >= (o.notBefore ?? FIRMWARE_EPOCH).getTime();
      let synced: boolean | null = null;
      if (o.clockSynced) synced = await o.clockSynced().catch(() => null);
      else synced = existsSync(o.clockSyncFile ?? "/run/systemd/timesync/synchronized");
      return { synced, plausible };
    },
  };
}

/** Before this the clock is certainly wrong (a Pi without RTC boots at 1970 or at a saved time). */
export const FIRMWARE_EPOCH = new Date("2025-06-01T00:00:00Z");

const hexToIp = (h: string) => [6, 4, 2, 0].map((i) => parseInt(h.slice(i, i + 2), 16)).join(".");

/** One A query over UDP, re-sent once at a third of the timeout; keeps NXDOMAIN, empty and SERVFAIL apart. */
export function dnsQuery(server: Endpoint, name: string, timeoutMs: number): Promise<DnsOutcome> {
  return new Promise((resolve) => {
    const id = Math.floor(Math.random() * 65536);
    const query = dnsPacket.encode({
      type: "query", id, flags: dnsPacket.RECURSION_DESIRED,
      questions: [{ type: "A", name }],
      additionals: [{ type: "OPT", name: ".", udpPayloadSize: 1232 } as any],
    });
    const sock = dgram.createSocket(server.host.includes(":") ? "udp6" : "udp4");
    let done = false, resend: ReturnType<typeof setTimeout> | undefined;
    const finish = (r: DnsOutcome) => {
      if (done) return;
      done = true; clearTimeout(timer); clearTimeout(resend);
      try { sock.close(); } catch {}
      resolve(r);
    };
    const timer = setTimeout(() => finish({ kind: "timeout" }), timeoutMs);
    sock.on("error", (e: NodeJS.ErrnoException) => finish({ kind: "error", code: e.code ?? "EIO" }));
    sock.on("message", (msg) => {
      let p: any;
      try { p = dnsPacket.decode(msg); } catch { return; }
      if (p.id !== id) return;
      const addresses = (p.answers ?? []).filter((a: any) => a.type === "A").map((a: any) => String(a.data));
      const opt = (p.additionals ?? []).find((a: any) => a.type === "OPT");
      // EDNS option 15: Extended DNS Error, a 16-bit info code and optional UTF-8 text (RFC 8914).
      const edeOpt = opt?.options?.find((x: any) => x.code === 15);
      const ede = edeOpt?.data && edeOpt.data.length >= 2 ? edeOpt.data.readUInt16BE(0) : undefined;
      const edeText = ede !== undefined && edeOpt.data.length > 2 ? edeOpt.data.subarray(2).toString("utf8").replace(/[\u0000-\u001f]/g, "") : "";
      finish(ede === undefined ? { kind: "answer", rcode: p.rcode, addresses } : { kind: "answer", rcode: p.rcode, addresses, ede, ...(edeText ? { edeText } : {}) });
    });
    // A connected socket reports ICMP port-unreachable as ECONNREFUSED.
    sock.connect(server.port, server.host, () => {
      const send = () => { if (!done) sock.send(query, (err) => { if (err) finish({ kind: "error", code: (err as NodeJS.ErrnoException).code ?? "EIO" }); }); };
      send();
      resend = setTimeout(send, Math.floor(timeoutMs / 3));
    });
  });
}

/** TCP connect, then a TLS handshake on the same connection (one connection per probe). */
export function httpsProbe(ip: string, port: number, servername: string, connectMs: number, tlsMs: number, ca?: string):
  Promise<{ tcp: TcpOutcome; tls: TlsOutcome | null }> {
  return new Promise((resolve) => {
    let done = false;
    const sock = net.connect({ host: ip, port });
    let secure: tls.TLSSocket | null = null;
    const finish = (r: { tcp: TcpOutcome; tls: TlsOutcome | null }) => {
      if (done) return;
      done = true; clearTimeout(timer);
      secure?.destroy(); sock.destroy();
      resolve(r);
    };
    let timer = setTimeout(() => finish({ tcp: { kind: "timeout" }, tls: null }), connectMs);
    sock.once("error", (e: NodeJS.ErrnoException) => finish({ tcp: { kind: "error", code: e.code ?? "EIO" }, tls: null }));
    sock.once("connect", () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish({ tcp: { kind: "connected" }, tls: { kind: "timeout" } }), tlsMs);
      sock.removeAllListeners("error");
      sock.on("error", () => {});
      secure = tls.connect({ socket: sock, servername, rejectUnauthorized: false, ...(ca ? { ca } : {}) });
      secure.once("error", (e: NodeJS.ErrnoException) => finish({ tcp: { kind: "connected" }, tls: { kind: "error", code: e.code ?? "EIO" } }));
      secure.once("secureConnect", () => {
        const s = secure!;
        const cert = s.getPeerCertificate();
        const issuer = String((cert?.issuer ? (cert.issuer.CN || cert.issuer.O) : "") || "?");
        let error = s.authorizationError ? String((s.authorizationError as any).code ?? s.authorizationError) : "";
        if (!error) {
          const mismatch = tls.checkServerIdentity(servername, cert as any);
          if (mismatch) error = "ERR_TLS_CERT_ALTNAME_INVALID";
        }
        finish({ tcp: { kind: "connected" }, tls: s.authorized && !error ? { kind: "authorized", issuer } : { kind: "unauthorized", error: error || "UNAUTHORIZED", issuer } });
      });
    });
  });
}

/** A plain HTTP/1.1 GET to an address with the Host header, no redirect following. */
export function httpProbe(ip: string, port: number, hostHeader: string, path: string, timeoutMs: number): Promise<HttpOutcome> {
  return new Promise((resolve) => {
    let done = false, buf = "";
    const sock = net.connect({ host: ip, port });
    const finish = (r: HttpOutcome) => { if (done) return; done = true; clearTimeout(timer); sock.destroy(); resolve(r); };
    const timer = setTimeout(() => finish({ kind: "timeout" }), timeoutMs);
    sock.on("error", (e: NodeJS.ErrnoException) => finish({ kind: "error", code: e.code ?? "EIO" }));
    sock.on("connect", () => sock.write(`GET ${path} HTTP/1.1\r\nHost: ${hostHeader}\r\nUser-Agent: iotbox-diagnostics\r\nConnection: close\r\n\r\n`));
    const parse = () => {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return false;
      const lines = buf.slice(0, end).split("\r\n");
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "")?.[1] ?? NaN);
      if (!Number.isFinite(status)) { finish({ kind: "error", code: "EPROTO" }); return true; }
      const loc = lines.find((l) => /^location:/i.test(l));
      finish({ kind: "response", status, location: loc ? loc.slice(9).trim() : null });
      return true;
    };
    sock.on("data", (d) => { buf += d.toString("latin1"); if (buf.length > 65536) finish({ kind: "error", code: "EPROTO" }); else parse(); });
    sock.on("end", () => { if (!parse()) finish({ kind: "error", code: "ECLOSED" }); }); // connected, closed without an answer
  });
}
