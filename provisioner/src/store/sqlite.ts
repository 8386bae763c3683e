// SQLite through Bun's built-in bun:sqlite (no native addon). WAL, so readers never wait.
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { UpstreamError } from "../dns";
import type { Row, SqlDriver } from "./index";

/** Still locked after busy_timeout: tell the box to come back rather than fail. */
function busy(e: unknown): never {
  if (/SQLITE_BUSY|SQLITE_LOCKED/.test(String((e as { code?: unknown })?.code ?? ""))) throw new UpstreamError("database", "SQLite busy", 5);
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
  return {
    kind: "sqlite",
    async all(sql, params = []) { try { return stmt(sql).all(...(params as never[])) as Row[]; } catch (e) { return busy(e); } },
    async run(sql, params = []) { try { stmt(sql).run(...(params as never[])); } catch (e) { busy(e); } },
    async close() { db.close(); },
  };
}
