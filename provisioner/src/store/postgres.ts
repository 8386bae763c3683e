// PostgreSQL through Bun's built-in SQL client; the same schema and statements as SQLite,
// with `?` placeholders rewritten to `$n`.
import { SQL } from "bun";
import { UpstreamError } from "../dns";
import type { Row, SqlDriver } from "./index";

/** The server unreachable or gone: the box should come back later, not see a 500. */
function unavailable(e: unknown): never {
  const code = String((e as { code?: unknown })?.code ?? "");
  if (/CONNECTION|ECONNREFUSED|ECONNRESET|TIMEOUT|ETIMEDOUT|EHOSTUNREACH|CANNOT_CONNECT/i.test(code)) {
    throw new UpstreamError("database", `PostgreSQL unavailable (${code})`, 30);
  }
  throw e;
}

export function toDollarParams(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

export function openPostgres(url: string): SqlDriver {
  const db = new SQL(url, { max: 10 });
  return {
    kind: "postgres",
    async all(sql, params = []) { try { return (await db.unsafe(toDollarParams(sql), params as unknown[])) as Row[]; } catch (e) { return unavailable(e); } },
    async run(sql, params = []) { try { await db.unsafe(toDollarParams(sql), params as unknown[]); } catch (e) { unavailable(e); } },
    async close() { await db.close(); },
  };
}
