// A test double of the DNSimple API v2 (the few endpoints the provisioner uses, with the real
// JSON shapes and error bodies) over HTTPS on loopback, plus a DNS server (UDP and TCP) that
// answers the zone's records, so that Pebble validates DNS-01 for real with `-dnsserver`.
// Faults (401/404/429/5xx, slow answers) can be injected to test the service's handling.
import { createSocket, type Socket } from "node:dgram";
import { createServer, type Server } from "node:net";
import * as dnsPacket from "dns-packet";
import { createTestCA, type TestCA } from "./ca";
import { freePort } from "./ports";

export interface ZoneRecord {
  id: number;
  zone_id: string;
  parent_id: number | null;
  name: string;
  content: string;
  ttl: number;
  priority: number | null;
  type: string;
  regions: string[];
  system_record: boolean;
  created_at: string;
  updated_at: string;
}

export interface Fault {
  /** HTTP status to answer with (401, 404, 429, 500, 502, 503…). */
  status: number;
  /** How many requests it applies to (default: every request until clearFaults()). */
  times?: number;
  /** Only requests with this method (GET, POST, PATCH, DELETE). */
  method?: string;
  /** Only requests whose path contains this string. */
  pathIncludes?: string;
  /** Answer with a non-JSON body (as a proxy in front of the API might). */
  html?: boolean;
}

export interface DnsimpleDouble {
  baseUrl: string;
  token: string;
  accountId: number;
  zone: string;
  /** "127.0.0.1:PORT" of the DNS server (UDP and TCP) for the zone. */
  dnsAddress: string;
  /** The test CA file that trusts the HTTPS listener (NODE_EXTRA_CA_CERTS). */
  caFile: string;
  /** A copy of the zone's records now. */
  records(): ZoneRecord[];
  /** Every API request seen: "METHOD /path?query status". */
  requests(): string[];
  injectFault(f: Fault): void;
  clearFaults(): void;
  stop(): Promise<void>;
}

