// PostgreSQL through Bun's built-in SQL client; the same schema and statements as SQLite,
// with `?` placeholders rewritten to `$n`.
import { SQL } from "bun";
import { upstreamError } from "../failure";
import type { Queries, Row, SqlDriver } from "./index";

/** Every exclusive section takes this transaction-scoped advisory lock: one at a time, fleet-wide. */
const EXCLUSIVE_LOCK = 0x10b0c5;

/** The server unreachable or gone: the box should come back later, not see a 500. */
function unavailable(e: unknown): never {
  const code = String((e as { code?: unknown })?.code ?? "");
  if (/CONNECTION|ECONNREFUSED|ECONNRESET|TIMEOUT|ETIMEDOUT|EHOSTUNREACH|CANNOT_CONNECT/i.test(code)) {
    throw upstreamError("database", "database_unavailable", `PostgreSQL unavailable (${code})`);
  }
  throw e;
}

export function toDollarParams(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}

function queries(db: SQL): Queries {
  return {
    async all(sql, params = []) { try { return (await db.unsafe(toDollarParams(sql), params as unknown[])) as Row[]; } catch (e) { return unavailable(e); } },
    async run(sql, params = []) { try { await db.unsafe(toDollarParams(sql), params as unknown[]); } catch (e) { unavailable(e); } },
  };
}

export function openPostgres(url: string): SqlDriver {
  const db = new SQL(url, { max: 10 });
  return {
    kind: "postgres",
    ...queries(db),
    async exclusive(fn) {
      try {
        return await db.begin(async (tx) => {
          await tx.unsafe(`SELECT pg_advisory_xact_lock(${EXCLUSIVE_LOCK})`);
          return fn(queries(tx));
        });
      } catch (e) { return unavailable(e); }
    },
    async close() { await db.close(); },
  };
}
