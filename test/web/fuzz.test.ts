/**
 * Property-based fuzzing of the box's whole HTTP surface over real sockets, HTTP and HTTPS:
 * every route of the homepage, settings, local API, POS and terminal APIs and the Wi-Fi set-up
 * access point, with generated methods, paths, Hosts, Origins, headers, cookies (also a live
 * admin session and a live POS token) and bodies. The promise: no answer ≥ 500, no crash, no
 * hang. The seed is printed; `FUZZ_SEED=<seed> FUZZ_RUNS=<n> bun test test/web/fuzz.test.ts`
 * replays a run.
 */
import { expect, test } from "bun:test";
import fc from "fast-check";
import { browserFor, rawRequest, startHttpBox, type RawReply } from "../support/http-box";

const RUNS = Number(process.env.FUZZ_RUNS ?? 10_000);
const SEED = Number(process.env.FUZZ_SEED ?? (Date.now() % 2 ** 31));
const PW = "correct horse battery";
const ID = "{id}";

const ROUTES = [
  "/", "/?local", "/?lang=es", "/api/status", "/api/status?lang=es", "/api/cert/check", "/settings", "/settings?lang=es", "/settings/password/initial", "/login", "/logout",
  "/settings/credential", "/settings/server", "/settings/log-level", "/settings/password", "/settings/logs", "/settings/restart", "/settings/nothing",
  "/settings/connect", "/settings/connect?lang=es", "/settings/disconnect",
  "/api/terminals", "/api/terminals/", "/api/terminals/terminals", `/api/terminals/terminals/${ID}/test`, `/api/terminals/terminals/${ID}/release`, `/api/terminals/terminals/${ID}`,
  "/api/terminals/pos/origins", "/api/terminals/pos/pairings", `/api/terminals/pos/pairings/${ID}`,
  "/iot_drivers/action", "/iot_drivers/event", "/hw_drivers/action", "/hw_drivers/event", "/iot_drivers",
  "/api/pos/terminals", "/api/pos/payments", `/api/pos/payments/${ID}`, `/api/pos/payments/${ID}/events`, `/api/pos/payments/${ID}/abort`, `/api/pos/payments/${ID}/refund`,
  "/iot_drivers/download_logs", "/hw_drivers/download_logs", "/wifi", "/wifi/", "/wifi/networks.json", "/wifi/generate_204", "/generate_204", "/hotspot-detect.html", "/connecttest.txt", "/favicon.ico",
];
/** Routes a fuzzed request with the admin session must not take: they would end the session the run relies on. */
const SESSION_ENDING = new Set(["/logout", "/settings/password"]);
const IMPLEMENTED = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];
const OTHER_KNOWN = ["PROPFIND", "TRACE", "MKCOL", "COPY", "MOVE", "LOCK", "UNLOCK", "REPORT", "SEARCH", "PURGE", "QUERY", "SUBSCRIBE", "ACL", "BIND"];
/** Tokens Bun's HTTP parser itself drops without an answer (oven-sh/bun#35299, not in 1.4.5): the box never sees them. */
const PARSER_UNKNOWN = ["get", "post", "FOO", "GETS", "BREW"];

const printable = fc.string({ unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~:/?#[]@!$&'()*+,;=% \"<>\\^`{|}"), maxLength: 60 });
const unicode = fc.string({ unit: "grapheme", maxLength: 30 });
const segment = fc.oneof(printable.filter((s) => !s.includes(" ") && !s.includes("#")), fc.constantFrom("..", ".", "%00", "%zz", "%2e%2e", "%2F", "~", "a".repeat(300)), unicode.map(encodeURIComponent));

const pathArb = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...ROUTES), fc.oneof(fc.constant("x"), fc.constant("pay_0"), segment)).map(([r, id]) => r.replace(ID, id)) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...ROUTES), fc.dictionary(printable.filter((s) => /^[A-Za-z_]{1,10}$/.test(s)), printable, { maxKeys: 4 })).map(([r, q]) =>
      `${r.replace(ID, "x")}${r.includes("?") ? "&" : "?"}${Object.entries(q).map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&")}`) },
  { weight: 2, arbitrary: fc.array(segment, { minLength: 1, maxLength: 6 }).map((s) => `/${s.join("/")}`) },
  { weight: 1, arbitrary: fc.constantFrom("*", "http://attacker.example/settings", "//settings", "/%", "/settings%00", "/api/status/../settings", "/" + "x".repeat(8000)) },
);

