// SQLite through Bun's built-in bun:sqlite (no native addon). WAL, so readers never wait.
import { Database } from "bun:sqlite";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Row, SqlDriver } from "./index";

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
    async all(sql, params = []) { return stmt(sql).all(...(params as never[])) as Row[]; },
    async run(sql, params = []) { stmt(sql).run(...(params as never[])); },
    async close() { db.close(); },
  };
}
