/**
 * The limit on password guesses. An attempt is counted BEFORE its password is checked (the
 * argon2 check is slow: counting after it let a parallel burst through), so 50 simultaneous
 * wrong passwords give at most `max` checks; while a client is locked out, the right password
 * is refused too. A success clears that client's count. Pure bookkeeping, no I/O.
 */
export interface LoginLimitOptions { now?: () => number; windowMs?: number; max?: number; maxClients?: number }

export type Attempt =
  | { ok: true; /** Call once the password was checked. */ settle(success: boolean): void }
  | { ok: false; retryAfterS: number };

export function createLoginLimit(o: LoginLimitOptions = {}) {
  const now = o.now ?? Date.now;
  const windowMs = o.windowMs ?? 5 * 60_000;
  const max = o.max ?? 5;
  const maxClients = o.maxClients ?? 1024;
  /** Per client: the times of attempts in the window (failed or still being checked). */
  const attempts = new Map<string, number[]>();

  const recent = (client: string, t: number) => (attempts.get(client) ?? []).filter((x) => t - x < windowMs);

  return {
    begin(client: string): Attempt {
      const t = now();
      const list = recent(client, t);
      if (list.length >= max) {
        attempts.set(client, list);
        return { ok: false, retryAfterS: Math.max(1, Math.ceil((list[0]! + windowMs - t) / 1000)) };
      }
      list.push(t);
      attempts.delete(client);
      attempts.set(client, list);
      // Bounded memory whatever the number of addresses: the stalest client goes first.
      while (attempts.size > maxClients) attempts.delete(attempts.keys().next().value!);
      let settled = false;
      return {
        ok: true,
        settle(success: boolean) {
          if (settled) return;
          settled = true;
          if (success) attempts.delete(client);
        },
      };
    },
    /** Seconds this client must wait before its next attempt, 0 if it may try now. */
    lockedFor(client: string): number {
      const t = now();
      const list = recent(client, t);
      return list.length >= max ? Math.max(1, Math.ceil((list[0]! + windowMs - t) / 1000)) : 0;
    },
  };
}
export type LoginLimit = ReturnType<typeof createLoginLimit>;
