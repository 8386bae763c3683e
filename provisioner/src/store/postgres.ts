// PostgreSQL through Bun's built-in SQL client; the same schema and statements as SQLite,
// with `?` placeholders rewritten to `$n`.
import { SQL } from "bun";
import type { Row, SqlDriver } from "./index";

export function toDollarParams(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export function openPostgres(url: string): SqlDriver {
  const db = new SQL(url, { max: 10 });
  return {
    kind: "postgres",
    async all(sql, params = []) { return (await db.unsafe(toDollarParams(sql), params as unknown[])) as Row[]; },
    async run(sql, params = []) { await db.unsafe(toDollarParams(sql), params as unknown[]); },
    async close() { await db.close(); },
  };
}
