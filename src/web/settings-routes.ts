/**
 * The settings (admin): login and logout, the first password, the forms, the log bundle and
 * restart. Mounted behind the HTTPS-only rule and the CSRF guard (see app.ts); every route but
 * the login forms needs a live session.
 */
import { Hono, type Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { validate } from "../config/schema";
import { WORDS, pickLang } from "./i18n";
import { lockedPage, loginPage, messagePage, settingsPage } from "./page";
import { buildStatus, odooView } from "./status";
import { describeOdoo, ODOO_WORDS } from "../odoo/codes";
import { field, readForm } from "./body";
import { logBundle } from "./log-bundle";
import { clientOf } from "./home-routes";
import type { WebDeps } from "./app";
import { addUpdateRoutes } from "./update-routes";

export function createSettingsRoutes(d: WebDeps): Hono {
  const app = new Hono();
  const requireAdmin = async (c: Context, next: () => Promise<void>) => {
    if (!d.auth.isAdmin(c)) {
      if (c.req.method === "GET" && (c.req.header("accept") ?? "").includes("text/html")) return c.redirect(`/settings?lang=${pickLang(c)}`, 303);
      return c.json({ error: { code: "login_required", message: "Log in to the settings first." } }, 401);
    }
    await next();
  };

  const settingsView = () => {
    const cfg = d.store.get();
    return { dbUuid: cfg.dbUuid ?? "", hasEnterpriseCode: !!cfg.enterpriseCode, serverUrl: cfg.serverUrl ?? "", provisioningUrl: cfg.provisioningUrl, logLevel: cfg.logLevel };
  };
  const renderSettings = (c: Context, message?: { ok: boolean; text: string }, status = 200) =>
    c.html(settingsPage(pickLang(c), d.auth.csrfToken(c), { ...settingsView(), odoo: odooView(d, pickLang(c)) }, message), status as 200);
  const loginView = (c: Context, mode: "login" | "choose", message?: string, status = 200) =>
    c.html(loginPage(pickLang(c), d.auth.csrfToken(c), mode, message), status as 200);

  app.get("/settings", (c) => {
    const state = d.auth.state();
    if (state === "locked") return c.html(lockedPage(pickLang(c), d.lockedReason?.() ?? null), 403);
    if (state === "open") return loginView(c, "choose");
    if (!d.auth.isAdmin(c)) return loginView(c, "login");
    return renderSettings(c);
  });

  app.post("/settings/password/initial", async (c) => {
    if (d.auth.state() !== "open") return c.json({ error: { code: "password_exists", message: "An admin password is already set." } }, 409);
    const body = await readForm(c);
    let pw: string;
    try { pw = validate.password(field(body, "password")); } catch (e) {
      if (e instanceof HTTPException) throw e;
      return loginView(c, "choose", (e as Error).message, 400);
    }
    // Two visitors at once: the first one stored wins, the other is told a password exists.
    if (!(await d.auth.setPassword(pw, true))) return c.json({ error: { code: "password_exists", message: "An admin password is already set." } }, 409);
    d.logger.info("admin password chosen");
    d.auth.startSession(c);
    return c.redirect(`/settings?lang=${pickLang(c)}`, 303);
  });

  app.post("/login", async (c) => {
    const lang = pickLang(c);
    if (d.auth.state() !== "set") return c.redirect(`/settings?lang=${lang}`, 303);
    const who = clientOf(d, c);
    const body = await readForm(c);
    const outcome = await d.auth.login(who, field(body, "password"));
    if (outcome.ok) { d.auth.startSession(c); return c.redirect(`/settings?lang=${lang}`, 303); }
    if ("lockedForS" in outcome) {
      c.header("retry-after", String(outcome.lockedForS));
      return loginView(c, "login", `${WORDS[lang].tooMany} ${outcome.lockedForS} ${WORDS[lang].seconds}.`, 429);
    }
    d.logger.warn("failed admin login", { client: who });
    return loginView(c, "login", WORDS[lang].wrongPassword, 401);
  });

  app.post("/logout", (c) => { d.auth.endSession(c); return c.redirect(`/?lang=${pickLang(c)}`, 303); });

  app.use("/settings/*", requireAdmin);
  addUpdateRoutes(app, d);

  const saveForm = (names: string[], apply: (v: Record<string, string>) => void) => async (c: Context) => {
    const body = await readForm(c);
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
  // A password change proves the current password (counted like a login) and ends every session;
  // the browser that made it gets a new one.
  app.post("/settings/password", async (c) => {
    const lang = pickLang(c);
    const body = await readForm(c);
    const current = field(body, "current_password");
    let pw: string;
    try { pw = validate.password(field(body, "password")); } catch (e) {
      if (e instanceof HTTPException) throw e;
      return renderSettings(c, { ok: false, text: (e as Error).message }, 400);
    }
    const outcome = await d.auth.login(clientOf(d, c), current);
    if (!outcome.ok) {
      if ("lockedForS" in outcome) c.header("retry-after", String(outcome.lockedForS));
      return renderSettings(c, { ok: false, text: "lockedForS" in outcome ? `${WORDS[lang].tooMany} ${outcome.lockedForS} ${WORDS[lang].seconds}.` : WORDS[lang].wrongCurrentPassword }, "lockedForS" in outcome ? 429 : 403);
    }
    await d.auth.setPassword(pw);
    d.logger.info("admin password changed; every session ended");
    d.auth.startSession(c);
    return renderSettings(c, { ok: true, text: WORDS[lang].saved });
  });
  // The database connection (src/odoo): a pasted token is tried at the database before anything
  // is saved; what went wrong is shown with its code. The token never comes back in a page.
  app.post("/settings/connect", async (c) => {
    const lang = pickLang(c);
    if (!d.odooLink) return c.json({ error: { code: "not_available", message: "This box has no database link." } }, 404);
    const body = await readForm(c);
    const outcome = await d.odooLink.connect(field(body, "token"));
    if (!outcome.ok) {
      const t = describeOdoo(outcome.code, lang);
      return renderSettings(c, { ok: false, text: `${outcome.code}: ${t.meaning} ${outcome.detail ? `(${outcome.detail})` : ""} ${t.remedy}` }, outcome.code === "ERR_IOT_ODOO_TOKEN_INVALID" ? 400 : 422); // never a 5xx: the box itself is fine
    }
    return renderSettings(c, { ok: true, text: ODOO_WORDS[lang].connectedOk });
  });
  app.post("/settings/disconnect", async (c) => {
    await readForm(c);
    d.odooLink?.disconnect();
    return renderSettings(c, { ok: true, text: ODOO_WORDS[pickLang(c)].disconnected });
  });
  app.get("/settings/logs", (c) => {
    const b = logBundle(d);
    c.header("content-disposition", `attachment; filename="${b.filename}"`);
    c.header("cache-control", "no-store");
    return c.body(b.text, 200, { "content-type": "text/plain; charset=utf-8" });
  });
  app.post("/settings/restart", (c) => {
    d.logger.info("restart requested from the settings");
    setTimeout(() => d.restart(), 300);
    return c.html(messagePage(pickLang(c), WORDS[pickLang(c)].restarting));
  });
  return app;
}
