/**
 * Headless set-up: `<boot>/iotbox.conf`, `key = value` lines, written by a technician on
 * another computer. Parsing and applying are pure; the caller reads and rewrites the file.
 * An unknown key, a malformed line or a bad value is reported; valid lines still apply.
 *
 * The file is worked on as bytes, line by line, because the box must never change what it
 * does not understand: a line that is not UTF-8, a rejected line (a secret included) and every
 * line ending (LF or CRLF) and the BOM stay byte for byte. The only rewrite removes the secret
 * lines that were accepted, and adds one comment line saying so.
 *
 * Comments: a line whose first non-blank character is `#`, or, after a value, a `#` preceded by
 * whitespace (`diagnostics = on   # off: …`). A value that needs ` #` is quoted: the quotes
 * count when they enclose the whole value (`wifi_ssid = "Bar #2"`).
 */
import { validate, type BoxConfig } from "./schema";
import { parseConnectionToken, type Connection } from "../odoo/token";

export const BOOT_KEYS = [
  "server_url", "db_uuid", "enterprise_code", "provisioning_url", "admin_password", "hostname",
  "wifi_ssid", "wifi_password", "wifi_country", "log_level",
  "diagnostics", "diag_public_resolvers", "diag_connectivity_url", "diag_canary_name",
  "connection_token",
] as const;
export type BootKey = (typeof BOOT_KEYS)[number];
/** Removed from the file once imported. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(["admin_password", "wifi_password", "enterprise_code", "connection_token"]);

/** A larger file is refused as a whole (a set-up file is a few hundred bytes). */
export const MAX_BOOT_CONF_BYTES = 64 * 1024;
/** Problems listed; more are counted in one last line. */
export const MAX_PROBLEMS = 20;

export interface ParsedLine {
  lineNo: number;
  /** The line exactly as in the file, its line ending included (the BOM is kept apart). */
  bytes: Uint8Array;
  /** The line decoded, without its ending; null when it is not UTF-8. */
  text: string | null;
  key?: string;
  value?: string;
  problem?: string;
}
export interface ParsedBootConf { bom: boolean; lines: ParsedLine[] }

