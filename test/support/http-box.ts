/**
 * The box's whole HTTP surface in this process, over real sockets (HTTP and HTTPS with its
 * placeholder certificate), built by the same composition as the runtime (src/web/compose.ts):
 * gate, homepage, settings, POS and terminal APIs, the Wi-Fi set-up page on a model of
 * NetworkManager. The certificate service is a double that never answers the network (nothing
 * leaves this machine, whatever a fuzzed form sets as the service URL).
 */
import { request as httpsRequest } from "node:https";
import { request as httpRequest } from "node:http";
import { connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";
import { openConfigStore } from "../../src/config/store";
import { createCertificateStore } from "../../src/cert/store";
import { createCertificateLifecycle } from "../../src/cert/lifecycle";
import { openCredentials } from "../../src/admin/credentials";
import { createAuth } from "../../src/web/auth";
import { createHttpFront } from "../../src/web/compose";
import { startServers } from "../../src/https/server";
import { createLogger } from "../../src/log/index";
import { createTerminals } from "../../src/terminals/index";
import { createNetworkSupervisor } from "../../src/network/index";
import { fakeNmcli } from "../../src/network/fake-nmcli";
import { ownHostSet } from "../../src/net/own-hosts";
import { describe as describeDiag } from "../../src/diagnostics/index";
import { makeBoxDir } from "./box-fixture";
import { createOdooLink, type PairingView } from "../../src/odoo/index";
import { boxFacts } from "../../src/odoo/facts";
import type { FetchLike } from "../../src/odoo/client";
import type { Timeouts } from "../../src/terminals/payments";

import type { Updater, UpdateView } from "../../src/update/index";
export const LAN_IP = "192.168.1.10";
const facts = { cpuTempC: 48.3, memUsedPct: 31, memTotalMb: 922, diskUsedPct: 12, uptimeS: 3725, updatedAt: null };

export async function startHttpBox(o: { dataDir?: string; password?: string; /** Pretend every client is this LAN address. */ client?: string;
  /** The payment terminals' trusted roots (none by default: no terminal can be added). */ fleetRootsPem?: () => string[];
  /** How the database link reaches a database (default: never leaves this process; a test passes fetch for a double on loopback). */ odooFetch?: FetchLike;
  /** The pairing code's state the homepage shows while not connected. */ pairing?: () => PairingView | null;
  /** A database connection token (the key of the database's signed requests). */ connectionToken?: string;
  /** The payment engine's timeouts (tests with a terminal simulator shorten them). */ terminalTimeouts?: Partial<Timeouts>;
  /** System updates: the view the status shows and the admin's buttons (a test double). */ update?: { view: () => UpdateView; updater: Pick<Updater, "check" | "hold" | "resume"> } } = {}) {
  const dir = o.dataDir ? null : makeBoxDir();
  const dataDir = o.dataDir ?? dir!.dataDir;
  const logs: string[] = [];
  const logger = createLogger({ write: (l) => { logs.push(l); if (logs.length > 5000) logs.splice(0, 1000); } });
  const config = openConfigStore(`${dataDir}/config.json`);
  const credentials = openCredentials({ dataDir, legacyHash: config.legacyAdminHash });
  if (o.password) credentials.setHash(Bun.password.hashSync(o.password, { algorithm: "argon2id" }));
  const certRequests: unknown[] = [];
  let servers: ReturnType<typeof startServers> | null = null;
  let initial: { keyPem: string; chainPem: string } | null = null;
  const lifecycle = createCertificateLifecycle({
    store: createCertificateStore(`${dataDir}/cert`), config, logger, lanIp: () => LAN_IP,
    request: async (r) => { certRequests.push(r); return { ok: false, error: { name: "ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION", detail: "test double: the service is not reached" }, unreached: true }; },
    onServe: (g) => { if (servers) void servers.swap(g); else initial = g; },
  });
  await lifecycle.serveBest();
  // /iot_drivers/event holds a request 1 s here (50 s on a box): the fuzz run counts a request unanswered after 10 s as a hang.
  const terminals = createTerminals({ dataDir, logger, fleetRootsPem: o.fleetRootsPem ?? (() => []), timeouts: o.terminalTimeouts, eventLongPollMs: 1000,
    identifier: () => "10000000abcdef01", databaseOrigin: () => { const u = config.get().serverUrl; return u && odoo.connected() ? new URL(u).origin : null; } });
  await terminals.start();
  const nm = fakeNmcli({ ethernet: "unavailable", air: [{ ssid: "Shop Wi-Fi", psk: "wifi-secret-99", signal: 70 }] });
  const network = createNetworkSupervisor({ nm: nm.nm, logger, boxId: config.get().boxId, apAfterMs: 0 });
  const odoo = createOdooLink({ dataDir, config, logger, certificateEnd: () => null, checkEveryMs: 60_000, backoff: () => 60_000, pairing: o.pairing,
    fetch: o.odooFetch ?? (async () => { throw new Error("test double: the database is not reached"); }),
    facts: async () => boxFacts({ identifier: "10000000abcdef01", mac: "b8:27:eb:12:34:56", lanIp: LAN_IP, httpsUrl: lifecycle.url(), version: "9.9.9-test", name: "caja-01", terminals: await terminals.list() }) });
  const auth = createAuth({ credentials });
  let restarts = 0;
  const hosts = ownHostSet({ addresses: ["127.0.0.1", LAN_IP, "10.42.0.1"], names: ["caja-01"] });
  const front = createHttpFront({
    web: { lifecycle, config: () => config.get(), store: config, auth, logger, version: "9.9.9-test", lan: () => ({ ifname: "eth0", ipv4: LAN_IP, mac: "b8:27:eb:12:34:56" }),
      hostname: () => "caja-01", facts: () => facts, httpsPort: () => servers?.httpsPort ?? 443, setupProblems: () => config.loadProblems, describeDiag,
      restart: () => { restarts++; }, clientAddress: (c) => o.client ?? serverRef?.requestIP(c.req.raw)?.address ?? "unknown", terminals: () => terminals.list(),
      lockedReason: () => credentials.problem(), adminState: () => credentials.state(), odoo: () => odoo.status(), odooLink: odoo,
      ...(o.update ? { update: o.update.view, updater: o.update.updater } : {}) },
    terminals, network, auth, logger, ownHosts: () => hosts, connectionToken: () => o.connectionToken ?? null,
  });
  let serverRef: { requestIP(r: Request): { address: string } | null } | null = null;
  servers = startServers({ httpPort: 0, httpsPort: 0, hostname: "127.0.0.1", logger, tls: initial!,
    fetch: (req, server) => { serverRef = server as never; return front(req, { server }); } });
  const s = servers;
  return {
    dataDir, logs, config, credentials, auth, lifecycle, terminals, network, odoo, certRequests, restarts: () => restarts,
    httpPort: s.httpPort, httpsPort: s.httpsPort,
    http: `http://127.0.0.1:${s.httpPort}`, https: `https://127.0.0.1:${s.httpsPort}`,
    openAccessPoint: () => network.tick(),
    async stop() { lifecycle.stop(); await odoo.stop(); await terminals.stop(); await s.stop(true); dir?.cleanup(); },
  };
}
export type HttpBox = Awaited<ReturnType<typeof startHttpBox>>;

export interface RawReply { status: number; headers: Record<string, string>; body: string; closedWithoutAnswer: boolean; timedOut: boolean }

/**
 * One request written byte for byte (any method, Host, header or body a client can send), over
 * TCP or TLS; returns the status line and headers (and the body when it ends in time).
 */
export function rawRequest(port: number, tls: boolean, bytes: Uint8Array | string, timeoutMs = 10_000): Promise<RawReply> {
  return new Promise((resolve) => {
    const sock = tls ? tlsConnect({ port, host: "127.0.0.1", rejectUnauthorized: false, servername: "localhost" }) : tcpConnect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (timedOut: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(chunks).toString("latin1");
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const headEnd = text.indexOf("\r\n\r\n");
      const headers: Record<string, string> = {};
      for (const line of text.slice(0, headEnd < 0 ? text.length : headEnd).split("\r\n").slice(1)) {
        const i = line.indexOf(":");
        if (i > 0) headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: m ? Number(m[1]) : 0, headers, body: headEnd < 0 ? "" : text.slice(headEnd + 4), closedWithoutAnswer: !m && !timedOut, timedOut: timedOut && !m });
    };
    const timer = setTimeout(() => finish(true), timeoutMs);
    sock.on(tls ? "secureConnect" : "connect", () => sock.write(bytes));
    sock.on("data", (d: Buffer) => {
      chunks.push(d);
      // A streaming answer (SSE, long poll) proves itself with its head: no need to wait for the end.
      if (/^HTTP\/1\.[01] \d{3}/.test(Buffer.concat(chunks).toString("latin1", 0, 16)) && Buffer.concat(chunks).includes("\r\n\r\n") && !/content-length: *\d+/i.test(Buffer.concat(chunks).toString("latin1"))) finish(false);
    });
    sock.on("end", () => finish(false));
    sock.on("close", () => finish(false));
    sock.on("error", () => finish(false));
  });
}

