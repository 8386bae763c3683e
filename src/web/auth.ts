/**
 * Admin authentication for the settings: a password (argon2id hash in the config), a signed
 * session cookie, CSRF protection (a per-browser token in a SameSite=Strict cookie that every
 * form must echo, plus an Origin check), and a rate limit on failed logins.
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "iotbox_session";
export const CSRF_COOKIE = "iotbox_csrf";
const SESSION_MS = 8 * 3600_000;

const sign = (secret: string, data: string) => createHmac("sha256", secret).update(data).digest("base64url");
const safeEq = (a: string, b: string) => { const x = Buffer.from(a), y = Buffer.from(b); return x.length === y.length && timingSafeEqual(x, y); };
const isHttps = (c: Context) => new URL(c.req.url).protocol === "https:";

export function createAuth(o: { secret: () => string; passwordHash: () => string | null; now?: () => number }) {
  const now = o.now ?? Date.now;
  const failures = new Map<string, number[]>();
  const WINDOW = 5 * 60_000, MAX_FAILS = 5;

  return {
    hasPassword: () => !!o.passwordHash(),
    async verifyPassword(pw: string): Promise<boolean> {
      const h = o.passwordHash();
      if (!h) return false;
      try { return await Bun.password.verify(pw, h); } catch { return false; }
    },
    /** Seconds to wait if this client failed too often, else 0. */
    lockedFor(client: string): number {
      const t = now();
      const list = (failures.get(client) ?? []).filter((x) => t - x < WINDOW);
      failures.set(client, list);
      return list.length >= MAX_FAILS ? Math.ceil((list[0]! + WINDOW - t) / 1000) : 0;
    },
    recordFailure(client: string) { const l = failures.get(client) ?? []; l.push(now()); failures.set(client, l); },
    clearFailures(client: string) { failures.delete(client); },
    startSession(c: Context) {
      const exp = now() + SESSION_MS;
      const id = randomBytes(12).toString("base64url");
      const value = `${id}.${exp}.${sign(o.secret(), `${id}.${exp}`)}`;
      setCookie(c, SESSION_COOKIE, value, { httpOnly: true, sameSite: "Strict", secure: isHttps(c), path: "/", maxAge: SESSION_MS / 1000 });
    },
    endSession(c: Context) { deleteCookie(c, SESSION_COOKIE, { path: "/" }); },
    isAdmin(c: Context): boolean {
      const v = getCookie(c, SESSION_COOKIE);
      if (!v) return false;
      const [id, exp, mac] = v.split(".");
      if (!id || !exp || !mac || !safeEq(mac, sign(o.secret(), `${id}.${exp}`))) return false;
      return Number(exp) > now();
    },
    /** The CSRF token of this browser, set on first sight. */
    csrfToken(c: Context): string {
      let t = getCookie(c, CSRF_COOKIE);
      if (!t || !/^[A-Za-z0-9_-]{20,64}$/.test(t)) {
        t = randomBytes(24).toString("base64url");
        setCookie(c, CSRF_COOKIE, t, { httpOnly: true, sameSite: "Strict", secure: isHttps(c), path: "/" });
      }
      return t;
    },
  };
}
export type Auth = ReturnType<typeof createAuth>;

/** Rejects state-changing requests whose form token does not match the cookie, or that come from another origin. */
export function csrfGuard(): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "OPTIONS") return next();
    const origin = c.req.header("origin");
    if (origin && origin !== "null" && new URL(origin).host !== new URL(c.req.url).host) return c.text("Forbidden: cross-site request", 403);
    const cookie = getCookie(c, CSRF_COOKIE);
    const ctype = c.req.header("content-type") ?? "";
    let sent: string | undefined;
    if (ctype.includes("application/x-www-form-urlencoded") || ctype.includes("multipart/form-data")) {
      const body = await c.req.parseBody();
      sent = typeof body._csrf === "string" ? body._csrf : undefined;
    } else {
      sent = c.req.header("x-csrf-token");
    }
    if (!cookie || !sent || !safeEq(cookie, sent)) return c.text("Forbidden: the form expired, reload the page and try again", 403);
    return next();
  };
}
