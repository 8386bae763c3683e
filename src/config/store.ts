/**
 * The configuration on disk: `<data>/config.json`, mode 0600, written atomically, so it is
 * readable after a power cut at any moment. A file that does not parse is kept aside (never
 * silently overwritten) and the box starts from defaults, saying so.
 */
import { existsSync, readFileSync, renameSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { writeFileAtomic } from "../fs/atomic";
import { defaultConfig, type BoxConfig } from "./schema";

export interface ConfigStore {
  get(): BoxConfig;
  update(change: (c: BoxConfig) => void): BoxConfig;
  /** A problem found while loading (e.g. a corrupt file set aside), for the homepage. */
  loadProblem: string | null;
}

export function newBoxId(): string {
  return randomBytes(5).toString("hex"); // 10 lowercase hex characters
}

export function openConfigStore(path: string, now = () => new Date()): ConfigStore {
  let loadProblem: string | null = null;
  let config: BoxConfig;
  const fresh = () => defaultConfig(newBoxId(), randomBytes(32).toString("base64url"));
  if (existsSync(path)) {
    try {
      const parsed = JSON.parse(readFileSync(path, "utf8")) as Partial<BoxConfig>;
      if (!parsed || typeof parsed.boxId !== "string" || typeof parsed.sessionSecret !== "string") throw new Error("missing boxId or sessionSecret");
      const base = defaultConfig(parsed.boxId, parsed.sessionSecret);
      config = { ...base, ...parsed, diag: { ...base.diag, ...(parsed.diag ?? {}) } };
    } catch (e) {
      const aside = `${path}.corrupt-${now().toISOString().replace(/[:.]/g, "")}`;
      renameSync(path, aside);
      loadProblem = `the stored configuration could not be read (${(e as Error).message}); it was kept as ${aside} and the box started from defaults`;
      config = fresh();
      writeFileAtomic(path, JSON.stringify(config, null, 2), 0o600);
    }
  } else {
    config = fresh();
    writeFileAtomic(path, JSON.stringify(config, null, 2), 0o600);
  }
  return {
    get: () => config,
    update(change) {
      const next = structuredClone(config);
      change(next);
      writeFileAtomic(path, JSON.stringify(next, null, 2), 0o600);
      config = next;
      return config;
    },
    get loadProblem() { return loadProblem; },
  };
}
