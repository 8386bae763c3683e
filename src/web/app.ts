/**
 * The homepage and the local API (hono). Route tests call `app.request()`.
 */
import { Hono, type Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { validate } from "../config/schema";
import type { ConfigStore } from "../config/store";
import type { CertificateLifecycle } from "../cert/lifecycle";
import type { Logger } from "../log/index";
import { csrfGuard, type Auth } from "./auth";
import { WORDS, pickLang } from "./i18n";
import { homePage, loginPage, messagePage, settingsPage, type TerminalRow } from "./page";
import { buildStatus, type StatusSources } from "./status";

export interface WebDeps extends StatusSources {
  lifecycle: CertificateLifecycle;
  store: ConfigStore;
  auth: Auth;
  logger: Logger;
  restart: () => void;
  /** Extra sub-apps mounted under a path, each behind admin auth or not. */
  mounts?: Array<{ path: string; app: Hono; admin: boolean }>;
  terminals?: () => Promise<TerminalRow[]>;
  /** Wait briefly for fresh system facts (the homepage shows them). */
  freshFacts?: () => Promise<unknown>;
  clientAddress?: (c: Context) => string;
}

const MAX_FIELD = 2048;

export function createWebApp(d: WebDeps) {
  const app = new Hono();
  const client = (c: Context) => d.clientAddress?.(c) ?? "unknown";

  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse();
    d.logger.error("request failed", { path: c.req.path, error: err.message });
    return c.json({ error: "internal error" }, 500);
  });
  // Page hardening headers on the pages only: the JSON API is the hot path and needs none of them.
  const pageHeaders = async (c: Context, next: () => Promise<void>) => {
    await next();
    c.header("x-content-type-options", "nosniff");
    c.header("referrer-policy", "no-referrer");
    if (c.res.headers.get("content-type")?.startsWith("text/html")) {
      c.header("content-security-policy", "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; frame-ancestors 'none'");
      c.header("cache-control", "no-store");
    }
  };
  for (const p of ["/", "/settings", "/settings/*", "/login", "/logout"]) app.use(p, pageHeaders);

  // The status is polled by pages and tools: serialise it once per change (or 500 ms), not per request.
  const statusCache = new Map<string, { at: number; body: string }>();
  d.lifecycle.onChange(() => statusCache.clear());
  app.get("/api/status", (c) => {
    const lang = c.req.query("lang") === "es" ? "es" : "en";
    const t = performance.now();
    let hit = statusCache.get(lang);
    if (!hit || t - hit.at > 500) { hit = { at: t, body: JSON.stringify(buildStatus(d, lang)) }; statusCache.set(lang, hit); }
    return c.body(hit.body, 200, { "content-type": "application/json", "cache-control": "no-store" });
  });

  app.get("/", async (c) => {
    const lang = pickLang(c);
    // A check runs on every load. A quick one (nothing to fetch) is shown done; one that goes to
    // the network is shown running, and the page updates itself when it ends.
    await Promise.all([Promise.race([d.lifecycle.check("homepage"), Bun.sleep(60)]), d.freshFacts?.()]);
    const status = buildStatus(d, lang);
    const isHttps = new URL(c.req.url).protocol === "https:";
    const dnsTrouble = status.diagnostics.some((x) => x.code.startsWith("ERR_IOT_DNS_"));
    if (!isHttps && status.cert.url && !status.cert.code && !dnsTrouble && c.req.query("local") === undefined && (c.req.header("accept") ?? "").includes("text/html")) {
      const w = WORDS[lang];
      c.header("location", status.cert.url + "/");
      return c.html(messagePage(lang, `${w.redirectNote} ${status.cert.url} — ${w.noRedirect}: /?local`), 302);
    }
    const terms = d.terminals ? await d.terminals().catch(() => []) : null;
    return c.html(homePage(status, lang, terms));
  });

  app.post("/api/cert/check", async (c) => {
    const s = await d.lifecycle.check("cli");
    return c.json({ code: buildStatus(d).cert.code, checking: s.checking });
  });

  // ---- settings (admin) ----
  app.use("/settings/*", csrfGuard());
  app.use("/login", csrfGuard());
  app.use("/logout", csrfGuard());

  const requireAdmin = async (c: Context, next: () => Promise<void>) => {
    if (!d.auth.isAdmin(c)) return c.json({ error: "admin login required" }, 401);
    await next();
  };

  const field = (body: Record<string, unknown>, name: string): string => {
    const v = body[name];
    if (v === undefined) return "";
    if (typeof v !== "string") throw new HTTPException(400, { message: `${name} must be text` });
    if (v.length > MAX_FIELD) throw new HTTPException(400, { message: `${name} is too long` });
    return v;
  };

  const settingsView = () => {
    const cfg = d.store.get();
    return { dbUuid: cfg.dbUuid ?? "", hasEnterpriseCode: !!cfg.enterpriseCode, serverUrl: cfg.serverUrl ?? "", provisioningUrl: cfg.provisioningUrl, logLevel: cfg.logLevel };
  };
  const renderSettings = (c: Context, message?: { ok: boolean; text: string }, status = 200) =>
    c.html(settingsPage(pickLang(c), d.auth.csrfToken(c), settingsView(), message), status as 200);

  app.get("/settings", (c) => {
    const lang = pickLang(c);
    if (!d.auth.hasPassword()) return c.html(loginPage(lang, d.auth.csrfToken(c), "choose"));
    if (!d.auth.isAdmin(c)) return c.html(loginPage(lang, d.auth.csrfToken(c), "login"));
    return renderSettings(c);
  });

  app.post("/settings/password/initial", async (c) => {
    const lang = pickLang(c);
    if (d.auth.hasPassword()) return c.json({ error: "an admin password is already set" }, 409);
    const body = await c.req.parseBody();
    let pw: string;
    try { pw = validate.password(field(body, "password")); } catch (e) {
      if (e instanceof HTTPException) throw e;
      return c.html(loginPage(lang, d.auth.csrfToken(c), "choose", (e as Error).message), 400);
    }
    const hash = await Bun.password.hash(pw, { algorithm: "argon2id" });
    d.store.update((cfg) => { cfg.adminPasswordHash = hash; });
    d.logger.info("admin password chosen");
    d.auth.startSession(c);
    return c.redirect(`/settings?lang=${lang}`, 303);
  });

  app.post("/login", async (c) => {
    const lang = pickLang(c);
    const who = client(c);
    const wait = d.auth.lockedFor(who);
    if (wait > 0) {
      c.header("retry-after", String(wait));
      return c.html(loginPage(lang, d.auth.csrfToken(c), "login", `${WORDS[lang].tooMany} ${wait} ${WORDS[lang].seconds}.`), 429);
    }
    const body = await c.req.parseBody();
    if (await d.auth.verifyPassword(field(body, "password"))) {
      d.auth.clearFailures(who);
      d.auth.startSession(c);
      return c.redirect(`/settings?lang=${lang}`, 303);
    }
    d.auth.recordFailure(who);
    d.logger.warn("failed admin login", { client: who });
    return c.html(loginPage(lang, d.auth.csrfToken(c), "login", WORDS[lang].wrongPassword), 401);
  });

  app.post("/logout", (c) => { d.auth.endSession(c); return c.redirect("/", 303); });

  app.use("/settings/*", requireAdmin);
  app.use("/settings", requireAdmin);

  const saveForm = (names: string[], apply: (v: Record<string, string>) => void) => async (c: Context) => {
    const body = await c.req.parseBody();
    const v: Record<string, string> = {};
    for (const n of names) v[n] = field(body, n);
    try { apply(v); } catch (e) {
      if (e instanceof HTTPException) throw e;
      return renderSettings(c, { ok: false, text: (e as Error).message }, 400);
    }
    void d.lifecycle.check("settings");
    return renderSettings(c, { ok: true, text: WORDS[pickLang(c)].saved });
  };

  app.post("/settings/credential", saveForm(["db_uuid", "enterprise_code"], (v) => {
    const db = validate.dbUuid(v.db_uuid!);
    const code = v.enterprise_code ? validate.enterpriseCode(v.enterprise_code) : null;
    d.logger.redact(code);
    d.store.update((cfg) => { cfg.dbUuid = db; if (code) cfg.enterpriseCode = code; });
    d.logger.info("credential changed", { db_uuid: db });
  }));
  app.post("/settings/server", saveForm(["server_url", "provisioning_url"], (v) => {
    const server = v.server_url ? validate.url(v.server_url, "the server URL") : null;
    const prov = v.provisioning_url ? validate.url(v.provisioning_url, "the certificate service URL", true) : null;
    d.store.update((cfg) => { cfg.serverUrl = server; if (prov) cfg.provisioningUrl = prov; });
    d.logger.info("server changed", { server_url: server, provisioning_url: prov });
  }));
  app.post("/settings/log-level", saveForm(["log_level"], (v) => {
    const level = validate.logLevel(v.log_level!);
    d.store.update((cfg) => { cfg.logLevel = level; });
    d.logger.setLevel(level);
  }));
  app.post("/settings/password", async (c) => {
    const body = await c.req.parseBody();
    let pw: string;
    try { pw = validate.password(field(body, "password")); } catch (e) {
      if (e instanceof HTTPException) throw e;
      return renderSettings(c, { ok: false, text: (e as Error).message }, 400);
    }
    const hash = await Bun.password.hash(pw, { algorithm: "argon2id" });
    d.store.update((cfg) => { cfg.adminPasswordHash = hash; });
    d.logger.info("admin password changed");
    return renderSettings(c, { ok: true, text: WORDS[pickLang(c)].saved });
  });
  app.get("/settings/logs", (c) => {
    const cfg = d.store.get();
    const safeConfig = { ...cfg, enterpriseCode: cfg.enterpriseCode ? "[redacted]" : null, adminPasswordHash: cfg.adminPasswordHash ? "[redacted]" : null, sessionSecret: "[redacted]", wifi: cfg.wifi ? { ...cfg.wifi, password: "[redacted]" } : null };
    const text = [
      `# iotbox log bundle: box ${cfg.boxId}, version ${d.version}, ${new Date().toISOString()}`,
      "# status", JSON.stringify(buildStatus(d), null, 2),
      "# configuration (secrets redacted)", JSON.stringify(safeConfig, null, 2),
      "# recent log lines", ...d.logger.recent(),
    ].join("\n") + "\n";
    // One last pass: known secret values never leave the box, whatever a line holds.
    const scrubbed = [cfg.enterpriseCode, cfg.wifi?.password].filter((x): x is string => !!x && x.length >= 4)
      .reduce((t, s) => t.split(s).join("[redacted]"), text);
    c.header("content-disposition", `attachment; filename="iotbox-logs-${cfg.boxId}.txt"`);
    return c.body(scrubbed, 200, { "content-type": "text/plain; charset=utf-8" });
  });
  app.post("/settings/restart", (c) => {
    d.logger.info("restart requested from the settings");
    setTimeout(() => d.restart(), 300);
    return c.html(messagePage(pickLang(c), WORDS[pickLang(c)].restarting));
  });

  for (const m of d.mounts ?? []) {
    if (m.admin) { app.use(`${m.path}/*`, requireAdmin); app.use(`${m.path}/*`, csrfGuard()); }
    app.route(m.path, m.app);
  }
  return app;
}