type HostKind = "own" | "own-port" | "name" | "foreign" | "malformed";
const hostArb = fc.oneof(
  { weight: 8, arbitrary: fc.constant<[HostKind, string]>(["own", "192.168.1.10"]) },
  { weight: 2, arbitrary: fc.constantFrom<[HostKind, string]>(["own-port", "192.168.1.10:443"], ["own-port", "127.0.0.1:8443"], ["name", "caja-01.local"], ["name", "localhost"], ["name", "10.42.0.1"]) },
  { weight: 2, arbitrary: fc.constantFrom<[HostKind, string]>(["foreign", "attacker.example"], ["foreign", "192-168-1-10.attacker.example"], ["foreign", "connectivitycheck.gstatic.com"], ["foreign", "[::2]"]) },
  { weight: 2, arbitrary: fc.oneof(fc.constantFrom("%00", "[::1", "127.0.0.1:99999", "", "a b", "a/b", "a@b", ":", "[]", "x:y:z", "é.local"), printable).map((h): [HostKind, string] => ["malformed", h]) },
);
const originArb = fc.oneof(
  { weight: 4, arbitrary: fc.constant<string | null>(null) },
  { weight: 3, arbitrary: fc.constant("SAME") },
  { weight: 2, arbitrary: fc.constantFrom("null", "x", "::", "https://attacker.example", "http://192.168.1.10", "https://192.168.1.10:1", "file://", "https://[::1") },
  { weight: 1, arbitrary: printable },
);
const ctypeArb = fc.oneof(
  fc.constant<string | null>(null), fc.constant("application/x-www-form-urlencoded"), fc.constant("multipart/form-data"), fc.constant("multipart/form-data; boundary=XyZ"),
  fc.constant("application/json"), fc.constant("text/plain"), fc.constant("application/json; charset=latin1"), printable,
);
const formBody = fc.dictionary(fc.constantFrom("_csrf", "password", "current_password", "db_uuid", "enterprise_code", "server_url", "provisioning_url", "log_level", "ssid", "ssid_other", "token", "x"),
  fc.oneof(printable, unicode, fc.constantFrom("debug", "1f2e3d4c-0000-1111", "https://127.0.0.1:1", "M2401234", "a".repeat(3000),
    "https://127.0.0.1:1|tok_abcdefgh123|1f2e3d4c-0000-1111|M2401234", "https://127.0.0.1:1/?token=tok_abcdefgh123&db_uuid=1f2e3d4c-0000-1111&enterprise_code=M2401234")), { maxKeys: 5 })
  .map((o) => new URLSearchParams(o).toString());
const terminalBody = fc.record({ address: fc.constantFrom("127.0.0.1:1", "127.0.0.1", "[::1]:1", "x y"), poiid: fc.constantFrom("P400Plus-275039202", "bad"),
  keyIdentifier: fc.constantFrom("k1", ""), keyVersion: fc.oneof(fc.integer(), fc.double()), passphrase: fc.oneof(printable, fc.constant("p4ss-phrase")) }, { requiredKeys: [] }).map((o) => JSON.stringify(o));
const bodyArb = fc.oneof(
  { weight: 3, arbitrary: fc.constant("") },
  { weight: 3, arbitrary: formBody },
  { weight: 2, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: terminalBody },
  { weight: 1, arbitrary: fc.constantFrom(JSON.stringify({ origins: ["https://pos.example"] }), JSON.stringify({ amount: 1, currency: "EUR", reference: "r" }), JSON.stringify({ name: "POS" }), "{", "[]", "null") },
  { weight: 1, arbitrary: fc.tuple(printable, printable).map(([n, v]) => `--XyZ\r\nContent-Disposition: form-data; name="${n}"\r\n\r\n${v}\r\n--XyZ--\r\n`) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 2000 }).map((b) => Buffer.from(b).toString("latin1")) },
);
const headerName = fc.constantFrom("accept", "accept-language", "authorization", "cookie", "x-csrf-token", "sec-fetch-site", "prefer", "idempotency-key", "last-event-id",
  "access-control-request-method", "access-control-request-private-network", "if-none-match", "range", "x-forwarded-for", "x-" + "h".repeat(100));
const headerValue = fc.oneof(printable, fc.constantFrom("text/html", "application/json", "es-ES,es;q=0.9", "Bearer x", "true", "cross-site", "same-origin", "*/*", "iotbox_csrf=zz; lang=es", "__Host-iotbox_session=" + "A".repeat(43)));

const requestArb = fc.record({
  tls: fc.boolean(),
  method: fc.oneof({ weight: 12, arbitrary: fc.constantFrom(...IMPLEMENTED) }, { weight: 1, arbitrary: fc.constantFrom(...OTHER_KNOWN) }, { weight: 1, arbitrary: fc.constantFrom(...PARSER_UNKNOWN) }),
  path: pathArb,
  host: hostArb,
  origin: originArb,
  ctype: ctypeArb,
  credential: fc.constantFrom("none", "none", "session", "pos", "both"),
  headers: fc.array(fc.tuple(headerName, headerValue), { maxLength: 4 }),
  body: bodyArb,
});
type FuzzRequest = typeof requestArb extends fc.Arbitrary<infer T> ? T : never;

