/**
 * `config.json` decoded against its schema, field by field: a field of the wrong type falls
 * back to its default and is reported; every other field stands. Pure.
 */
import type { BoxConfig } from "./schema";
import { CHANNEL_RE } from "../update/manifest";
import { parseQuietWindow } from "../update/schedule";

type Guard = (v: unknown) => boolean;
const str: Guard = (v) => typeof v === "string" && v.length <= 4096;
const orNull = (g: Guard): Guard => (v) => v === null || g(v);
const strList: Guard = (v) => Array.isArray(v) && v.length <= 64 && v.every(str);
const obj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === "object" && !Array.isArray(v);

const TOP: { [K in Exclude<keyof BoxConfig, "diag" | "update">]: [Guard, string] } = {
  boxId: [(v) => typeof v === "string" && /^[0-9a-f]{10}$/.test(v), "10 hex digits"],
  serverUrl: [orNull(str), "text or null"],
  dbUuid: [orNull(str), "text or null"],
  enterpriseCode: [orNull(str), "text or null"],
  provisioningUrl: [(v) => typeof v === "string" && /^https:\/\//.test(v), "an https:// URL"],
  hostname: [orNull(str), "text or null"],
  wifi: [orNull((v) => obj(v) && str(v.ssid) && str(v.password) && (v.country === null || str(v.country))), "null or {ssid, password, country}"],
  logLevel: [(v) => v === "debug" || v === "info" || v === "warn" || v === "error", "debug, info, warn or error"],
  subjectCn: [orNull(str), "text or null"],
  csrNames: [orNull(strList), "a list of names or null"],
  reportedIp: [orNull(str), "text or null"],
  bootImport: [orNull((v) => obj(v) && str(v.appliedAt) && strList(v.problems) && str(v.fileHash)), "null or {appliedAt, problems, fileHash}"],
};
const DIAG: { [K in keyof BoxConfig["diag"]]: [Guard, string] } = {
  enabled: [(v) => typeof v === "boolean", "true or false"],
  publicResolvers: [orNull(strList), "a list of addresses or null"],
  connectivityUrl: [orNull(str), "text or null"],
  canaryName: [orNull(str), "text or null"],
};

const UPDATE: { [K in keyof BoxConfig["update"]]: [Guard, string] } = {
  channel: [(v) => typeof v === "string" && CHANNEL_RE.test(v), "a channel name such as stable"],
  url: [orNull((v) => typeof v === "string" && /^https:\/\//.test(v) && v.length <= 2048), "an https:// URL or null"],
  quietHours: [(v) => typeof v === "string" && parseQuietWindow(v) !== null, "hours such as 02:00-05:00"],
};

export interface Decoded { config: BoxConfig; problems: string[]; /** The admin hash an older box kept here. */ legacyAdminHash: string | null }

export function decodeConfig(raw: unknown, defaults: BoxConfig): Decoded {
  const problems: string[] = [];
  const c = structuredClone(defaults);
  if (!obj(raw)) return { config: c, problems: ["config.json does not hold an object; the box started from defaults"], legacyAdminHash: null };
  const take = <T extends object>(target: T, src: Record<string, unknown>, table: Record<string, [Guard, string]>, prefix: string) => {
    for (const [k, [ok, expected]] of Object.entries(table)) {
      if (!(k in src)) continue;
      if (ok(src[k])) (target as Record<string, unknown>)[k] = structuredClone(src[k]);
      else problems.push(`config.json: "${prefix}${k}" should be ${expected}; it was reset to its default`);
    }
  };
  take(c, raw, TOP, "");
  if ("diag" in raw) {
    if (obj(raw.diag)) take(c.diag, raw.diag, DIAG, "diag.");
    else problems.push(`config.json: "diag" should be an object; the diagnostics settings were reset to their defaults`);
  }
  if ("update" in raw) {
    if (obj(raw.update)) take(c.update, raw.update, UPDATE, "update.");
    else problems.push(`config.json: "update" should be an object; the update settings were reset to their defaults`);
  }
  const legacy = typeof raw.adminPasswordHash === "string" ? raw.adminPasswordHash : null;
  return { config: c, problems, legacyAdminHash: legacy };
}
