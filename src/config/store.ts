/**
 * The configuration on disk: `<data>/config.json`, mode 0600, written atomically, so it is
 * readable after a power cut at any moment. It is decoded field by field (decode.ts): a field of
 * the wrong type falls back to its default and is listed as a problem (the file as it was is kept
 * once as config.json.damaged-<time>, and the decoded one written back), the rest stands. A file
 * that does not parse at all is kept aside (never silently overwritten) and the box starts from
 * defaults, saying so. What grants access (the admin password) is NOT here: see src/admin.
 */
import { copyFileSync, existsSync, readFileSync, renameSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { writeFileAtomic } from "../fs/atomic";
import { decodeConfig } from "./decode";
import { defaultConfig, type BoxConfig } from "./schema";

export interface ConfigStore {
  get(): BoxConfig;
  update(change: (c: BoxConfig) => void): BoxConfig;
  /** Problems found while loading (a corrupt file set aside, a field reset), for the homepage. */
  loadProblems: string[];
  /** An admin password hash found in an older config.json, to move to the credential store. */
  legacyAdminHash: string | null;
}

export function newBoxId(): string {
  return randomBytes(5).toString("hex"); // 10 lowercase hex characters
}

export function openConfigStore(path: string, now = () => new Date()): ConfigStore {
  const problems: string[] = [];
  let legacyAdminHash: string | null = null;
  let config: BoxConfig;
  const stamp = () => now().toISOString().replace(/[:.]/g, "");
  const write = (c: BoxConfig) => writeFileAtomic(path, JSON.stringify(c, null, 2), 0o600);
  if (existsSync(path)) {
    let parsed: unknown;
    let text: string | null = null;
    try { text = readFileSync(path, "utf8"); parsed = JSON.parse(text); } catch (e) {
      const aside = `${path}.corrupt-${stamp()}`;
      renameSync(path, aside);
      const why = text === null ? `it could not be read (${(e as NodeJS.ErrnoException).code ?? "error"})` : "it is not valid JSON";
      problems.push(`the stored configuration could not be used (${why}); it was kept as ${aside} and the box started from defaults`);
      config = defaultConfig(newBoxId());
      write(config);
      return store();
    }
    const id = parsed && typeof parsed === "object" && typeof (parsed as { boxId?: unknown }).boxId === "string" && /^[0-9a-f]{10}$/.test((parsed as { boxId: string }).boxId) ? (parsed as { boxId: string }).boxId : newBoxId();
    const decoded = decodeConfig(parsed, defaultConfig(id));
    // Without a valid id the box would take another one at every start (a new name each boot): keep the one made now.
    if (id !== (parsed as { boxId?: unknown } | null)?.boxId && !decoded.problems.some((p) => p.includes('"boxId"'))) decoded.problems.push(`config.json: "boxId" is missing; this box is now ${id}`);
    config = decoded.config;
    legacyAdminHash = decoded.legacyAdminHash;
    if (decoded.problems.length) {
      // The file as it was stays readable for a human (one copy), and the decoded configuration is
      // written back at once: the problem is reported on this start, not copied again at every start.
      try { copyFileSync(path, `${path}.damaged-${stamp()}`); } catch {}
      problems.push(...decoded.problems);
      // (an older file still holding the admin hash is rewritten by the caller, once the hash is moved)
      if (!legacyAdminHash) write(config);
    }
  } else {
    config = defaultConfig(newBoxId());
    write(config);
  }
  return store();

  function store(): ConfigStore {
    return {
      get: () => config,
      update(change) {
        const next = structuredClone(config);
        change(next);
        write(next);
        config = next;
        return config;
      },
      loadProblems: problems,
      get legacyAdminHash() { return legacyAdminHash; },
    };
  }
}