test(`fuzz: ${RUNS} generated requests over HTTP and HTTPS → no answer ≥ 500, no crash, no hang`, async () => {
  console.log(`fuzz seed ${SEED} (replay: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS} bun test test/web/fuzz.test.ts)`);
  const box = await startHttpBox({ password: PW });
  try {
    // A live admin session and a live POS token, so that generated requests also reach what is behind them.
    const admin = browserFor(box.https, "192.168.1.10");
    await admin.send("/settings");
    expect((await admin.form("/login", { password: PW })).status).toBe(303);
    const session = admin.jar.get("__Host-iotbox_session")!;
    const csrf = admin.page.csrf;
    const pairing = await admin.json("POST", "/api/terminals/pos/pairings", { name: "POS" });
    const posToken = JSON.parse(pairing.body).token as string;
    await admin.json("PUT", "/api/terminals/pos/origins", { origins: ["https://pos.example"] });

    const requests = fc.sample(requestArb, { seed: SEED, numRuns: RUNS });
    const bad: Array<{ r: FuzzRequest; reply: RawReply }> = [];
    const counts = { total: 0, status5xx: 0, hangs: 0, closedByParser: 0, closedOther: 0, byStatus: new Map<number, number>() };
    let next = 0;
    const build = (r: FuzzRequest) => {
      const host = r.host[0] === "own-port" && r.tls ? `192.168.1.10:${box.httpsPort}` : r.host[1];
      const scheme = r.tls ? "https" : "http";
      const lines = [`${r.method} ${r.path} HTTP/1.1`, `Host: ${host}`];
      if (r.origin === "SAME") lines.push(`Origin: ${scheme}://${host}`); else if (r.origin !== null) lines.push(`Origin: ${r.origin}`);
      if (r.ctype !== null) lines.push(`Content-Type: ${r.ctype}`);
      const useSession = (r.credential === "session" || r.credential === "both") && !SESSION_ENDING.has(r.path.split("?")[0]!);
      if (useSession) lines.push(`Cookie: __Host-iotbox_session=${session}`, `X-CSRF-Token: ${csrf}`);
      if (r.credential === "pos" || r.credential === "both") lines.push(`Authorization: Bearer ${posToken}`);
      for (const [k, v] of r.headers) if (!(useSession && (k === "cookie" || k === "x-csrf-token"))) lines.push(`${k}: ${v}`);
      const body = Buffer.from(r.body.replace("_csrf=", useSession ? `_csrf=${csrf}&x=` : "_csrf="), "utf8");
      lines.push(`Content-Length: ${body.length}`, "Connection: close");
      return Buffer.concat([Buffer.from(lines.join("\r\n") + "\r\n\r\n", "utf8"), body]);
    };
    const worker = async () => {
      while (next < requests.length) {
        const i = next++;
        // Half-way the set-up access point opens: phones' connectivity checks and foreign names meet the captive portal.
        if (i === Math.floor(requests.length / 2)) await box.openAccessPoint();
        const r = requests[i]!;
        const reply = await rawRequest(r.tls ? box.httpsPort : box.httpPort, r.tls, build(r), 15_000);
        counts.total++;
        counts.byStatus.set(reply.status, (counts.byStatus.get(reply.status) ?? 0) + 1);
        if (reply.timedOut) { counts.hangs++; bad.push({ r, reply }); }
        else if (reply.closedWithoutAnswer) {
          if (PARSER_UNKNOWN.includes(r.method)) counts.closedByParser++;
          else { counts.closedOther++; bad.push({ r, reply }); }
        } else if (reply.status >= 500) { counts.status5xx++; bad.push({ r, reply }); }
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    // Still alive and answering after the run.
    const alive = await rawRequest(box.httpPort, false, "GET /api/status HTTP/1.1\r\nHost: 192.168.1.10\r\nConnection: close\r\n\r\n");
    expect(alive.status).toBe(200);
    const statuses = [...counts.byStatus].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}:${n}`).join(" ");
    console.log(`fuzz: ${counts.total} requests, ${counts.status5xx} answers >= 500, ${counts.hangs} hangs, ${counts.closedOther} connections dropped, ` +
      `${counts.closedByParser} dropped by Bun's parser (unknown method tokens); statuses ${statuses}; seed ${SEED}`);
    for (const b of bad.slice(0, 5)) console.log("failing request:", JSON.stringify(b.r).slice(0, 600), "→", b.reply.status, b.reply.body.slice(0, 200));
    const internal = box.logs.filter((l) => /request failed|unhandled/.test(l));
    if (internal.length) console.log("box log:", internal.slice(0, 5).join("\n"));
    expect(counts.total).toBe(RUNS);
    expect(counts.status5xx).toBe(0);
    expect(counts.hangs).toBe(0);
    expect(counts.closedOther).toBe(0);
  } finally { await box.stop(); }
}, 600_000);