/** A browser-like client for one origin: a cookie jar, the CSRF token of the last page, Origin on writes. */
export function browserFor(base: string, hostHeader?: string) {
  const jar = new Map<string, string>();
  const page = { csrf: "" };
  const u = new URL(base);
  const origin = `${u.protocol}//${hostHeader ?? u.host}`;
  async function send(path: string, init: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    if (hostHeader) headers.host = hostHeader;
    const res = await new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
      const req = (u.protocol === "https:" ? httpsRequest : httpRequest)({ host: "127.0.0.1", port: u.port, path, method: init.method ?? "GET", headers, rejectUnauthorized: false }, (r) => {
        const parts: Buffer[] = [];
        r.on("data", (d) => parts.push(d));
        r.on("end", () => resolve({ status: r.statusCode ?? 0, headers: r.headers, body: Buffer.concat(parts).toString("utf8") }));
      });
      req.on("error", reject);
      req.end(init.body);
    });
    const cookies = res.headers["set-cookie"];
    for (const c of Array.isArray(cookies) ? cookies : cookies ? [cookies] : []) {
      const [kv] = c.split(";");
      const i = kv!.indexOf("=");
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(c)) jar.delete(kv!.slice(0, i)); else jar.set(kv!.slice(0, i), kv!.slice(i + 1));
    }
    const token = /name="_csrf" value="([^"]+)"/.exec(res.body)?.[1] ?? /data-csrf="([^"]+)"/.exec(res.body)?.[1];
    if (token) page.csrf = token;
    // A browser follows a 303 to the page it names (which carries the new session's token).
    const to = res.headers.location;
    if (res.status === 303 && typeof to === "string" && to.startsWith("/")) await send(to);
    return res;
  }
  const form = (path: string, fields: Record<string, string>, o: { csrf?: boolean; origin?: string | null } = {}) =>
    send(path, { method: "POST", headers: { "content-type": "application/x-www-form-urlencoded", ...(o.origin === null ? {} : { origin: o.origin ?? origin }) },
      body: new URLSearchParams({ ...(o.csrf === false ? {} : { _csrf: page.csrf }), ...fields }).toString() });
  const json = (method: string, path: string, body?: unknown, extra: Record<string, string> = {}) =>
    send(path, { method, headers: { "content-type": "application/json", "x-csrf-token": page.csrf, origin, ...extra }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { send, form, json, jar, page, origin };
}
