// What went wrong upstream (the CA, DNSimple, the database), as a class with its Retry-After.
// Pure: an error (and, for the CA, the last problem document it sent) in, a class out. The
// class is what the log line says and what decides how long a box waits.

/** A network failure, found anywhere in an error's cause chain by its code. */
export type NetworkCause = "unreachable" | "timeout" | "dns" | "tls";

export type FailureClass =
  | "ca_unreachable" | "ca_timeout" | "ca_dns" | "ca_tls" | "ca_server_error" | "ca_rate_limited" | "ca_refused" | "ca_order_failed" | "ca_cooling_down"
  | "dnsimple_unreachable" | "dnsimple_timeout" | "dnsimple_dns" | "dnsimple_tls" | "dnsimple_auth" | "dnsimple_refused" | "dnsimple_rate_limited" | "dnsimple_server_error"
  | "database_unavailable" | "database_busy";

/** Seconds a box should wait, per class. A CA or DNS provider that is down or slow comes back on
 *  its own (soon); one that refuses, or a TLS/credential problem, needs an operator (later). */
export const RETRY_AFTER_S: Record<FailureClass, number> = {
  ca_unreachable: 60, ca_timeout: 60, ca_dns: 60, ca_server_error: 60,
  ca_tls: 300, ca_refused: 300, ca_order_failed: 300, ca_rate_limited: 3600, ca_cooling_down: 5,
  dnsimple_unreachable: 30, dnsimple_timeout: 30, dnsimple_dns: 30, dnsimple_server_error: 30, dnsimple_rate_limited: 60,
  dnsimple_tls: 300, dnsimple_auth: 300, dnsimple_refused: 300,
  database_unavailable: 30, database_busy: 5,
};

export type Upstream = "acme" | "dnsimple" | "database";

/** The CA, DNS provider or database failed; the box should come back after retryAfterS. */
export class UpstreamError extends Error {
  readonly code: FailureClass;
  constructor(readonly upstream: Upstream, message: string, readonly retryAfterS: number, readonly status?: number, code?: FailureClass) {
    super(message);
    this.code = code ?? (upstream === "acme" ? "ca_order_failed" : upstream === "dnsimple" ? "dnsimple_unreachable" : "database_unavailable");
  }
}

export function upstreamError(upstream: Upstream, code: FailureClass, message: string, opts: { status?: number; retryAfterS?: number } = {}) {
  return new UpstreamError(upstream, message, opts.retryAfterS ?? RETRY_AFTER_S[code], opts.status, code);
}

const UNREACHABLE = /^(ECONNREFUSED|ECONNRESET|EHOSTUNREACH|ENETUNREACH|EHOSTDOWN|ENETDOWN|EPIPE|EADDRNOTAVAIL|ERR_SOCKET_CLOSED|ERR_SOCKET_CONNECTION_TIMEOUT_NEVER|ConnectionRefused|ConnectionClosed|ECONNCLOSED)$/;
const TIMEOUT = /^(ETIMEDOUT|ECONNABORTED|ESOCKETTIMEDOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|ABORT_ERR|TimeoutError|ETIMEOUT)$/;
const DNS = /^(ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL|ENODATA|DNSException)$/;
const TLS = /^(ERR_TLS_.*|CERT_.*|UNABLE_TO_.*|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_SSL_.*|HOSTNAME_MISMATCH|ERR_TLS_CERT_ALTNAME_INVALID)$/;

/** The first network cause in `e`, its `cause` chain or an AggregateError's `errors` (depth-bounded). */
export function networkCause(e: unknown, depth = 0): NetworkCause | null {
  if (!e || typeof e !== "object" || depth > 6) return null;
  const x = e as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
  for (const tag of [x.code, x.name]) {
    if (typeof tag !== "string") continue;
    if (UNREACHABLE.test(tag)) return "unreachable";
    if (TIMEOUT.test(tag)) return "timeout";
    if (DNS.test(tag)) return "dns";
    if (TLS.test(tag)) return "tls";
  }
  for (const inner of [x.cause, ...(Array.isArray(x.errors) ? x.errors : [])]) {
    const found = networkCause(inner, depth + 1);
    if (found) return found;
  }
  return null;
}

/** A problem document (RFC 7807/8555 §6.7) or a bare error status the CA answered with. */
export interface CaProblem { status: number; type?: string; retryAfterS?: number }

export function classifyAcme(e: unknown, problem: CaProblem | null): { code: FailureClass; retryAfterS: number } {
  const net = networkCause(e);
  if (net) return withDefault(`ca_${net}`);
  if (problem) {
    if (problem.type?.endsWith(":rateLimited") || problem.status === 429) {
      return { code: "ca_rate_limited", retryAfterS: clamp(problem.retryAfterS ?? RETRY_AFTER_S.ca_rate_limited, 60, 86_400) };
    }
    if (problem.status >= 500 || problem.type?.endsWith(":serverInternal")) return withDefault("ca_server_error");
    return withDefault("ca_refused");
  }
  return withDefault("ca_order_failed");
}

export function classifyDnsimple(status: number | undefined, e: unknown): FailureClass {
  if (status === undefined) return `dnsimple_${networkCause(e) ?? "unreachable"}`;
  if (status === 401 || status === 403) return "dnsimple_auth";
  if (status === 429) return "dnsimple_rate_limited";
  if (status >= 500) return "dnsimple_server_error";
  return "dnsimple_refused";
}

const withDefault = (code: FailureClass) => ({ code, retryAfterS: RETRY_AFTER_S[code] });
const clamp = (n: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, Math.round(n)));
