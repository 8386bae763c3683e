/**
 * The one gate every request passes before any route sees it (HTTP and HTTPS alike):
 *  - a method the box does not implement → 405 with the `Allow` of that path (a 4xx: the
 *    client's mistake; Bun's own parser already closes the connection on method tokens it does
 *    not know at all: see SECURITY.md);
 *  - a missing or malformed Host → 400; a Host that is not the box's own → 421, so that no web
 *    page can reach the box under a name of its own (DNS rebinding). While the set-up access
 *    point is open, phones' connectivity checks (any name: the AP's DNS answers every name with
 *    the box) are sent to the Wi-Fi page with a redirect and nothing else;
 *  - a state-changing request from another origin, or from `Origin: null` → 403, except on the
 *    paths whose CORS the route itself decides (the POS API).
 * Pure: the request and the box's names in, a verdict out.
 */
import { problem } from "./problem";

export const IMPLEMENTED_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] as const;
const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);
const HOST_SHAPE = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(:\d{1,5})?$/;

export interface GateOptions {
  /** The box's own names and addresses, lowercase, IPv6 in brackets (no port). */
  ownHosts: () => ReadonlySet<string>;
  /** While the set-up access point is open: where phones' connectivity checks are sent. */
  captivePortal?: () => string | null;
  /** The methods a path answers (the route table), for `Allow`. */
  allowFor?: (path: string) => string[];
  /** Path prefixes whose cross-origin rules the route applies itself (CORS with an allow-list). */
  crossOriginPaths?: readonly string[];
}

export type Verdict = { ok: true; url: URL } | { ok: false; response: Response };

/** `host[:port]` as a browser would use it, or null when the header is not a valid Host. */
export function normaliseHost(header: string | null): { hostname: string; port: string } | null {
  if (header === null || header.length > 300 || !HOST_SHAPE.test(header)) return null;
  let u: URL;
  try { u = new URL(`http://${header}`); } catch { return null; }
  if (u.username || u.password || u.pathname !== "/" || u.search || u.hash) return null;
  return { hostname: u.hostname.replace(/\.$/, "").toLowerCase(), port: u.port };
}

export function checkRequest(req: Request, o: GateOptions): Verdict {
  const accept = req.headers.get("accept");
  const method = req.method;
  if (!(IMPLEMENTED_METHODS as readonly string[]).includes(method)) {
    let allow: string[] = [];
    try { allow = o.allowFor?.(new URL(req.url).pathname) ?? []; } catch {}
    const list = (allow.length ? allow : IMPLEMENTED_METHODS).join(", ");
    return { ok: false, response: problem(405, "method_not_allowed", `The method ${method.slice(0, 20)} is not used by this box; use ${list}.`, accept, { allow: list }) };
  }
  const host = normaliseHost(req.headers.get("host"));
  let url: URL | null = null;
  try { url = new URL(req.url); } catch {}
  if (!host || !url) return { ok: false, response: problem(400, "bad_host", "The request has no valid Host header.", accept) };
  if (!o.ownHosts().has(host.hostname)) {
    const portal = o.captivePortal?.() ?? null;
    if (portal && (method === "GET" || method === "HEAD")) return { ok: false, response: new Response(null, { status: 302, headers: { location: portal, "cache-control": "no-store" } }) };
    return { ok: false, response: problem(421, "not_this_box", "This box answers only to its own addresses and names.", accept) };
  }
  if (!SAFE.has(method) && !(o.crossOriginPaths ?? []).some((p) => url!.pathname === p || url!.pathname.startsWith(`${p}/`))) {
    const refusal = foreignOrigin(req, url);
    if (refusal) return { ok: false, response: problem(403, "cross_origin", refusal, accept) };
  }
  return { ok: true, url };
}

/** Why a state-changing request is refused as cross-site, or null when it comes from the box's own page. */
function foreignOrigin(req: Request, url: URL): string | null {
  const origin = req.headers.get("origin");
  if (origin !== null) {
    if (origin === "null") return "Forbidden: a request from an opaque origin (Origin: null).";
    let o: URL;
    try { o = new URL(origin); } catch { return "Forbidden: the Origin header is not an origin."; }
    if (o.origin !== url.origin) return "Forbidden: a request from another site.";
    return null;
  }
  // No Origin (an older browser, or a tool): a browser still says where the request came from.
  const site = req.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") return "Forbidden: a request from another site.";
  return null;
}
