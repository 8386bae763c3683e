import { describe, expect, test } from "bun:test";
import { createLogger } from "../../../src/log";
import { UpstreamError } from "../dns";
import { upstreamError } from "../failure";
import { RpcError } from "../rpc";
import type { CertRequest } from "../rpc";
import { createApp } from "./app";

function app(handle: (r: CertRequest) => Promise<unknown>) {
  const lines: string[] = [];
  const a = createApp({ service: { handle: handle as never }, logger: createLogger({ write: (l) => lines.push(l) }), health: async () => ({ version: "t" }) });
  return { a, lines };
}
const post = (a: ReturnType<typeof app>["a"], body: string | Uint8Array<ArrayBuffer>, headers: Record<string, string> = {}) =>
  a.request("/odoo-enterprise/iot/x509", { method: "POST", body, headers: { "content-type": "application/json", ...headers } });
const ok = JSON.stringify({ jsonrpc: "2.0", method: "call", id: 4, params: { db_uuid: "u", enterprise_code: "c" } });

describe("http app", () => {
  test("a result is wrapped in the JSON-RPC reply, echoing the id", async () => {
    const { a } = app(async () => ({ kind: "issued", result: { subject_cn: "*.x.y", x509_pem: "P" } }));
    const r = await post(a, ok);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ jsonrpc: "2.0", id: 4, result: { subject_cn: "*.x.y", x509_pem: "P" } });
  });
  test("malformed JSON, bad params, non-UTF-8: 400 with a JSON-RPC error, the service not called", async () => {
    let called = 0;
    const { a } = app(async () => { called++; return {}; });
    for (const [body, code] of [["{", -32700], ["[]", -32600], ['{"params":{"db_uuid":"a\\u0001","enterprise_code":"c"}}', -32602]] as const) {
      const r = await post(a, body);
      expect(r.status).toBe(400);
      expect(((await r.json()) as { error: { code: number } }).error.code).toBe(code);
    }
    expect((await post(a, new Uint8Array([0x7b, 0xff, 0x7d]))).status).toBe(400);
    expect(called).toBe(0);
  });
  test("an oversized body: 413", async () => {
    const { a } = app(async () => ({}));
    const r = await post(a, JSON.stringify({ params: { db_uuid: "x".repeat(70_000) } }));
    expect(r.status).toBe(413);
    expect(await r.text()).toContain("larger than");
  });
  test("upstream trouble: 503 with Retry-After", async () => {
    const { a } = app(async () => { throw new UpstreamError("dnsimple", "DNSimple create record failed: HTTP 429", 60, 429); });
    const r = await post(a, ok);
    expect(r.status).toBe(503);
    expect(r.headers.get("retry-after")).toBe("60");
    expect(((await r.json()) as { error: { message: string } }).error.message).toContain("retry later");
  });
  test("an unexpected error: 500 without a stack trace in the reply", async () => {
    const { a, lines } = app(async () => { throw new TypeError("boom at secret place"); });
    const r = await post(a, ok);
    expect(r.status).toBe(500);
    const text = await r.text();
    expect(text).not.toContain("boom");
    expect(text).not.toContain(" at ");
    expect(lines.join("\n")).toContain("boom");
  });
  test("a client that stops sending mid-body: one info line, no error, the service not called", async () => {
    let called = 0;
    const { a, lines } = app(async () => { called++; return {}; });
    const body = new ReadableStream<Uint8Array>({
      start(c) { c.enqueue(new TextEncoder().encode('{"jsonrpc":')); },
      pull(c) { c.error(new DOMException("The connection was closed.", "AbortError")); },
    });
    const r = await a.request("/odoo-enterprise/iot/x509", { method: "POST", body, headers: { "content-type": "application/json" }, duplex: "half" } as RequestInit);
    expect(r.status).toBe(400);
    const logged = lines.map((l) => JSON.parse(l) as { level: string; msg: string });
    expect(logged.map((l) => `${l.level} ${l.msg}`)).toEqual(["info client went away"]);
    expect(called).toBe(0);
  });
  test("upstream failures name their class in the log; 429s add no line per request", async () => {
    const { a, lines } = app(async () => { throw upstreamError("acme", "ca_unreachable", "ACME order failed: connect ECONNREFUSED"); });
    const r = await post(a, ok);
    expect([r.status, r.headers.get("retry-after")]).toEqual([503, "60"]);
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: "warn", msg: "upstream failure", class: "ca_unreachable", retry_after_s: 60 });
    const limited = app(async () => { throw new RpcError(429, -32029, "Too many refused attempts; retry later.", 42); });
    const t = await post(limited.a, ok);
    expect([t.status, t.headers.get("retry-after")]).toEqual([429, "42"]);
    expect(limited.lines).toEqual([]);
  });
  test("health, wrong method, unknown path", async () => {
    const { a } = app(async () => ({}));
    expect(await (await a.request("/health")).json()).toEqual({ status: "ok", version: "t" });
    expect((await a.request("/odoo-enterprise/iot/x509")).status).toBe(405);
    expect((await a.request("/nope")).status).toBe(404);
  });
});
