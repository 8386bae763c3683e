/**
 * The open part of the box: the homepage, `GET /api/status`, `POST /api/cert/check`. Anyone on
 * the LAN may call them; none of them needs or shows a secret, and together they can make the
 * box ask the certificate service at most once a minute (the lifecycle's "homepage"/"visitor"
 * triggers), a check already running is shared.
 */
import { Hono, type Context } from "hono";
import { pickLang } from "./i18n";
import { homePage } from "./page";
import { buildStatus } from "./status";
import { nameCheckCsp } from "./name-check";
import type { WebDeps } from "./app";

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

export function createHomeRoutes(d: WebDeps): Hono {
  const app = new Hono();

  // The status is polled by pages and tools: serialise it once per change (or 500 ms), not per request.
  const statusCache = new Map<string, { at: number; body: string }>();
  d.lifecycle.onChange(() => statusCache.clear());
  app.get("/api/status", (c) => {
    d.onVisit?.();
    const lang = c.req.query("lang") === "es" ? "es" : "en";
    const t = performance.now();
    let hit = statusCache.get(lang);
    if (!hit || t - hit.at > 500) { hit = { at: t, body: JSON.stringify(buildStatus(d, lang)) }; statusCache.set(lang, hit); }
    return c.body(hit.body, 200, { "content-type": "application/json", "cache-control": "no-store" });
  });

  app.get("/", async (c) => {
    d.onVisit?.();
    const lang = pickLang(c);
    // A check runs on every load. A quick one (nothing to fetch) is shown done; one that goes to
    // the network is shown running, and the page updates itself when it ends.
    await Promise.all([Promise.race([d.lifecycle.check("homepage"), Bun.sleep(60)]), d.freshFacts?.()]);
    const status = buildStatus(d, lang);
    const isHttps = c.req.url.startsWith("https:");
    const dnsTrouble = status.diagnostics.some((x) => x.code.startsWith("ERR_IOT_DNS_"));
    // With a trusted certificate, a browser on the IP page goes on to the HTTPS name, but only once
    // this device has reached the name (the page's name check): a device that cannot resolve it
    // stays here and is told why, instead of landing on a browser error. `/?local` stays.
    const go = !isHttps && !!status.cert.url && !status.cert.code && !dnsTrouble && c.req.query("local") === undefined && (c.req.header("accept") ?? "").includes("text/html");
    const terms = d.terminals ? await d.terminals().catch(() => []) : null;
    const csp = nameCheckCsp(status.cert.url); // the page fetches the HTTPS name from this browser (name-check.ts)
    if (csp) c.header("content-security-policy", csp);
    const admin = isHttps && d.auth.isAdmin(c) ? { csrf: d.auth.csrfToken(c) } : null;
    return c.html(homePage(status, lang, terms, { goToName: go, admin }));
  });

  // The CLI on the box (`iotbox cert`, from loopback) checks now; anyone else gets the shared,
  // rate-limited check of the homepage.
  app.post("/api/cert/check", async (c) => {
    const local = LOOPBACK.test(clientOf(d, c));
    const s = await d.lifecycle.check(local ? "cli" : "visitor");
    return c.json({ code: buildStatus(d).cert.code, checking: s.checking });
  });
  return app;
}

export const clientOf = (d: Pick<WebDeps, "clientAddress">, c: Context) => d.clientAddress?.(c) ?? "unknown";
