/**
 * The box configuration: its shape, defaults and the validation of each field. Pure.
 */
import type { Level } from "../log/index";

export interface BoxConfig {
  boxId: string;
  serverUrl: string | null;
  dbUuid: string | null;
  enterpriseCode: string | null;
  provisioningUrl: string;
  hostname: string | null;
  wifi: { ssid: string; password: string; country: string | null } | null;
  logLevel: Level;
  /** `enabled: false` stops the periodic probes (a lab or test network with no public resolver). */
  diag: { enabled: boolean; publicResolvers: string[] | null; connectivityUrl: string | null; canaryName: string | null };
  /** The wildcard subject the service gave us last (the box's name follows from it and the IP). */
  subjectCn: string | null;
  /** The names the service wants in the box's CSR (its reply's `csr_names`). */
  csrNames: string[] | null;
  /** The LAN IPv4 the service last heard from us (it points the box's DNS name there). */
  reportedIp: string | null;
  /** The import of <boot>/iotbox.conf: when, what was wrong with it, and the hash of the file as left. */
  bootImport: { appliedAt: string; problems: string[]; fileHash: string } | null;
  /** System updates (src/update): the vendor's channel, the base URL of its manifests (null: the
   *  vendor service of `provisioningUrl`), and the local hours in which the box may reboot into one. */
  update: { channel: string; url: string | null; quietHours: string };
}

export const DEFAULT_PROVISIONING_URL = "https://www.odoo.com";

export function defaultConfig(boxId: string): BoxConfig {
  return {
    boxId, serverUrl: null, dbUuid: null, enterpriseCode: null,
    provisioningUrl: DEFAULT_PROVISIONING_URL, hostname: null, wifi: null,
    logLevel: "info", diag: { enabled: true, publicResolvers: null, connectivityUrl: null, canaryName: null },
    subjectCn: null, csrNames: null, reportedIp: null, bootImport: null,
    update: { channel: "stable", url: null, quietHours: "02:00-05:00" },
  };
}

const CONTROL = /[\u0000-\u001f\u007f]/;

/** Each validator returns the clean value or throws an Error with a sentence for the technician. */
export const validate = {
  url(v: string, what: string, httpsOnly = false): string {
    let u: URL;
    try { u = new URL(v.trim()); } catch { throw new Error(`${what} is not a valid URL`); }
    if (u.protocol !== "https:" && (httpsOnly || u.protocol !== "http:")) throw new Error(`${what} must start with ${httpsOnly ? "https://" : "http:// or https://"}`);
    if (u.username || u.password) throw new Error(`${what} must not contain a user name or password`);
    return u.toString().replace(/\/$/, "");
  },
  dbUuid(v: string): string {
    const s = v.trim();
    if (!/^[A-Za-z0-9-]{8,64}$/.test(s)) throw new Error("the database UUID must be 8 to 64 letters, digits or dashes");
    return s;
  },
  enterpriseCode(v: string): string {
    const s = v.trim();
    if (!/^[A-Za-z0-9_-]{4,128}$/.test(s)) throw new Error("the contract (enterprise) code must be 4 to 128 letters, digits, dashes or underscores");
    return s;
  },
  hostname(v: string): string {
    const s = v.trim().toLowerCase();
    if (!/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(s)) throw new Error("the host name must be 1 to 63 letters, digits or dashes, not starting or ending with a dash");
    return s;
  },
  password(v: string): string {
    if (v.length < 8) throw new Error("the admin password must have at least 8 characters");
    if (v.length > 256) throw new Error("the admin password is too long");
    if (CONTROL.test(v)) throw new Error("the admin password must not contain control characters");
    return v;
  },
  ssid(v: string): string {
    const bytes = new TextEncoder().encode(v).length;
    if (bytes < 1 || bytes > 32) throw new Error("a Wi-Fi name (SSID) has 1 to 32 bytes");
    return v;
  },
  wifiPassword(v: string): string {
    if (v.length !== 0 && (v.length < 8 || v.length > 63) && !/^[0-9a-fA-F]{64}$/.test(v)) throw new Error("a Wi-Fi password has 8 to 63 characters");
    if (CONTROL.test(v)) throw new Error("the Wi-Fi password must not contain control characters");
    return v;
  },
  country(v: string): string {
    const s = v.trim().toUpperCase();
    if (!/^[A-Z]{2}$/.test(s)) throw new Error("the Wi-Fi country is a two-letter code such as ES or FR");
    return s;
  },
  logLevel(v: string): Level {
    const s = v.trim().toLowerCase();
    if (s === "debug" || s === "info" || s === "warn" || s === "error") return s;
    if (s === "warning") return "warn";
    throw new Error("the log level is one of debug, info, warn, error");
  },
  onOff(v: string, what: string): boolean {
    const s = v.trim().toLowerCase();
    if (["on", "yes", "true", "1"].includes(s)) return true;
    if (["off", "no", "false", "0"].includes(s)) return false;
    throw new Error(`${what} is on or off`);
  },
  resolvers(v: string): string[] {
    const list = v.split(",").map((x) => x.trim()).filter(Boolean);
    for (const r of list) if (!/^(\d{1,3}(\.\d{1,3}){3}|\[[0-9a-fA-F:]+\])(:\d{1,5})?$/.test(r)) throw new Error(`"${r}" is not a resolver address (ip or ip:port)`);
    return list;
  },
  dnsName(v: string): string {
    const s = v.trim().toLowerCase();
    if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(s) || s.length > 253) throw new Error(`"${s}" is not a DNS name`);
    return s;
  },
};
