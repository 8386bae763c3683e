/**
 * The real probe functions against loopback servers and sockets that never answer.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import dgram from "node:dgram";
import net from "node:net";
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import * as dnsPacket from "dns-packet";
import { dnsQuery, hostIO, httpProbe, httpsProbe } from "../../src/diagnostics/probes";
import { explainConnect } from "../../src/diagnostics/connect-detail";

// dns-packet encodes the response code from the low bits of `flags`.
const RCODE: Record<string, number> = { NOERROR: 0, SERVFAIL: 2, NXDOMAIN: 3, REFUSED: 5 };
let dns: dgram.Socket, silent: dgram.Socket, dnsPort = 0, silentPort = 0;
let dir: string;
const closers: Array<() => void> = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "iotdiag-probes-"));
  dns = dgram.createSocket("udp4");
  dns.on("message", (m, r) => {
    const q: any = dnsPacket.decode(m);
    const name: string = q.questions[0].name;
    const [rcode, answers] = name.startsWith("nx.") ? ["NXDOMAIN", []] : name.startsWith("fail.") ? ["SERVFAIL", []]
      : name.startsWith("refused.") ? ["REFUSED", []] : name.startsWith("empty.") || name.startsWith("ede.") ? ["NOERROR", []]
      : name.startsWith("zero.") ? ["NOERROR", [{ type: "A", name, ttl: 5, data: "0.0.0.0" }]] : ["NOERROR", [{ type: "A", name, ttl: 5, data: "10.0.0.1" }]];
    // "ede.": an Extended DNS Error 15 (Blocked) with its text, as dnsmasq's rebinding protection sends
    const additionals = name.startsWith("ede.") ? [{ type: "OPT", name: ".", udpPayloadSize: 1232, flags: 0, options: [{ code: 15, data: Buffer.concat([Buffer.from([0, 15]), Buffer.from("rebind protection")]) }] }] : [];
    dns.send(dnsPacket.encode({ type: "response", id: q.id, flags: RCODE[rcode as string]!, questions: q.questions, answers, additionals } as any), r.port, r.address);
  });
  await new Promise<void>((r) => dns.bind(0, "127.0.0.1", () => r()));
  dnsPort = dns.address().port;
  silent = dgram.createSocket("udp4");
  await new Promise<void>((r) => silent.bind(0, "127.0.0.1", () => r()));
  silentPort = silent.address().port;
});
afterAll(() => { dns.close(); silent.close(); for (const c of closers) c(); rmSync(dir, { recursive: true, force: true }); });

describe("dnsQuery", () => {
  const srv = () => ({ host: "127.0.0.1", port: dnsPort });
  test("answer, empty, NXDOMAIN and SERVFAIL stay apart", async () => {
    expect(await dnsQuery(srv(), "ok.iot.example", 1000)).toEqual({ kind: "answer", rcode: "NOERROR", addresses: ["10.0.0.1"] });
    expect(await dnsQuery(srv(), "empty.iot.example", 1000)).toEqual({ kind: "answer", rcode: "NOERROR", addresses: [] });
    expect(await dnsQuery(srv(), "nx.iot.example", 1000)).toMatchObject({ rcode: "NXDOMAIN" });
    expect(await dnsQuery(srv(), "fail.iot.example", 1000)).toMatchObject({ rcode: "SERVFAIL" });
  });
  test("REFUSED, a rewrite to 0.0.0.0 and an Extended DNS Error with its text stay as they came", async () => {
    expect(await dnsQuery(srv(), "refused.iot.example", 1000)).toEqual({ kind: "answer", rcode: "REFUSED", addresses: [] });
    expect(await dnsQuery(srv(), "zero.iot.example", 1000)).toEqual({ kind: "answer", rcode: "NOERROR", addresses: ["0.0.0.0"] });
    expect(await dnsQuery(srv(), "ede.iot.example", 1000)).toEqual({ kind: "answer", rcode: "NOERROR", addresses: [], ede: 15, edeText: "rebind protection" });
  });
  test("over IPv6 too", async () => {
    const v6 = dgram.createSocket("udp6");
    v6.on("message", (m, r) => {
      const q: any = dnsPacket.decode(m);
      v6.send(dnsPacket.encode({ type: "response", id: q.id, flags: 0, questions: q.questions, answers: [{ type: "A", name: q.questions[0].name, ttl: 5, data: "10.0.0.2" }] } as any), r.port, r.address);
    });
    await new Promise<void>((r) => v6.bind(0, "::1", () => r()));
    try {
      expect(await dnsQuery({ host: "::1", port: v6.address().port }, "v6.iot.example", 1000)).toEqual({ kind: "answer", rcode: "NOERROR", addresses: ["10.0.0.2"] });
    } finally { v6.close(); }
  });
  test("a server that never answers times out on time; a closed port is refused", async () => {
    const t = performance.now();
    expect(await dnsQuery({ host: "127.0.0.1", port: silentPort }, "x.example", 400)).toEqual({ kind: "timeout" });
    expect(performance.now() - t).toBeLessThan(700);
    const closed = dgram.createSocket("udp4");
    await new Promise<void>((r) => closed.bind(0, "127.0.0.1", () => r()));
    const port = closed.address().port;
    closed.close();
    expect(await dnsQuery({ host: "127.0.0.1", port }, "x.example", 1000)).toEqual({ kind: "error", code: "ECONNREFUSED" });
  });
});

describe("httpsProbe and httpProbe", () => {
  const mkcert = (name: string, cn: string) => {
    spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj", `/CN=${cn}`,
      "-addext", `subjectAltName=DNS:${cn}`, "-keyout", join(dir, `${name}.key`), "-out", join(dir, `${name}.pem`)]);
    return { cert: Bun.file(join(dir, `${name}.pem`)), key: Bun.file(join(dir, `${name}.key`)) };
  };
  test("trusted, unknown issuer, wrong name; a server that never speaks TLS times out", async () => {
    const tlsOpt = mkcert("srv", "provision.vendor.example");
    const s = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: tlsOpt, fetch: () => new Response("ok") });
    closers.push(() => s.stop(true));
    const ca = await Bun.file(join(dir, "srv.pem")).text();
    const good = await httpsProbe("127.0.0.1", s.port!, "provision.vendor.example", 1000, 1000, ca);
    expect(good).toEqual({ tcp: { kind: "connected" }, tls: { kind: "authorized", issuer: "provision.vendor.example" } });
    const unknown = await httpsProbe("127.0.0.1", s.port!, "provision.vendor.example", 1000, 1000);
    expect(unknown.tls).toMatchObject({ kind: "unauthorized" });
    const wrong = await httpsProbe("127.0.0.1", s.port!, "other.example", 1000, 1000, ca);
    expect(wrong.tls).toMatchObject({ kind: "unauthorized", error: "ERR_TLS_CERT_ALTNAME_INVALID" });

    const mute = net.createServer(() => {}); // accepts, never answers
    await new Promise<void>((r) => mute.listen(0, "127.0.0.1", () => r()));
    closers.push(() => mute.close());
    const port = (mute.address() as net.AddressInfo).port;
    expect(await httpsProbe("127.0.0.1", port, "x", 1000, 300)).toEqual({ tcp: { kind: "connected" }, tls: { kind: "timeout" } });
    expect(await httpProbe("127.0.0.1", port, "x", "/", 300)).toEqual({ kind: "timeout" });
  });
  test("refused port; 204 and a redirect", async () => {
    const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (r) => new URL(r.url).pathname === "/generate_204" ? new Response(null, { status: 204 }) : Response.redirect("http://portal/", 302) });
    closers.push(() => s.stop(true));
    expect(await httpProbe("127.0.0.1", s.port!, "c.example", "/generate_204", 1000)).toEqual({ kind: "response", status: 204, location: null });
    expect(await httpProbe("127.0.0.1", s.port!, "c.example", "/x", 1000)).toEqual({ kind: "response", status: 302, location: "http://portal/" });
    s.stop(true);
    expect((await httpsProbe("127.0.0.1", s.port!, "x", 500, 500)).tcp).toEqual({ kind: "error", code: "ECONNREFUSED" });
  });
});

describe("after a failed connect, what really happened (libc through bun:ffi)", () => {
  test("a closed port: node:net says ECONNREFUSED, the second look says reset (RST); an open one connects", async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = await hostIO().https("127.0.0.1", port, "x", 500, 500);
    expect(r.tcp).toEqual({ kind: "error", code: "ECONNREFUSED", seen: { kind: "reset", errno: "ECONNREFUSED" } });
    expect(await explainConnect("127.0.0.1", port, 500)).toEqual({ kind: "reset", errno: "ECONNREFUSED" });
    const open = net.createServer((c) => c.end());
    await new Promise<void>((r) => open.listen(0, "127.0.0.1", () => r()));
    closers.push(() => open.close());
    expect(await explainConnect("127.0.0.1", (open.address() as net.AddressInfo).port, 500)).toEqual({ kind: "connected" });
    expect(await explainConnect("not-an-ip", 1, 100)).toBeNull();
  });
  test("the second look runs only after a failed connect: one that connects costs nothing more", async () => {
    const asked: string[] = [];
    const io = hostIO({ explainConnect: async (ip, port) => { asked.push(`${ip}:${port}`); return null; } });
    const open = net.createServer((c) => c.end());
    await new Promise<void>((r) => open.listen(0, "127.0.0.1", () => r()));
    closers.push(() => open.close());
    const port = (open.address() as net.AddressInfo).port;
    expect((await io.https("127.0.0.1", port, "x", 500, 500)).tcp.kind).toBe("connected");
    await io.http("127.0.0.1", port, "x", "/", 500);
    expect(asked).toEqual([]);
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", () => r()));
    const gone = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    await io.https("127.0.0.1", gone, "x", 500, 500);
    expect(asked).toEqual([`127.0.0.1:${gone}`]);
  });
});

describe("hostIO reads a fake / (sysfs, procfs, resolver file, clock file)", () => {
  test("links, gateway and ARP, resolvers, clock", async () => {
    const root = join(dir, "root");
    for (const [i, carrier, state] of [["eth0", "1", "up"], ["wlan0", "0", "down"], ["docker0", "1", "up"]]) {
      mkdirSync(join(root, "sys", i!), { recursive: true });
      writeFileSync(join(root, "sys", i!, "carrier"), carrier + "\n");
      writeFileSync(join(root, "sys", i!, "operstate"), state + "\n");
    }
    mkdirSync(join(root, "proc"), { recursive: true });
    writeFileSync(join(root, "proc", "route"), "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n" +
      "eth0\t00000000\t01004D0A\t0003\t0\t0\t0\t00000000\t0\t0\t0\neth0\t00004D0A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n");
    writeFileSync(join(root, "proc", "arp"), "IP address       HW type     Flags       HW address            Mask     Device\n10.77.0.1        0x1         0x0         00:00:00:00:00:00     *        eth0\n");
    writeFileSync(join(root, "resolv.conf"), "# by NM\nnameserver 10.77.0.1\nnameserver fe80::1%eth0\nnameserver bogus\noptions edns0\n");
    const io = hostIO({ sysClassNet: join(root, "sys"), procNet: join(root, "proc"), resolvConf: [join(root, "missing"), join(root, "resolv.conf")],
      clockSyncFile: join(root, "synced"), notBefore: new Date("2026-01-01"), now: () => new Date("2025-01-01") });
    expect(io.links().sort((a, b) => a.name.localeCompare(b.name))).toEqual([{ name: "eth0", carrier: true, operstate: "up" }, { name: "wlan0", carrier: false, operstate: "down" }]);
    expect(io.gateway()).toEqual({ address: "10.77.0.1", neighbour: "failed" });
    expect(io.systemResolvers()).toEqual(["10.77.0.1", "fe80::1%eth0"]);
    expect(await io.clock()).toEqual({ synced: false, plausible: false });
    writeFileSync(join(root, "synced"), "");
    expect(await io.clock()).toEqual({ synced: true, plausible: false });
    const ap = hostIO({ sysClassNet: join(root, "sys"), ignoreInterfaces: () => ["eth0"] });
    expect(ap.links().map((l) => l.name)).toEqual(["wlan0"]);
    const injected = hostIO({ clockSynced: async () => null });
    expect((await injected.clock()).synced).toBeNull();
  });
});
