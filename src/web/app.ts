/**
 * The homepage and the local API (hono), composed from small apps: the open part
 * (home-routes.ts), the settings (settings-routes.ts) and the sub-apps the runtime mounts
 * (payment terminals, POS, Wi-Fi set-up). This file holds the rules they share: one error
 * mapping (a client's mistake is a 4xx, a 5xx is a bug of ours), 405 with `Allow`, the page
 * headers, and administration only over HTTPS. Route tests call `app.request()`; the Host and
 * Origin rules run before this app, in gate.ts.
 */
import { Hono, type Context, type MiddlewareHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ConfigStore } from "../config/store";
import type { CertificateLifecycle } from "../cert/lifecycle";
import type { Logger } from "../log/index";
import { csrfGuard, isHttps, type Auth } from "./auth";
import { createHomeRoutes } from "./home-routes";
import { createSettingsRoutes } from "./settings-routes";
import { problem } from "./problem";
import { httpsUrl, type StatusSources } from "./status";
import type { TerminalRow } from "./page";
import type { OdooLink } from "../odoo/index";
import type { Updater } from "../update/index";

export interface Mount {
  path: string;
  app: Hono<any>;
  /** Behind the admin session and its CSRF token. */
  admin: boolean;
  /** Served only over HTTPS (default: when `admin`). */
  httpsOnly?: () => boolean;
}

export interface WebDeps extends StatusSources {
  lifecycle: CertificateLifecycle;
  store: ConfigStore;
  auth: Auth;
  logger: Logger;
  restart: () => void;
  mounts?: Mount[];
  terminals?: () => Promise<TerminalRow[]>;
  /** Wait briefly for fresh system facts (the homepage shows them). */
  freshFacts?: () => Promise<unknown>;
  clientAddress?: (c: Context) => string;
  /** Why the settings are locked (the admin password was lost), for the settings page. */
  lockedReason?: () => string | null;
  /** Someone opened the homepage or asked /api/status (the diagnosis re-checks, at most once per 30 s). */
  onVisit?: () => void;
  /** Connect to / disconnect from the database (src/odoo): the settings' Connect card. */
  odooLink?: Pick<OdooLink, "connect" | "disconnect" | "secrets">;
  /** System updates (src/update): the admin's Update now / Hold / Resume. */
  updater?: Pick<Updater, "check" | "hold" | "resume">;
}

const ADMIN_PATHS = ["/settings", "/settings/*", "/login", "/logout"];

export function createWebApp(d: WebDeps) {
  // `strict: false`: "/api/terminals/" is "/api/terminals" (the settings page's own script asks for the former).
  const app = new Hono({ strict: false });
  app.onError(errorResponse(d.logger));
  app.notFound(notFoundOrNotAllowed(() => app.routes));
  app.use("*", pageHeaders);
  app.use("*", bodiesAreTheClients);

  for (const p of ADMIN_PATHS) app.use(p, httpsOnly(d, () => true));
  for (const p of ["/settings/*", "/login", "/logout"]) app.use(p, csrfGuard(d.auth));
  for (const m of d.mounts ?? []) {
    const only = m.httpsOnly ?? (() => m.admin);
    app.use(m.path === "/" ? "*" : `${m.path}/*`, httpsOnly(d, only));
    if (m.path !== "/") app.use(m.path, httpsOnly(d, only));
    if (m.admin) {
      app.use(`${m.path}/*`, requireAdmin(d.auth));
      app.use(`${m.path}/*`, csrfGuard(d.auth));
    }
  }

  app.route("/", createHomeRoutes(d));
  app.route("/", createSettingsRoutes(d));
  for (const m of d.mounts ?? []) app.route(m.path, m.app);
  return app;
}

/** The one mapping from errors to responses: HTTPException keeps its status; anything else is our bug. */
export function errorResponse(logger: Logger) {
  return (err: Error, c: Context) => {
    if (err instanceof HTTPException) {
      if (err.status >= 500) logger.error("request failed", { path: c.req.path, status: err.status, error: err.message });
      return problem(err.status, `http_${err.status}`, err.message || "The request could not be handled.", c.req.header("accept"));
    }
    logger.error("request failed", { path: c.req.path, error: err.message });
    return problem(500, "internal", "Internal error: this is a bug of the box; the log has the details.", c.req.header("accept"));
  };
}

