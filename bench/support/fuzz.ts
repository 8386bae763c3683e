/**
 * A simple request fuzzer for the benchmarks: random methods, paths, headers and bodies (the
 * box's routes and garbage), written by hand on a raw TCP or TLS socket so that nothing is
 * cleaned up by an HTTP client (a Host of `%00`, a lowercase method, a multipart body without
 * its boundary). Seeded: the same seed sends the same requests. Not the suite's fuzz test.
 */
import { connect as tcp } from "node:net";
import { connect as tls } from "node:tls";

/** mulberry32: small, seeded, good enough to pick requests. */
export function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const text = (n: number) => Array.from({ length: n }, () => String.fromCharCode(32 + int(95))).join("");
  return { next, int, pick, bytes, text };
}

const METHODS = ["GET", "GET", "GET", "POST", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "get", "post", "FOO", "PROPFIND", "TRACE", "M-SEARCH"];
const ROUTES = ["/", "/?local", "/?lang=es", "/api/status", "/api/cert/check", "/settings", "/login", "/logout", "/logs", "/setup",
  "/wifi", "/api/pos/payments", "/api/pos/payments/tx_x", "/api/pos/terminals", "/api/terminals", "/api/terminals/terminals",
  "/api/terminals/terminals/V400m-1/test", "/api/terminals/pos/pairings", "/favicon.ico", "/generate_204", "/hotspot-detect.html"];
const SUFFIX = ["", "", "", "/", "/x", "/%00", "/%zz", "/../../etc/passwd", "?a=1&a=2", "?lang=%ff", "#frag", "//", "/\u00e9"];
const CONTENT_TYPES = [null, "application/json", "application/x-www-form-urlencoded", "multipart/form-data", "multipart/form-data; boundary=xyz", "text/plain", "garbage/;;;", "application/json; charset=utf-7"];
const ORIGINS = [null, null, "x", "::", "null", "https://evil.example", "http://127.0.0.1"];

export interface FuzzRequest { raw: Buffer; method: string; path: string }

