/**
 * The Wi-Fi set-up page served on the access point (a hono sub-app the runtime mounts). Once an
 * admin password is set, every route needs an admin session (injected `isAdmin`). Phones'
 * captive-portal probes are redirected to the page so that joining IoTBox-<id> opens it.
 * Every SSID shown is HTML-escaped by hono's `html` template.
 */
import { Hono, type Context } from "hono";
import { html } from "hono/html";
import type { NetworkSupervisor } from "./supervisor";

export interface SetupAppOptions {
  supervisor: Pick<NetworkSupervisor, "scan" | "configureWifi" | "state">;
  /** True when the request carries an admin session. */
  isAdmin: (c: Context) => boolean | Promise<boolean>;
  /** True once an admin password has been chosen; before that the page is open (first set-up). */
  hasPassword: () => boolean;
  /** The per-browser CSRF token the runtime's guard checks (`_csrf` form field), if it uses one. */
  csrfToken?: (c: Context) => string;
  loginUrl?: string;
  /** Where the runtime mounts this app (captive-portal probes are redirected there). */
  basePath?: string;
}

const CAPTIVE_PROBES = ["/generate_204", "/gen_204", "/hotspot-detect.html", "/library/test/success.html", "/connecttest.txt", "/ncsi.txt", "/canonical.html", "/success.txt"];

const page = (body: unknown) => html`<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>IoT box Wi-Fi</title>
<style>body{font-family:sans-serif;max-width:30rem;margin:1rem auto;padding:0 1rem}label,input,select,button{display:block;width:100%;margin:.4rem 0;font-size:1.1rem}.err{color:#b00}.ok{color:#070}</style></head><body>${body}</body></html>`;

/** True when `origin` is the page's own origin; a malformed or opaque ("null") origin is not. */
function sameOrigin(origin: string, url: string): boolean {
  try { return new URL(origin).origin === new URL(url).origin; } catch { return false; }
}

export function createSetupApp(o: SetupAppOptions): Hono {
  const app = new Hono();
  const base = o.basePath ?? "/";

  app.use("*", async (c, next) => {
    if (o.hasPassword() && !(await o.isAdmin(c))) {
      return c.html(page(html`<h1>Admin password required</h1><p>Log in to change the Wi-Fi settings.</p>${o.loginUrl ? html`<p><a href="${o.loginUrl}">Log in</a></p>` : ""}`), 401);
    }
    if (c.req.method === "POST") {
      const origin = c.req.header("origin");
      if (origin !== undefined && !sameOrigin(origin, c.req.url)) return c.text("Forbidden: cross-site request", 403);
    }
    return next();
  });

  for (const p of CAPTIVE_PROBES) app.get(p, (c) => c.redirect(base, 302));

  const form = async (c: Context, message?: { ok: boolean; text: string }, status = 200) => {
    const nets = await o.supervisor.scan();
    const st = o.supervisor.state();
    return c.html(page(html`<h1>Wi-Fi for the IoT box</h1>
<p>Mode: ${st.mode === "ap" ? "access point (set-up)" : "client"}${st.ssid ? html`, network ${st.ssid}` : ""}</p>
${message ? html`<p class="${message.ok ? "ok" : "err"}">${message.text}</p>` : ""}
<form method="post">
${o.csrfToken ? html`<input type="hidden" name="_csrf" value="${o.csrfToken(c)}">` : ""}
<label>Network <select name="ssid">${nets.map((n) => html`<option value="${n.ssid}">${n.ssid} (${n.signal}%${n.secure ? ", secured" : ""})</option>`)}</select></label>
<label>Or type its name <input name="ssid_other" maxlength="64" autocomplete="off"></label>
<label>Password <input name="password" type="password" maxlength="64" autocomplete="off"></label>
<button type="submit">Connect</button></form>`), status as 200);
  };

  app.get("/", (c) => form(c));
  app.get("/networks.json", async (c) => c.json(await o.supervisor.scan()));
  app.post("/", async (c) => {
    const body = await c.req.parseBody();
    const other = typeof body.ssid_other === "string" ? body.ssid_other : "";
    const ssid = other !== "" ? other : typeof body.ssid === "string" ? body.ssid : "";
    const password = typeof body.password === "string" ? body.password : "";
    const r = await o.supervisor.configureWifi(ssid, password);
    return r.ok ? form(c, { ok: true, text: `Connected to ${ssid}. The box now leaves its access point.` })
      : form(c, { ok: false, text: r.error }, 400);
  });
  return app;
}
