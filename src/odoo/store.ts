/**
 * The database connection on disk: `<data>/odoo/connection.json` (folder 0700, file 0600,
 * replaced atomically). It holds the token, a secret: never shown back, never logged. The
 * server URL, database UUID and contract code also go to config.json (the certificate request
 * reads them there). A file that cannot be read is kept aside and the box is not connected.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import { writeFileAtomic } from "../fs/atomic";
import type { Connection } from "./token";

export interface StoredConnection extends Connection { connectedAt: string; via: "token" | "pairing" | "iotbox.conf" }

export function connectionStore(dataDir: string) {
  const dir = join(dataDir, "odoo");
  const file = join(dir, "connection.json");
  let problem: string | null = null;
  return {
    load(): StoredConnection | null {
      if (!existsSync(file)) return null;
      try {
        const v = JSON.parse(readFileSync(file, "utf8"));
        if (typeof v?.serverUrl !== "string" || typeof v?.token !== "string" || typeof v?.dbUuid !== "string" || typeof v?.enterpriseCode !== "string") throw new Error("fields missing");
        return { serverUrl: v.serverUrl, token: v.token, dbUuid: v.dbUuid, enterpriseCode: v.enterpriseCode, dbName: typeof v.dbName === "string" ? v.dbName : null,
          connectedAt: typeof v.connectedAt === "string" ? v.connectedAt : "", via: ["token", "pairing", "iotbox.conf"].includes(v.via) ? v.via : "token" };
      } catch (e) {
        const aside = `${file}.corrupt-${Date.now()}`;
        try { renameSync(file, aside); } catch {}
        problem = `odoo/connection.json could not be read (${(e as Error).message}); kept as ${aside}: connect the box again`;
        return null;
      }
    },
    save(c: StoredConnection) {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      chmodSync(dir, 0o700);
      writeFileAtomic(file, JSON.stringify(c, null, 2) + "\n", 0o600);
    },
    clear() { try { unlinkSync(file); } catch {} },
    problem: () => problem,
    path: file,
  };
}
export type ConnectionStore = ReturnType<typeof connectionStore>;
