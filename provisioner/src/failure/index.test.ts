import { describe, expect, test } from "bun:test";
import { classifyAcme, classifyDnsimple, networkCause, RETRY_AFTER_S } from ".";

const coded = (code: string, cause?: unknown) => Object.assign(new Error(code), { code, ...(cause ? { cause } : {}) });

describe("failure classes", () => {
  test("the network cause is found by code anywhere in the cause chain or an AggregateError", () => {
    expect(networkCause(coded("ECONNREFUSED"))).toBe("unreachable");
    expect(networkCause(new Error("wrapped", { cause: coded("ECONNREFUSED") }))).toBe("unreachable");
    expect(networkCause(new AggregateError([new Error("x"), coded("ETIMEDOUT")]))).toBe("timeout");
    expect(networkCause(coded("ECONNABORTED"))).toBe("timeout"); // axios's own timeout
    expect(networkCause(Object.assign(new Error("t"), { name: "TimeoutError" }))).toBe("timeout"); // AbortSignal.timeout
    expect(networkCause(coded("ENOTFOUND"))).toBe("dns");
    expect(networkCause(coded("DEPTH_ZERO_SELF_SIGNED_CERT"))).toBe("tls");
    expect(networkCause(coded("ERR_TLS_CERT_ALTNAME_INVALID"))).toBe("tls");
    expect(networkCause(new Error("Use POST-as-GET"))).toBe(null);
    const loop: { cause?: unknown } = {};
    loop.cause = loop;
    expect(networkCause(loop)).toBe(null); // bounded
  });

  test("the CA: down or slow → 60, refusing → 300, rate limit → its own Retry-After, else an order failure", () => {
    const table: Array<[unknown, Parameters<typeof classifyAcme>[1], string, number]> = [
      [coded("ECONNREFUSED"), null, "ca_unreachable", 60],
      [coded("ECONNABORTED"), null, "ca_timeout", 60],
      [coded("EAI_AGAIN"), null, "ca_dns", 60],
      [coded("CERT_HAS_EXPIRED"), null, "ca_tls", 300],
      [new Error("detail"), { status: 503 }, "ca_server_error", 60],
      [new Error("detail"), { status: 403, type: "urn:ietf:params:acme:error:unauthorized" }, "ca_refused", 300],
      [new Error("detail"), { status: 429, type: "urn:ietf:params:acme:error:rateLimited", retryAfterS: 1800 }, "ca_rate_limited", 1800],
      [new Error("detail"), { status: 429, type: "urn:ietf:params:acme:error:rateLimited" }, "ca_rate_limited", 3600],
      [new Error("authorization invalid"), null, "ca_order_failed", 300],
    ];
    for (const [e, problem, code, retry] of table) expect(classifyAcme(e, problem)).toEqual({ code: code as never, retryAfterS: retry });
  });

  test("DNSimple: credentials or a refused request need an operator; rate limits, 5xx and the network pass", () => {
    expect([401, 403, 404, 422, 429, 500, 502].map((s) => classifyDnsimple(s, null)))
      .toEqual(["dnsimple_auth", "dnsimple_auth", "dnsimple_refused", "dnsimple_refused", "dnsimple_rate_limited", "dnsimple_server_error", "dnsimple_server_error"]);
    expect(classifyDnsimple(undefined, coded("ECONNREFUSED"))).toBe("dnsimple_unreachable");
    expect(classifyDnsimple(undefined, Object.assign(new Error(), { name: "TimeoutError" }))).toBe("dnsimple_timeout");
    expect(classifyDnsimple(undefined, new Error("?"))).toBe("dnsimple_unreachable");
    expect([RETRY_AFTER_S.dnsimple_auth, RETRY_AFTER_S.dnsimple_rate_limited, RETRY_AFTER_S.dnsimple_server_error]).toEqual([300, 60, 30]);
  });
});
