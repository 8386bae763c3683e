/**
 * Headless set-up: `<boot>/iotbox.conf`, `key = value` lines with `#` comments, written by a
 * technician on another computer. Parsing and applying are pure; the caller reads and
 * rewrites the file. An unknown key or a malformed line is reported; valid lines still apply.
 */
import { validate, type BoxConfig } from "./schema";

export const BOOT_KEYS = [
  "server_url", "db_uuid", "enterprise_code", "provisioning_url", "admin_password", "hostname",
  "wifi_ssid", "wifi_password", "wifi_country", "log_level",
  "diagnostics", "diag_public_resolvers", "diag_connectivity_url", "diag_canary_name",
] as const;
export type BootKey = (typeof BOOT_KEYS)[number];
/** Removed from the file once imported. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(["admin_password", "wifi_password", "enterprise_code"]);

export interface ParsedLine { lineNo: number; raw: string; key?: string; value?: string; problem?: string }

export function parseBootConf(text: string): ParsedLine[] {
  const out: ParsedLine[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  lines.forEach((raw, i) => {
    const lineNo = i + 1;
    const t = raw.trim();
    if (t === "" || t.startsWith("#")) { out.push({ lineNo, raw }); return; }
    const eq = t.indexOf("=");
    if (eq <= 0) { out.push({ lineNo, raw, problem: `line ${lineNo}: expected "key = value"` }); return; }
    const key = t.slice(0, eq).trim().toLowerCase();
    let value = t.slice(eq + 1).trim();
    if (value.length >= 2 && ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'")))) value = value.slice(1, -1);
    if (!/^[a-z][a-z0-9_]*$/.test(key)) { out.push({ lineNo, raw, problem: `line ${lineNo}: "${key.slice(0, 40)}" is not a valid key` }); return; }
    if (!(BOOT_KEYS as readonly string[]).includes(key)) { out.push({ lineNo, raw, key, value, problem: `line ${lineNo}: unknown key "${key}"` }); return; }
    out.push({ lineNo, raw, key, value });
  });
  return out;
}

export interface ApplyResult { config: BoxConfig; problems: string[]; applied: string[]; adminPassword?: string }

/** Apply the valid lines to a config. The admin password comes back in clear for the caller to hash. */
export function applyBootConf(lines: ParsedLine[], base: BoxConfig): ApplyResult {
  const c: BoxConfig = structuredClone(base);
  const problems: string[] = [];
  const applied: string[] = [];
  let adminPassword: string | undefined;
  const wifi: { ssid?: string; password?: string; country?: string } = {};
  for (const l of lines) {
    if (l.problem) { problems.push(l.problem); continue; }
    if (!l.key || l.value === undefined) continue;
    const v = l.value;
    try {
      switch (l.key as BootKey) {
        case "server_url": c.serverUrl = validate.url(v, "server_url"); break;
        case "db_uuid": c.dbUuid = validate.dbUuid(v); break;
        case "enterprise_code": c.enterpriseCode = validate.enterpriseCode(v); break;
        case "provisioning_url": c.provisioningUrl = validate.url(v, "provisioning_url", true); break;
        case "admin_password": adminPassword = validate.password(v); break;
        case "hostname": c.hostname = validate.hostname(v); break;
        case "wifi_ssid": wifi.ssid = validate.ssid(v); break;
        case "wifi_password": wifi.password = validate.wifiPassword(v); break;
        case "wifi_country": wifi.country = validate.country(v); break;
        case "log_level": c.logLevel = validate.logLevel(v); break;
        case "diagnostics": c.diag.enabled = validate.onOff(v, "diagnostics"); break;
        case "diag_public_resolvers": c.diag.publicResolvers = validate.resolvers(v); break;
        case "diag_connectivity_url": c.diag.connectivityUrl = validate.url(v, "diag_connectivity_url"); break;
        case "diag_canary_name": c.diag.canaryName = validate.dnsName(v); break;
      }
      applied.push(l.key);
    } catch (e) {
      problems.push(`line ${l.lineNo}: ${(e as Error).message}`);
    }
  }
  if (wifi.ssid !== undefined) {
    c.wifi = { ssid: wifi.ssid, password: wifi.password ?? "", country: wifi.country ?? c.wifi?.country ?? null };
  } else if (wifi.password !== undefined || wifi.country !== undefined) {
    if (c.wifi) c.wifi = { ...c.wifi, password: wifi.password ?? c.wifi.password, country: wifi.country ?? c.wifi.country };
    else if (wifi.password !== undefined) problems.push("wifi_password given without wifi_ssid");
  }
  return { config: c, problems, applied, adminPassword };
}

/** The file as it is left on the boot partition: secrets removed, a line saying when it was applied. */
export function scrubBootConf(lines: ParsedLine[], appliedAt: string): string {
  const out = [`# iotbox: applied on ${appliedAt}; secrets were removed from this file after import.`];
  for (const l of lines) {
    if (l.raw.startsWith("# iotbox: applied on ")) continue;
    if (l.key && SECRET_KEYS.has(l.key)) { out.push(`# ${l.key} = (imported, removed)`); continue; }
    out.push(l.raw);
  }
  while (out.length > 1 && out[out.length - 1] === "") out.pop();
  return out.join("\n") + "\n";
}