export interface DnsimpleDoubleOptions {
  zone: string;
  token?: string;
  accountId?: number;
  /** Reuse a test CA for the HTTPS listener (its certFile is then caFile). */
  ca?: TestCA;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json; charset=utf-8", ...headers } });

const FAULT_BODY: Record<number, unknown> = {
  401: { message: "Authentication failed" },
  404: { message: "Zone `unknown` not found" },
  429: { message: "Your request rate limit has been exceeded" },
};

export async function startDnsimpleDouble(opts: DnsimpleDoubleOptions): Promise<DnsimpleDouble> {
  const zone = opts.zone.toLowerCase().replace(/\.$/, "");
  const token = opts.token ?? `dnsimple-test-${crypto.randomUUID()}`;
  const accountId = opts.accountId ?? 1385;
  const ownCa = !opts.ca;
  const ca = opts.ca ?? createTestCA({ name: "iotbox dnsimple double CA" });
  const leaf = ca.issue(["localhost"], ["127.0.0.1"]);
  const records = new Map<number, ZoneRecord>();
  const log: string[] = [];
  let faults: Array<Fault & { left: number }> = [];
  let nextId = 1;

  const takeFault = (method: string, path: string): Fault | null => {
    for (const f of faults) {
      if (f.method && f.method !== method) continue;
      if (f.pathIncludes && !path.includes(f.pathIncludes)) continue;
      if (f.left <= 0) continue;
      f.left--;
      return f;
    }
    return null;
  };

  const handle = async (req: Request): Promise<Response> => {
    const url = new URL(req.url);
    const path = url.pathname;
    const fault = takeFault(req.method, path);
    if (fault) {
      if (fault.html) return new Response("<html><body>Bad gateway</body></html>", { status: fault.status, headers: { "content-type": "text/html" } });
      const headers: Record<string, string> = fault.status === 429
        ? { "x-ratelimit-limit": "2400", "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 60) } : {};
      return json(fault.status, FAULT_BODY[fault.status] ?? { message: "Internal server error" }, headers);
    }
    if (req.headers.get("authorization") !== `Bearer ${token}`) return json(401, { message: "Authentication failed" });
    if (req.method === "GET" && path === "/v2/whoami") {
      return json(200, { data: { user: null, account: { id: accountId, email: "ops@iotbox.test", plan_identifier: "teams-v1-monthly", created_at: "2024-01-01T00:00:00Z", updated_at: "2024-01-01T00:00:00Z" } } });
    }
    const m = path.match(/^\/v2\/([^/]+)\/zones\/([^/]+)\/records(?:\/([^/]+))?$/);
    if (!m) return json(404, { message: "Not found" });
    const [, acct, zoneName, idPart] = m;
    if (acct !== String(accountId)) return json(404, { message: `Account \`${acct}\` not found` });
    if (decodeURIComponent(zoneName!).toLowerCase() !== zone) return json(404, { message: `Zone \`${zoneName}\` not found` });
    if (idPart === undefined) {
      if (req.method === "GET") {
        const name = url.searchParams.get("name");
        const type = url.searchParams.get("type");
        const perPage = Math.min(100, Number(url.searchParams.get("per_page") ?? 30) || 30);
        const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
        const all = [...records.values()].filter((r) => (name === null || r.name === name) && (type === null || r.type === type));
        const data = all.slice((page - 1) * perPage, page * perPage);
        return json(200, { data, pagination: { current_page: page, per_page: perPage, total_entries: all.length, total_pages: Math.max(1, Math.ceil(all.length / perPage)) } });
      }
      if (req.method === "POST") {
        let body: Record<string, unknown>;
        try { body = await req.json() as Record<string, unknown>; } catch { return json(400, { message: "Invalid JSON" }); }
        const errors: Record<string, string[]> = {};
        const type = typeof body.type === "string" ? body.type : "";
        const content = typeof body.content === "string" ? body.content : "";
        const name = typeof body.name === "string" ? body.name : "";
        if (!["A", "AAAA", "TXT", "CNAME", "CAA"].includes(type)) errors.type = ["is not included in the list"];
        if (!content) errors.content = ["can't be blank"];
        if (type === "A" && !/^\d{1,3}(\.\d{1,3}){3}$/.test(content)) errors.content = ["is not a valid IPv4 address"];
        if (!/^[a-z0-9_*.-]*$/i.test(name)) errors.name = ["is invalid"];
        if (Object.keys(errors).length) return json(400, { message: "Validation failed", errors });
        const now = new Date().toISOString();
        const rec: ZoneRecord = { id: nextId++, zone_id: zone, parent_id: null, name: name.toLowerCase(), content, ttl: Number(body.ttl) || 3600,
          priority: null, type, regions: ["global"], system_record: false, created_at: now, updated_at: now };
        records.set(rec.id, rec);
        return json(201, { data: rec });
      }
      return json(405, { message: "Method not allowed" });
    }
    const id = Number(idPart);
    const rec = records.get(id);
    if (!rec) return json(404, { message: `Record \`${idPart}\` not found` });
    if (req.method === "GET") return json(200, { data: rec });
    if (req.method === "DELETE") { records.delete(id); return new Response(null, { status: 204 }); }
    if (req.method === "PATCH") {
      let body: Record<string, unknown>;
      try { body = await req.json() as Record<string, unknown>; } catch { return json(400, { message: "Invalid JSON" }); }
      if (typeof body.content === "string") rec.content = body.content;
      if (typeof body.ttl === "number") rec.ttl = body.ttl;
      if (typeof body.name === "string") rec.name = body.name.toLowerCase();
      rec.updated_at = new Date().toISOString();
      return json(200, { data: rec });
    }
    return json(405, { message: "Method not allowed" });
  };

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: leaf.certPem, key: leaf.keyPem },
    async fetch(req) {
      const res = await handle(req);
      const u = new URL(req.url);
      log.push(`${req.method} ${u.pathname}${u.search} ${res.status}`);
      return res;
    },
  });

  // DNS: answer A/TXT from the records; NOERROR with no answer for other names/types (CAA lookups).
  const answer = (query: Buffer): Buffer => {
    let q: dnsPacket.Packet;
    try { q = dnsPacket.decode(query); } catch { return Buffer.alloc(0); }
    const answers: dnsPacket.Answer[] = [];
    for (const question of q.questions ?? []) {
      const qname = question.name.toLowerCase().replace(/\.$/, "");
      if (qname !== zone && !qname.endsWith(`.${zone}`)) continue;
      const rel = qname === zone ? "" : qname.slice(0, -(zone.length + 1));
      for (const r of records.values()) {
        if (r.name !== rel || (question.type !== r.type && (question.type as string) !== "ANY")) continue;
        if (r.type === "A") answers.push({ type: "A", name: question.name, ttl: r.ttl, class: "IN", data: r.content });
        if (r.type === "TXT") answers.push({ type: "TXT", name: question.name, ttl: r.ttl, class: "IN", data: r.content.replace(/^"|"$/g, "") });
      }
    }
    return dnsPacket.encode({ id: q.id, type: "response", flags: dnsPacket.AUTHORITATIVE_ANSWER | (q.flags ?? 0) & dnsPacket.RECURSION_DESIRED,
      questions: q.questions, answers });
  };

  let udp: Socket | null = null;
  let tcp: Server | null = null;
  let dnsPort = 0;
  for (let attempt = 0; attempt < 10 && !udp; attempt++) {
    const port = await freePort();
    const t = createServer((sock) => {
      let buf: Buffer = Buffer.alloc(0);
      sock.on("data", (d: Buffer) => {
        buf = Buffer.concat([buf, d]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          const len = buf.readUInt16BE(0);
          const out = answer(buf.subarray(2, 2 + len));
          buf = buf.subarray(2 + len);
          if (out.length) { const hdr = Buffer.alloc(2); hdr.writeUInt16BE(out.length); sock.write(Buffer.concat([hdr, out])); }
        }
      });
      sock.on("error", () => {});
    });
    const tcpOk = await new Promise<boolean>((res) => { t.once("error", () => res(false)); t.listen(port, "127.0.0.1", () => res(true)); });
    if (!tcpOk) continue;
    const u = createSocket("udp4");
    const udpOk = await new Promise<boolean>((res) => { u.once("error", () => res(false)); u.bind(port, "127.0.0.1", () => res(true)); });
    if (!udpOk) { t.close(); u.close(); continue; }
    u.on("message", (msg, rinfo) => { const out = answer(msg); if (out.length) u.send(out, rinfo.port, rinfo.address); });
    udp = u; tcp = t; dnsPort = port;
  }
  if (!udp || !tcp) { server.stop(true); throw new Error("dnsimple double: no free port for DNS (UDP+TCP)"); }

  return {
    baseUrl: `https://127.0.0.1:${server.port}`,
    token,
    accountId,
    zone,
    dnsAddress: `127.0.0.1:${dnsPort}`,
    caFile: ca.certFile,
    records: () => [...records.values()].map((r) => ({ ...r })),
    requests: () => log.slice(),
    injectFault: (f) => { faults.push({ ...f, left: f.times ?? Number.POSITIVE_INFINITY }); },
    clearFaults: () => { faults = []; },
    async stop() {
      server.stop(true);
      await new Promise<void>((res) => udp!.close(() => res()));
      await new Promise<void>((res) => tcp!.close(() => res()));
      if (ownCa) ca.cleanup();
    },
  };
}
