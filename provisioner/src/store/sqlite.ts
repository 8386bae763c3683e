// SQLite through Bun's built-in bun:sqlite (no native addon). WAL, so readers never wait.
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { upstreamError } from "../failure";
import type { Queries, Row, SqlDriver } from "./index";

/** Still locked after busy_timeout: tell the box to come back rather than fail. */
function busy(e: unknown): never {
  if (/SQLITE_BUSY|SQLITE_LOCKED/.test(String((e as { code?: unknown })?.code ?? ""))) throw upstreamError("database", "database_busy", "SQLite busy");
  throw e;
}

export function openSqlite(path: string): SqlDriver {
  if (path !== ":memory:") mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path, { create: true, strict: true });
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("PRAGMA busy_timeout = 5000");
  db.exec("PRAGMA synchronous = NORMAL");
  const cache = new Map<string, ReturnType<Database["query"]>>();
  const stmt = (sql: string) => {
    let s = cache.get(sql);
    if (!s) { s = db.query(sql); cache.set(sql, s); }
    return s;
  };
  const direct: Queries = {
    async all(sql, params = []) { try { return stmt(sql).all(...(params as never[])) as Row[]; } catch (e) { return busy(e); } },
    async run(sql, params = []) { try { stmt(sql).run(...(params as never[])); } catch (e) { busy(e); } },
  };
  // One connection: while an exclusive section's transaction is open, statements from other
  // requests wait for it (they would otherwise run inside it). Sections run one after another
  // in this process; BEGIN IMMEDIATE serialises them with other processes on the same file.
  let tail: Promise<void> = Promise.resolve();
  let open: Promise<void> | null = null;
  const outside = async () => { while (open) await open; };
  return {
    kind: "sqlite",
    async all(sql, params) { if (open) await outside(); return direct.all(sql, params); },
    async run(sql, params) { if (open) await outside(); return direct.run(sql, params); },
    async exclusive(fn) {
      const previous = tail;
      let done!: () => void;
      const mine = new Promise<void>((r) => { done = r; });
      tail = previous.then(() => mine);
      await previous;
      open = mine;
      try {
        try { db.exec("BEGIN IMMEDIATE"); } catch (e) { busy(e); }
        try {
          const out = await fn(direct);
          db.exec("COMMIT");
          return out;
        } catch (e) { db.exec("ROLLBACK"); throw e; }
      } finally { open = null; done(); }
    },
    async close() { db.close(); },
  };
}
