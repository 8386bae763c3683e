// acme-client through the tuned transport against real loopback servers: a closed port, a
// socket that never answers, an untrusted TLS listener, and a CA answering problem documents.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import * as acme from "acme-client";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createTcpServer } from "node:net";
import { createServer as createHttpsServer } from "node:https";
import { createTestCA, freePort } from "../../../testkit";
import { classifyAcme } from "../failure";
import { tuneAcmeTransport, withCaContext } from "./transport";

const listen = (s: { listen: (port: number, host: string, cb: () => void) => unknown; address: () => unknown }) =>
  new Promise<number>((res) => { s.listen(0, "127.0.0.1", () => res((s.address() as { port: number }).port)); });

/** A CA whose directory is fine and whose newAccount answers `status` with a problem document. */
function problemCa(status: number, type: string, headers: Record<string, string> = {}): Server {
  const srv = createHttpServer((req, res) => {
    const base = `http://127.0.0.1:${(srv.address() as { port: number }).port}`;
    if (req.url === "/dir") return void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ newNonce: `${base}/nonce`, newAccount: `${base}/acct`, newOrder: `${base}/order` }));
    if (req.url === "/nonce") return void res.writeHead(200, { "replay-nonce": `n${Math.random()}` }).end();
    res.writeHead(status, { "content-type": "application/problem+json", "replay-nonce": `n${Math.random()}`, ...headers })
      .end(JSON.stringify({ type, detail: "the CA says no", status }));
  });
  return srv;
}

async function register(directoryUrl: string) {
  return withCaContext(async (ctx) => {
    const c = new acme.Client({ directoryUrl, accountKey: await acme.crypto.createPrivateEcdsaKey("P-256") });
    try { await c.createAccount({ termsOfServiceAgreed: true }); return null; } catch (e) { return classifyAcme(e, ctx.problem); }
  });
}

describe("acme transport", () => {
  const servers: Array<{ close: () => unknown }> = [];
  beforeAll(() => tuneAcmeTransport(800));
  afterAll(() => { tuneAcmeTransport(15_000); for (const s of servers) s.close(); });

  test("a closed port is the CA unreachable (acme-client alone turned it into a TypeError)", async () => {
    expect(await register(`http://127.0.0.1:${await freePort()}/dir`)).toEqual({ code: "ca_unreachable", retryAfterS: 60 });
  }, 10_000);

  test("a CA that accepts the connection and never answers is a timeout", async () => {
    const silent = createTcpServer(() => {});
    servers.push(silent);
    expect(await register(`http://127.0.0.1:${await listen(silent)}/dir`)).toEqual({ code: "ca_timeout", retryAfterS: 60 });
  }, 10_000);

  test("a certificate the service does not trust is a TLS failure (an operator must act)", async () => {
    const ca = createTestCA({ name: "untrusted" });
    const leaf = ca.issue(["localhost"], ["127.0.0.1"]);
    const tls = createHttpsServer({ cert: await Bun.file(leaf.certFile).text(), key: await Bun.file(leaf.keyFile).text() }, (_q, r) => r.end("{}"));
    servers.push(tls, { close: () => ca.cleanup() });
    expect(await register(`https://127.0.0.1:${await listen(tls)}/dir`)).toEqual({ code: "ca_tls", retryAfterS: 300 });
  }, 10_000);

  test("the CA's problem documents: refused → 300, rate limited → its Retry-After, server error → 60", async () => {
    const cases: Array<[Server, unknown]> = [
      [problemCa(403, "urn:ietf:params:acme:error:unauthorized"), { code: "ca_refused", retryAfterS: 300 }],
      [problemCa(429, "urn:ietf:params:acme:error:rateLimited", { "retry-after": "1200" }), { code: "ca_rate_limited", retryAfterS: 1200 }],
      [problemCa(500, "urn:ietf:params:acme:error:serverInternal"), { code: "ca_server_error", retryAfterS: 60 }],
    ];
    for (const [srv, want] of cases) {
      servers.push(srv);
      expect(await register(`http://127.0.0.1:${await listen(srv)}/dir`)).toEqual(want as never);
    }
  }, 30_000);
});
