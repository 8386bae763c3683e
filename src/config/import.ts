/**
 * Import `<boot>/iotbox.conf` at start: apply it once (a file we already applied and left
 * unchanged is not applied again, so settings changed later on the homepage stand), hash the
 * admin password, then remove the accepted secret lines from the file. A file larger than
 * MAX_BOOT_CONF_BYTES is refused whole and left on the card as it is.
 */
import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";
import { createHash } from "node:crypto";
import { writeFileAtomic } from "../fs/atomic";
import type { Logger } from "../log/index";
import { applyBootConf, MAX_BOOT_CONF_BYTES, parseBootConf, scrubBootConf } from "./boot-conf";
import type { ConfigStore } from "./store";
import { hashPassword } from "../admin/password";
import type { Connection } from "../odoo/token";

const sha256 = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");

export interface ImportOutcome { imported: boolean; problems: string[]; applied: string[] }

/** The file's bytes, or only its size and hash when it is over the cap (never held in memory). */
function readCapped(path: string): { bytes: Uint8Array; fileHash: string } | { size: number; fileHash: string } {
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const h = createHash("sha256");
    const chunk = Buffer.alloc(size > MAX_BOOT_CONF_BYTES ? 64 * 1024 : MAX_BOOT_CONF_BYTES + 1);
    const kept: Buffer[] = [];
    let total = 0;
    for (let n: number; (n = readSync(fd, chunk, 0, chunk.length, null)) > 0;) {
      h.update(chunk.subarray(0, n));
      if (total + n <= MAX_BOOT_CONF_BYTES) kept.push(Buffer.from(chunk.subarray(0, n)));
      total += n;
      // Longer than its size said (a device, a file being written): too large either way, stop.
      if (total > Math.max(size, MAX_BOOT_CONF_BYTES)) break;
    }
    const fileHash = h.digest("hex");
    return total > MAX_BOOT_CONF_BYTES ? { size: total, fileHash } : { bytes: Buffer.concat(kept), fileHash };
  } finally { closeSync(fd); }
}

/** `setAdminHash` stores a new admin password hash (the credential store, apart from config.json). */
/** `saveConnection` stores a database connection given as `connection_token` (src/odoo), before the line leaves the file. */
export async function importBootConf(path: string, store: ConfigStore, logger: Logger, now = () => new Date(), setAdminHash?: (hash: string) => void,
  saveConnection?: (c: Connection) => void): Promise<ImportOutcome> {
  if (!existsSync(path)) return { imported: false, problems: [], applied: [] };
  let file: ReturnType<typeof readCapped>;
  try { file = readCapped(path); } catch (e) {
    const problem = `iotbox.conf could not be read: ${(e as Error).message}`;
    logger.warn("boot config unreadable", { path, error: (e as Error).message });
    return { imported: false, problems: [problem], applied: [] };
  }
  if (store.get().bootImport?.fileHash === file.fileHash) return { imported: false, problems: store.get().bootImport!.problems, applied: [] };
  const appliedAt = now().toISOString();

  if (!("bytes" in file)) {
    const problem = `iotbox.conf is ${Math.ceil(file.size / 1024)} KiB, more than the ${MAX_BOOT_CONF_BYTES / 1024} KiB a set-up file may have: nothing in it was applied, and it was left on the card as it is`;
    store.update((c) => { c.bootImport = { appliedAt, problems: [problem], fileHash: file.fileHash }; });
    logger.warn("boot config refused: too large", { size: file.size });
    return { imported: false, problems: [problem], applied: [] };
  }

  const parsed = parseBootConf(file.bytes);
  for (const l of parsed.lines) if (l.key && l.value) logger.redact(l.key.includes("password") || l.key === "enterprise_code" || l.key === "connection_token" ? l.value : undefined);
  const result = applyBootConf(parsed.lines, store.get());
  const hash = result.adminPassword ? await hashPassword(result.adminPassword) : null;
  // Store first, then scrub the file: a power cut between the two re-imports the same values.
  // The password first: it is what a technician with the card came to set (a locked box opens).
  if (hash) setAdminHash?.(hash);
  if (result.connection) {
    logger.redact(result.connection.token);
    // Without a place to keep the token the line is not applied (it stays in the file).
    if (saveConnection) saveConnection(result.connection);
    else {
      result.config.serverUrl = store.get().serverUrl; result.config.dbUuid = store.get().dbUuid; result.config.enterpriseCode = store.get().enterpriseCode;
      const tokenLines = new Set(parsed.lines.filter((l) => l.key === "connection_token").map((l) => l.lineNo));
      result.secretLines = result.secretLines.filter((n) => !tokenLines.has(n));
    }
  }
  const scrubbed = scrubBootConf(parsed, result.secretLines, appliedAt);
  // A token left for the daemon: the file must be imported again by the next start that can keep it.
  const leftForLater = !!result.connection && !saveConnection;
  store.update((c) => {
    Object.assign(c, result.config);
    c.bootImport = { appliedAt, problems: result.problems, fileHash: leftForLater ? "" : scrubbed ? sha256(scrubbed) : file.fileHash };
  });
  if (scrubbed) {
    try { writeFileAtomic(path, scrubbed, 0o600); } catch (e) {
      logger.warn("could not rewrite iotbox.conf without its secrets", { error: (e as Error).message });
    }
  }
  logger.info("boot config imported", { applied: result.applied, problems: result.problems });
  return { imported: true, problems: result.problems, applied: result.applied };
}