/** Hono's route table turned into "which methods does this path have?", for 405 + Allow. */
export function allowedMethods(routes: ReadonlyArray<{ method: string; path: string }>, rawPath: string): string[] {
  const path = rawPath.length > 1 ? rawPath.replace(/\/+$/, "") || "/" : rawPath;   // not strict about a trailing slash, as the router
  const out = new Set<string>();
  for (const r of compiledRoutes(routes)) if (r.re.test(path)) out.add(r.method);
  if (out.has("GET")) out.add("HEAD");
  return [...out].sort();
}

// The route table is fixed once the app is built: its patterns are compiled once (a flood of 404s
// must not compile every route's pattern per request).
const compiled = new WeakMap<object, { from: number; list: Array<{ method: string; re: RegExp }> }>();
function compiledRoutes(routes: ReadonlyArray<{ method: string; path: string }>) {
  let c = compiled.get(routes);
  if (!c || c.from !== routes.length) {
    c = { from: routes.length, list: routes.filter((r) => r.method !== "ALL").map((r) => ({ method: r.method,
      re: new RegExp(`^${r.path.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\/:[A-Za-z0-9_]+/g, "/[^/]+").replace(/\*/g, ".*")}$`) })) };
    compiled.set(routes, c);
  }
  return c.list;
}

function notFoundOrNotAllowed(routes: () => ReadonlyArray<{ method: string; path: string }>) {
  return (c: Context) => {
    const allow = allowedMethods(routes(), c.req.path);
    if (allow.length && !allow.includes(c.req.method)) {
      return problem(405, "method_not_allowed", `${c.req.method} is not allowed here; use ${allow.join(", ")}.`, c.req.header("accept"), { allow: allow.join(", ") });
    }
    return problem(404, "not_found", "There is no such page on this box.", c.req.header("accept"));
  };
}

/**
 * A body the box cannot parse is the client's mistake, whichever route (or mounted sub-app) reads
 * it: every parse through this request becomes a 400 on failure, never an exception that
 * reaches the error handler as a 500.
 */
const bodiesAreTheClients: MiddlewareHandler = async (c, next) => {
  if (c.req.method === "GET" || c.req.method === "HEAD") return next();   // no body to read (the polled status)
  const req = c.req as unknown as Record<"parseBody" | "json" | "formData" | "arrayBuffer" | "text", (...a: unknown[]) => Promise<unknown>>;
  for (const name of ["parseBody", "json", "formData", "arrayBuffer", "text"] as const) {
    const original = req[name].bind(c.req);
    req[name] = async (...a: unknown[]) => {
      try { return await original(...a); } catch (e) {
        if (e instanceof HTTPException) throw e;
        throw new HTTPException(400, { message: name === "json" ? "The body is not valid JSON." : "The request body could not be read." });
      }
    };
  }
  await next();
};

const pageHeaders: MiddlewareHandler = async (c, next) => {
  await next();
  c.header("x-content-type-options", "nosniff");
  // same-origin, not no-referrer: under no-referrer Chromium sends `Origin: null` with a form's
  // POST, which the gate refuses as opaque (no login from a real browser). Other sites still get
  // no referrer. (test/browser/settings.test.ts logs in with Chromium.)
  c.header("referrer-policy", "same-origin");
  if (c.res.headers.get("content-type")?.startsWith("text/html") && !c.res.headers.has("content-security-policy")) {
    c.header("content-security-policy", "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'");
    c.header("cache-control", "no-store");
  }
};

/**
 * Administration never crosses the LAN in clear: over HTTP a page is redirected to HTTPS (the
 * box's trusted name when it has one, else the same address with the placeholder certificate),
 * and anything else is refused before it is read.
 */
function httpsOnly(d: Pick<WebDeps, "lifecycle" | "httpsPort">, applies: () => boolean): MiddlewareHandler {
  return async (c, next) => {
    if (isHttps(c) || !applies()) return next();
    const u = new URL(c.req.url);
    const port = d.httpsPort();
    const base = httpsUrl(d as StatusSources) ?? `https://${u.hostname}${port === 443 ? "" : `:${port}`}`;
    const target = `${base}${u.pathname}${u.search}`;
    if (c.req.method === "GET" || c.req.method === "HEAD") return c.redirect(target, 308);
    return problem(403, "https_required", `Administration is only over HTTPS: open ${target}`, c.req.header("accept"), { location: target });
  };
}

function requireAdmin(auth: Auth): MiddlewareHandler {
  return async (c, next) => {
    if (!auth.isAdmin(c)) return c.json({ error: { code: "login_required", message: "Log in to the settings first." } }, 401);
    await next();
  };
}
