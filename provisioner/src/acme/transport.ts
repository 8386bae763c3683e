// acme-client's shared axios instance, tuned for a box that waits at most 95 s, and made to say
// what went wrong. Installed by the issuer (never at import time), once per process.
//   - Its default retry (5 tries, 5–25 s apart) is cut to one retry 1 s later, with a timeout.
//   - acme-client 5.4.0 loses a network failure: once its retries are spent it calls
//     validateStatus(undefined) and throws "undefined is not an object (evaluating
//     'response.config')", so a closed CA port looked like a refusal. An interceptor placed
//     before acme-client's lets such an error through with its code (ECONNREFUSED, ETIMEDOUT…).
//   - A CA answer with a long Retry-After (a rate limit) is passed on rather than slept through.
//   - acme-client throws a plain Error with a problem document's `detail` only; the interceptor
//     keeps the last problem (status, type, Retry-After) in the order's context for classifyAcme.
import * as acme from "acme-client";
import { AsyncLocalStorage } from "node:async_hooks";
import type { CaProblem } from "../failure";

export interface CaCallContext { problem: CaProblem | null }
const callContext = new AsyncLocalStorage<CaCallContext>();

/** Runs `fn` (one order, or the account's creation) with its own record of the CA's last problem. */
export function withCaContext<T>(fn: (ctx: CaCallContext) => Promise<T>): Promise<T> {
  const ctx: CaCallContext = { problem: null };
  return callContext.run(ctx, () => fn(ctx));
}

interface AxiosLikeError { config?: { retryAttempt?: number }; code?: string; response?: { status: number; data?: unknown; headers?: Record<string, unknown> } }
interface AcmeSettings { retryMaxAttempts: number; retryDefaultDelay: number }
type Handler = { fulfilled: ((v: unknown) => unknown) | null; rejected: (e: unknown) => unknown; synchronous: boolean; runWhen: null };

let installed = false;
/** The longest Retry-After acme-client may wait for inside an order. */
const MAX_INLINE_WAIT_S = 2;

export function tuneAcmeTransport(requestTimeoutMs: number): void {
  const settings = (acme.axios.defaults as unknown as { acmeSettings: AcmeSettings }).acmeSettings;
  settings.retryMaxAttempts = 1;
  settings.retryDefaultDelay = 1;
  acme.axios.defaults.timeout = requestTimeoutMs;
  if (installed) return;
  installed = true;
  const handlers = (acme.axios.interceptors.response as unknown as { handlers: Handler[] }).handlers;
  handlers.unshift({ fulfilled: null, rejected: (e) => Promise.reject(inspect(e as AxiosLikeError, settings)), synchronous: false, runWhen: null });
}

/** acme-client makes axios reject every answer (validateStatus → false), so all pass here. */
function inspect(e: AxiosLikeError, settings: AcmeSettings): AxiosLikeError {
  const ctx = callContext.getStore();
  if (e?.response) {
    const problem = e.response.status >= 400 ? problemOf(e.response) : null;
    if (ctx) ctx.problem = problem;
    // acme-client would sleep for the CA's Retry-After (an hour, for a rate limit) while the box
    // waits: beyond a short wait, pass the answer on (the box is told to come back instead).
    if (problem && (problem.retryAfterS ?? 0) > MAX_INLINE_WAIT_S) e.config = undefined;
    return e;
  }
  // No answer at all: acme-client retries it unless it is a timeout or the retry is spent; in
  // those cases take away its config so acme-client passes the error on instead of crashing.
  const willRetry = e?.code !== "ECONNABORTED" && (e?.config?.retryAttempt ?? 0) < settings.retryMaxAttempts;
  if (e?.config && !willRetry) e.config = undefined;
  return e;
}

export function problemOf(r: { status: number; data?: unknown; headers?: Record<string, unknown> }, now = Date.now()): CaProblem {
  const type = r.data && typeof r.data === "object" ? (r.data as { type?: unknown }).type : undefined;
  const retryAfterS = parseRetryAfter(r.headers?.["retry-after"], now);
  return { status: r.status, ...(typeof type === "string" ? { type } : {}), ...(retryAfterS !== undefined ? { retryAfterS } : {}) };
}

function parseRetryAfter(v: unknown, now: number): number | undefined {
  if (typeof v !== "string" || !v.trim()) return undefined;
  if (/^\d+$/.test(v.trim())) return Number(v.trim());
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, Math.ceil((at - now) / 1000)) : undefined;
}
