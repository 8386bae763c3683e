/**
 * Small servers for the lab, run inside a namespace with `ip netns exec NS bun services.ts JSON`:
 *  - auth:  an authoritative DNS (test double of the vendor's zone, real DNS wire format):
 *           "a-b-c-d.<zone>" → a.b.c.d, fixed host names → addresses, anything else NXDOMAIN.
 *  - https: a TLS server (the provisioning service, or the intercepting proxy with its own CA).
 *  - http:  the connectivity check (204) or a captive portal (302 to a login page).
 * Prints "ready" once everything listens.
 */
import dgram from "node:dgram";
import { readFileSync } from "node:fs";
import * as dnsPacket from "dns-packet";

interface Config {
  auth?: { address: string; zone: string; hosts: Record<string, string>; ttl: number };
  https?: Array<{ address: string; port: number; certFile: string; keyFile: string; body: string }>;
  http?: Array<{ address: string; port: number; mode: "connectivity" | "portal" }>;
}
const cfg: Config = JSON.parse(process.argv[2] ?? "{}");

if (cfg.auth) {
  const { zone, hosts, ttl } = cfg.auth;
  const sock = dgram.createSocket("udp4");
  sock.on("message", (msg, rinfo) => {
    let q: any;
    try { q = dnsPacket.decode(msg); } catch { return; }
    const question = q.questions?.[0];
    if (!question) return;
    const name = String(question.name).toLowerCase().replace(/\.$/, "");
    let ip: string | null = hosts[name] ?? null;
    let known = ip !== null;
    if (!ip && (name === zone || name.endsWith("." + zone))) {
      known = true;
      const label = name.slice(0, name.length - zone.length - 1);
      const m = /^(\d{1,3})-(\d{1,3})-(\d{1,3})-(\d{1,3})$/.exec(label);
      if (m) ip = m.slice(1).join(".");
    }
    const answers = ip && question.type === "A" ? [{ type: "A", name: question.name, ttl, data: ip }] : [];
    const reply = dnsPacket.encode({
      type: "response", id: q.id, // dns-packet takes the response code from the low bits of flags (3 = NXDOMAIN)
      flags: dnsPacket.AUTHORITATIVE_ANSWER | (q.flags & dnsPacket.RECURSION_DESIRED) | (known ? 0 : 3), questions: q.questions, answers,
    } as any);
    sock.send(reply, rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => sock.bind(53, cfg.auth!.address, () => r()));
}

for (const h of cfg.https ?? []) {
  Bun.serve({
    hostname: h.address, port: h.port,
    tls: { cert: readFileSync(h.certFile, "utf8"), key: readFileSync(h.keyFile, "utf8") },
    fetch: () => new Response(h.body, { headers: { "content-type": "application/json" } }),
  });
}

for (const h of cfg.http ?? []) {
  Bun.serve({
    hostname: h.address, port: h.port,
    fetch: (req) => {
      if (h.mode === "portal") return new Response("<html>login</html>", { status: 302, headers: { location: "http://portal.lan/login" } });
      return new URL(req.url).pathname === "/generate_204" ? new Response(null, { status: 204 }) : new Response("not found", { status: 404 });
    },
  });
}

console.log("ready");
process.on("SIGTERM", () => process.exit(0));
