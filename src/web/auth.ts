/**
 * Admin authentication for the settings. The password's hash lives in the credential store
 * (`src/admin/credentials.ts`), sessions are server-side records (`src/admin/sessions.ts`)
 * whose id travels in a `__Host-` cookie that only HTTPS can set, and each session has its own
 * CSRF token. Before a session exists (the login form, the first password) a per-browser token
 * in a SameSite=Strict cookie is echoed by the form. The Origin of every state-changing request
 * is checked once, in the gate (`gate.ts`).
 */
import type { Context, MiddlewareHandler } from "hono";
import { getCookie, setCookie, deleteCookie } from "hono/cookie";
import { randomBytes, timingSafeEqual } from "node:crypto";
import type { Credentials } from "../admin/credentials";
import { createLoginLimit, type LoginLimit } from "../admin/login-limit";
import { createSessions, type Session, type Sessions } from "../admin/sessions";
import { readForm } from "./body";
import { hashPassword } from "../admin/password";

export const SESSION_COOKIE = "__Host-iotbox_session";
export const CSRF_COOKIE = "iotbox_csrf";

const safeEq = (a: string, b: string) => { const x = Buffer.from(a), y = Buffer.from(b); return x.length === y.length && timingSafeEqual(x, y); };
export const isHttps = (c: Context) => c.req.url.startsWith("https:");

export type LoginOutcome = { ok: true } | { ok: false; lockedForS: number } | { ok: false; wrong: true };

export interface AuthOptions {
  credentials: Pick<Credentials, "state" | "hash" | "setHash">;
  sessions?: Sessions;
  loginLimit?: LoginLimit;
  /** How many argon2 checks may run at once (each holds ~64 MiB for a moment). */
  maxParallelChecks?: number;
}

export function createAuth(o: AuthOptions) {
  const sessions = o.sessions ?? createSessions();
  const limit = o.loginLimit ?? createLoginLimit();
  const maxChecks = o.maxParallelChecks ?? 1;
  let running = 0;
  const waiting: Array<() => void> = [];
  const slot = async <T>(f: () => Promise<T>): Promise<T> => {
    if (running >= maxChecks) await new Promise<void>((r) => waiting.push(r));
    running++;
    try { return await f(); } finally { running--; waiting.shift()?.(); }
  };

  const sessionOf = (c: Context): Session | null => (isHttps(c) ? sessions.get(getCookie(c, SESSION_COOKIE)) : null);

  return {
    state: () => o.credentials.state(),
    hasPassword: () => o.credentials.state() !== "open",
    /** True only over HTTPS with a live server-side session. */
    isAdmin: (c: Context): boolean => sessionOf(c) !== null,
    /** Count the attempt first, then check the password; a locked-out client is refused unchecked. */
    async login(client: string, password: string): Promise<LoginOutcome> {
      const attempt = limit.begin(client);
      if (!attempt.ok) return { ok: false, lockedForS: attempt.retryAfterS };
      const hash = o.credentials.hash();
      let good = false;
      try { good = !!hash && await slot(() => Bun.password.verify(password, hash)); } catch { good = false; }
      attempt.settle(good);
      return good ? { ok: true } : { ok: false, wrong: true };
    },
    async checkPassword(password: string): Promise<boolean> {
      const hash = o.credentials.hash();
      if (!hash) return false;
      try { return await slot(() => Bun.password.verify(password, hash)); } catch { return false; }
    },
    lockedFor: (client: string) => limit.lockedFor(client),
    /** `onlyIfOpen`: the first password, stored only if no other request stored one while this one was hashed. */
    async setPassword(password: string, onlyIfOpen = false): Promise<boolean> {
      const hash = await slot(() => hashPassword(password));
      if (onlyIfOpen && o.credentials.state() !== "open") return false;   // decided after the await: first one wins
      o.credentials.setHash(hash);
      sessions.endAll();
      return true;
    },
    /** Called when the hash changed outside the settings (iotbox.conf on the card). */
    endAllSessions: () => sessions.endAll(),
    startSession(c: Context) {
      if (!isHttps(c)) throw new Error("a session is only started over HTTPS");
      const { id } = sessions.create();
      setCookie(c, SESSION_COOKIE, id, { httpOnly: true, sameSite: "Strict", secure: true, path: "/", maxAge: Math.floor(sessions.ttlMs / 1000) });
    },
    endSession(c: Context) {
      sessions.end(getCookie(c, SESSION_COOKIE));
      deleteCookie(c, SESSION_COOKIE, { path: "/", secure: true });
    },
    /** The token a form must echo: the session's own, or before login this browser's. */
    csrfToken(c: Context): string {
      const s = sessionOf(c);
      if (s) return s.csrf;
      let t = getCookie(c, CSRF_COOKIE);
      if (!t || !/^[A-Za-z0-9_-]{32}$/.test(t)) {
        t = randomBytes(24).toString("base64url");
        setCookie(c, CSRF_COOKIE, t, { httpOnly: true, sameSite: "Strict", secure: isHttps(c), path: "/" });
      }
      return t;
    },
    /** The token this request must carry, or null when it can carry none that is valid. */
    expectedCsrf(c: Context): string | null {
      const s = sessionOf(c);
      if (s) return s.csrf;
      const t = getCookie(c, CSRF_COOKIE);
      return t && /^[A-Za-z0-9_-]{32}$/.test(t) ? t : null;
    },
    sessionCount: () => sessions.count(),
  };
}
export type Auth = ReturnType<typeof createAuth>;

/** Rejects a state-changing request whose CSRF token (form field `_csrf` or header `X-CSRF-Token`) is not the expected one. */
export function csrfGuard(auth: Pick<Auth, "expectedCsrf">): MiddlewareHandler {
  return async (c, next) => {
    if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "OPTIONS") return next();
    const ctype = c.req.header("content-type") ?? "";
    let sent: string | undefined = c.req.header("x-csrf-token");
    if (sent === undefined && /^(application\/x-www-form-urlencoded|multipart\/form-data)\b/i.test(ctype)) {
      const body = await readForm(c);
      sent = typeof body._csrf === "string" ? body._csrf : undefined;
    }
    const expected = auth.expectedCsrf(c);
    if (!expected || !sent || !safeEq(expected, sent)) return c.text("Forbidden: the form expired, reload the page and try again", 403);
    return next();
  };
}