const BOM = [0xef, 0xbb, 0xbf];
const HEADER = "# iotbox: applied on ";
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n)}…` : s);

export function parseBootConf(input: Uint8Array | string): ParsedBootConf {
  const all = typeof input === "string" ? new TextEncoder().encode(input) : input;
  const bom = all[0] === BOM[0] && all[1] === BOM[1] && all[2] === BOM[2];
  const bytes = bom ? all.subarray(3) : all;
  const lines: ParsedLine[] = [];
  for (let start = 0, lineNo = 1; start < bytes.length; lineNo++) {
    const lf = bytes.indexOf(0x0a, start);
    const end = lf < 0 ? bytes.length : lf + 1;
    const line = bytes.subarray(start, end);
    let content = lf < 0 ? line : line.subarray(0, line.length - 1);
    if (content[content.length - 1] === 0x0d && lf >= 0) content = content.subarray(0, content.length - 1);
    let text: string | null;
    try { text = utf8.decode(content); } catch { text = null; }
    lines.push({ lineNo, bytes: line, text, ...(text === null ? { problem: `line ${lineNo} is not UTF-8 text` } : parseLine(lineNo, text)) });
    start = end;
  }
  return { bom, lines };
}

function parseLine(lineNo: number, text: string): Pick<ParsedLine, "key" | "value" | "problem"> {
  const t = text.trim();
  if (t === "" || t.startsWith("#")) return {};
  const eq = t.indexOf("=");
  if (eq <= 0 || /\s#/.test(t.slice(0, eq))) return { problem: `line ${lineNo}: expected "key = value"` };
  const key = t.slice(0, eq).trim().toLowerCase();
  if (!/^[a-z][a-z0-9_]*$/.test(key)) return { problem: `line ${lineNo}: "${clip(key, 40)}" is not a valid key` };
  if (!(BOOT_KEYS as readonly string[]).includes(key)) return { key, problem: `line ${lineNo}: unknown key "${clip(key, 40)}"` };
  return { key, value: readValue(t.slice(eq + 1)) };
}

/** The value after `=`: quoted (the quotes enclose it all, a comment may follow), or up to a comment. */
function readValue(rest: string): string {
  const s = rest.trimStart();
  const q = s[0];
  if (q === '"' || q === "'") {
    for (let j = s.indexOf(q, 1); j > 0; j = s.indexOf(q, j + 1)) {
      if (/^\s*(#[^]*)?$/.test(s.slice(j + 1))) return s.slice(1, j);
    }
  }
  if (s.startsWith("#")) return "";
  const comment = /\s#/.exec(s);
  return (comment ? s.slice(0, comment.index) : s).trim();
}

/** The first MAX_PROBLEMS problems, then one line counting the rest. */
export function capProblems(problems: string[]): string[] {
  if (problems.length <= MAX_PROBLEMS) return problems;
  const more = problems.length - MAX_PROBLEMS;
  return [...problems.slice(0, MAX_PROBLEMS), `… and ${more} more problem${more === 1 ? "" : "s"}`];
}

export interface ApplyResult {
  config: BoxConfig;
  /** At most MAX_PROBLEMS + 1 lines. */
  problems: string[];
  applied: string[];
  adminPassword?: string;
  /** A `connection_token` line that parsed: the caller stores its token (src/odoo); server, UUID and code are in `config`. */
  connection?: Connection;
  /** The accepted secret lines, to be removed from the file; a rejected one stays. */
  secretLines: number[];
}

/** Apply the valid lines to a config. The admin password comes back in clear for the caller to hash. */
export function applyBootConf(lines: ParsedLine[], base: BoxConfig): ApplyResult {
  const c: BoxConfig = structuredClone(base);
  const problems: string[] = [];
  const applied: string[] = [];
  const secretLines: number[] = [];
  let adminPassword: string | undefined;
  let connection: Connection | undefined;
  const wifi: { ssid?: string; password?: string; country?: string; passwordLines: number[] } = { passwordLines: [] };
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
        case "wifi_password": wifi.password = validate.wifiPassword(v); wifi.passwordLines.push(l.lineNo); break;
        case "wifi_country": wifi.country = validate.country(v); break;
        case "log_level": c.logLevel = validate.logLevel(v); break;
        case "diagnostics": c.diag.enabled = validate.onOff(v, "diagnostics"); break;
        case "diag_public_resolvers": c.diag.publicResolvers = validate.resolvers(v); break;
        case "diag_connectivity_url": c.diag.connectivityUrl = validate.url(v, "diag_connectivity_url"); break;
        case "diag_canary_name": c.diag.canaryName = validate.dnsName(v); break;
        case "connection_token": {
          connection = parseConnectionToken(v);
          c.serverUrl = connection.serverUrl; c.dbUuid = connection.dbUuid; c.enterpriseCode = connection.enterpriseCode;
          break;
        }
      }
      applied.push(l.key);
      if (SECRET_KEYS.has(l.key) && l.key !== "wifi_password") secretLines.push(l.lineNo);
    } catch (e) {
      problems.push(`line ${l.lineNo}: ${clip((e as Error).message, 160)}`);
    }
  }
  if (wifi.ssid !== undefined) {
    c.wifi = { ssid: wifi.ssid, password: wifi.password ?? "", country: wifi.country ?? c.wifi?.country ?? null };
    secretLines.push(...wifi.passwordLines);
  } else if (c.wifi) {
    c.wifi = { ...c.wifi, password: wifi.password ?? c.wifi.password, country: wifi.country ?? c.wifi.country };
    secretLines.push(...wifi.passwordLines);
  } else {
    // Nothing to attach them to: not applied, so the password line stays in the file.
    if (wifi.password !== undefined) problems.push(`line ${wifi.passwordLines.join(", ")}: wifi_password given without wifi_ssid`);
    if (wifi.country !== undefined) problems.push("wifi_country given without wifi_ssid");
  }
  return { config: c, problems: capProblems(problems), applied, adminPassword, ...(connection ? { connection } : {}), secretLines: secretLines.sort((a, b) => a - b) };
}

/**
 * The file as it is left on the boot partition when accepted secret lines must go: one comment
 * line saying when it was applied (replacing an older one), then every other line, byte for byte.
 * Null when nothing is to be removed: the file is then left exactly as it is.
 */
export function scrubBootConf(file: ParsedBootConf, secretLines: readonly number[], appliedAt: string): Uint8Array | null {
  const remove = new Set(secretLines);
  const removed = file.lines.filter((l) => remove.has(l.lineNo));
  if (!removed.length) return null;
  const first = file.lines[0]?.bytes;
  const eol = first && first.length >= 2 && first[first.length - 2] === 0x0d && first[first.length - 1] === 0x0a ? "\r\n" : "\n";
  const keys = [...new Set(removed.map((l) => l.key))].join(", ");
  const parts: Uint8Array[] = [];
  if (file.bom) parts.push(new Uint8Array(BOM));
  parts.push(new TextEncoder().encode(`${HEADER}${appliedAt}; ${keys} removed from this file after import.${eol}`));
  for (const l of file.lines) if (!remove.has(l.lineNo) && !l.text?.startsWith(HEADER)) parts.push(l.bytes);
  return Buffer.concat(parts);
}