/** One request; `host` is the box's own host:port (used most of the time, garbage otherwise). */
export function fuzzRequest(r: ReturnType<typeof rng>, host: string): FuzzRequest {
  const method = r.pick(METHODS);
  let path = r.pick(ROUTES) + r.pick(SUFFIX);
  if (r.int(20) === 0) path = "/" + "a".repeat(1 + r.int(4000));
  if (r.int(20) === 0) path = "/" + encodeURIComponent(r.text(1 + r.int(40)));
  const headers: string[] = [];
  const hostValue = r.int(4) ? host : r.pick(["localhost", "x", "%00", "[::1", "127.0.0.1:99999", "evil.example", "", "iotbox.local"]);
  if (hostValue !== "" || r.int(2)) headers.push(`Host: ${hostValue}`);
  const origin = r.pick(ORIGINS);
  if (origin) headers.push(`Origin: ${origin === "http://127.0.0.1" ? `http://${host}` : origin}`);
  const ct = r.pick(CONTENT_TYPES);
  if (ct) headers.push(`Content-Type: ${ct}`);
  if (r.int(3) === 0) headers.push(`Cookie: ${r.pick(["iotbox_session", "session", "csrf", r.text(8)])}=${r.text(r.int(60))}`);
  if (r.int(5) === 0) headers.push(`Authorization: Bearer ${r.text(r.int(50))}`);
  if (r.int(5) === 0) headers.push(`Accept-Language: ${r.pick(["es", "en-US,en;q=0.9", "*", r.text(20)])}`);
  if (r.int(5) === 0) headers.push(`Accept: ${r.pick(["text/html", "application/json", "*/*", r.text(10)])}`);
  if (r.int(6) === 0) headers.push(`Idempotency-Key: ${r.text(r.int(200))}`);
  if (r.int(10) === 0) headers.push(`X-${r.text(6).replace(/[^A-Za-z0-9]/g, "a")}: ${r.text(r.int(200))}`);
  let body: Buffer = Buffer.alloc(0);
  const kind = method === "GET" || method === "HEAD" ? r.int(10) : r.int(6);
  if (kind === 1) body = Buffer.from(JSON.stringify({ [r.text(5)]: r.text(r.int(40)), amount: r.pick([1, -1, 1e300, "1", null]), currency: r.pick(["EUR", "eur", ""]), reference: r.text(10) }));
  else if (kind === 2) body = r.bytes(r.int(2048));
  else if (kind === 3) body = Buffer.from(`password=${encodeURIComponent(r.text(r.int(30)))}&csrf=${r.text(10)}&next=${r.text(5)}`);
  else if (kind === 4) body = Buffer.from(`--xyz\r\nContent-Disposition: form-data; name="${r.text(5)}"\r\n\r\n${r.text(r.int(100))}\r\n--xyz--\r\n`);
  else if (kind === 5 && r.int(10) === 0) body = r.bytes(64 * 1024 + r.int(64 * 1024));
  if (body.length || r.int(4) === 0) headers.push(`Content-Length: ${body.length}`);
  headers.push("Connection: close");
  const head = `${method} ${path} HTTP/1.1\r\n${headers.join("\r\n")}\r\n\r\n`;
  return { raw: Buffer.concat([Buffer.from(head, "latin1"), body]), method, path };
}

export interface FuzzOutcome { status: number | null; error?: string }

/** Sends one request on a new connection; the status, or null when the server closed without one. */
export function send(port: number, secure: boolean, raw: Buffer, timeoutMs = 10_000): Promise<FuzzOutcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (o: FuzzOutcome) => { if (done) return; done = true; clearTimeout(timer); sock.destroy(); resolve(o); };
    const sock = secure
      ? tls({ host: "127.0.0.1", port, rejectUnauthorized: false, servername: "localhost" }, () => sock.write(raw))
      : tcp({ host: "127.0.0.1", port }, () => sock.write(raw));
    const timer = setTimeout(() => finish({ status: null, error: "timeout" }), timeoutMs);
    sock.on("data", (c: Buffer) => {
      chunks.push(c);
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(Buffer.concat(chunks).subarray(0, 16).toString("latin1"));
      if (m) finish({ status: Number(m[1]) });
    });
    sock.on("error", (e) => finish({ status: null, error: (e as NodeJS.ErrnoException).code ?? e.message }));
    sock.on("close", () => finish({ status: null, error: "closed without an answer" }));
  });
}

/** `fiveHundreds` leaves out 501 (Not Implemented: the answer the issue allows for an unknown method). */
export interface FuzzTally { sent: number; byStatus: Record<string, number>; fiveHundreds: number; notImplemented: number; noAnswer: number; examples: string[] }

/** `count` requests, `concurrency` at a time, alternating HTTP and HTTPS when both ports are given. */
export async function fuzz(o: { seed: number; count: number; httpPort?: number; httpsPort?: number; concurrency?: number }): Promise<FuzzTally> {
  const r = rng(o.seed);
  const tally: FuzzTally = { sent: 0, byStatus: {}, fiveHundreds: 0, notImplemented: 0, noAnswer: 0, examples: [] };
  const targets = [o.httpPort && { port: o.httpPort, secure: false }, o.httpsPort && { port: o.httpsPort, secure: true }].filter(Boolean) as Array<{ port: number; secure: boolean }>;
  let i = 0;
  const worker = async () => {
    while (i < o.count) {
      const t = targets[i++ % targets.length]!;
      const req = fuzzRequest(r, `127.0.0.1:${t.port}`);
      const out = await send(t.port, t.secure, req.raw);
      tally.sent++;
      const key = out.status === null ? `none (${out.error})` : String(out.status);
      tally.byStatus[key] = (tally.byStatus[key] ?? 0) + 1;
      if (out.status === null) tally.noAnswer++;
      if (out.status === 501) tally.notImplemented++;
      else if (out.status !== null && out.status >= 500) tally.fiveHundreds++;
      if ((out.status === null || (out.status >= 500 && out.status !== 501)) && tally.examples.length < 5) tally.examples.push(`${key}: ${req.raw.subarray(0, 200).toString("latin1").split("\r\n").slice(0, 3).join(" | ")}`);
    }
  };
  await Promise.all(Array.from({ length: o.concurrency ?? 8 }, worker));
  return tally;
}
