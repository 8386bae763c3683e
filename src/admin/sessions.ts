/**
 * Admin sessions as server-side records: the cookie holds only a random id. Logout ends one
 * session, a password change ends all of them, and each session has its own CSRF token. A
 * session is created only over HTTPS and is valid only over HTTPS (the cookie is `Secure`).
 * Kept in memory: a restart logs everyone out, and nothing on the card can forge a session.
 */
import { createHash, randomBytes } from "node:crypto";

export interface Session { csrf: string; createdAt: number; expiresAt: number; lastSeenAt: number }

export interface SessionOptions {
  now?: () => number;
  /** Absolute lifetime of a session. */
  ttlMs?: number;
  /** A session not used for this long ends. */
  idleMs?: number;
  /** At most this many live sessions; the least recently used one ends first. */
  max?: number;
}

const hashId = (id: string) => createHash("sha256").update(id).digest("base64url");
const ID_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function createSessions(o: SessionOptions = {}) {
  const now = o.now ?? Date.now;
  const ttl = o.ttlMs ?? 8 * 3600_000;
  const idle = o.idleMs ?? 3600_000;
  const max = o.max ?? 32;
  // Keyed by the id's hash: a timing leak in the map lookup reveals nothing usable.
  const live = new Map<string, Session>();

  const sweep = (t: number) => { for (const [k, s] of live) if (s.expiresAt <= t || t - s.lastSeenAt >= idle) live.delete(k); };

  return {
    /** A new session: the id goes in the cookie, the CSRF token in the session's forms. */
    create(): { id: string; session: Session } {
      const t = now();
      sweep(t);
      while (live.size >= max) live.delete(live.keys().next().value!);
      const id = randomBytes(32).toString("base64url");
      const session: Session = { csrf: randomBytes(24).toString("base64url"), createdAt: t, expiresAt: t + ttl, lastSeenAt: t };
      live.set(hashId(id), session);
      return { id, session };
    },
    /** The live session behind a cookie value, or null. Touches it (idle timeout, LRU order). */
    get(id: string | undefined): Session | null {
      if (!id || !ID_SHAPE.test(id)) return null;
      const k = hashId(id);
      const s = live.get(k);
      if (!s) return null;
      const t = now();
      if (s.expiresAt <= t || t - s.lastSeenAt >= idle) { live.delete(k); return null; }
      s.lastSeenAt = t;
      live.delete(k); live.set(k, s); // most recently used last
      return s;
    },
    end(id: string | undefined) { if (id) live.delete(hashId(id)); },
    endAll() { live.clear(); },
    count: () => live.size,
    ttlMs: ttl,
  };
}
export type Sessions = ReturnType<typeof createSessions>;
