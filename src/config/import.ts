/**
 * Import `<boot>/iotbox.conf` at start: apply it once (a file we already applied and left
 * unchanged is not applied again, so settings changed later on the homepage stand), hash the
 * admin password, then rewrite the file without its secrets.
 */
import { existsSync, readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { writeFileAtomic } from "../fs/atomic";
import type { Logger } from "../log/index";
import { applyBootConf, parseBootConf, scrubBootConf } from "./boot-conf";
import type { ConfigStore } from "./store";

const sha256 = (s: string) => createHash("sha256").update(s).digest("hex");

export interface ImportOutcome { imported: boolean; problems: string[]; applied: string[] }

export async function importBootConf(path: string, store: ConfigStore, logger: Logger, now = () => new Date()): Promise<ImportOutcome> {
  if (!existsSync(path)) return { imported: false, problems: [], applied: [] };
  let text: string;
  try { text = readFileSync(path, "utf8"); } catch (e) {
    const problem = `iotbox.conf could not be read: ${(e as Error).message}`;
    logger.warn("boot config unreadable", { path, error: (e as Error).message });
    return { imported: false, problems: [problem], applied: [] };
  }
  if (store.get().bootImport?.fileHash === sha256(text)) return { imported: false, problems: store.get().bootImport!.problems, applied: [] };

  const lines = parseBootConf(text);
  for (const l of lines) if (l.key && l.value) logger.redact(l.key.includes("password") || l.key === "enterprise_code" ? l.value : undefined);
  const result = applyBootConf(lines, store.get());
  const hash = result.adminPassword ? await Bun.password.hash(result.adminPassword, { algorithm: "argon2id" }) : null;
  const appliedAt = now().toISOString();
  const scrubbed = scrubBootConf(lines, appliedAt);
  // Store first, then scrub the file: a power cut between the two re-imports the same values.
  store.update((c) => {
    Object.assign(c, result.config);
    if (hash) c.adminPasswordHash = hash;
    c.bootImport = { appliedAt, problems: result.problems, fileHash: sha256(scrubbed) };
  });
  try { writeFileAtomic(path, scrubbed, 0o600); } catch (e) {
    logger.warn("could not rewrite iotbox.conf without its secrets", { error: (e as Error).message });
  }
  logger.info("boot config imported", { applied: result.applied, problems: result.problems });
  return { imported: true, problems: result.problems, applied: result.applied };
}
