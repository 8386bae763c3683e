// The names a box gets: a label derived by the service (so one box cannot pick another
// database's name), the wildcard under the zone, and the per-IP host name.
import { createHash } from "node:crypto";

export const LABEL_HEX = 10;

/**
 * Per box when the box sends its `box_id`: sha256(db_uuid ":" box_id); per database otherwise
 * (an older box that sends no id shares its database's wildcard, as the reference does).
 * `attempt` > 0 gives the alternatives used when a label is already another box's (40 bits
 * collide somewhere in a fleet of a million; the store keeps who owns which label).
 */
export function deriveLabel(dbUuid: string, boxId: string | null, attempt = 0): string {
  const input = (boxId ? `${dbUuid}:${boxId}` : dbUuid) + (attempt > 0 ? `:${attempt}` : "");
  return createHash("sha256").update(input).digest("hex").slice(0, LABEL_HEX);
}

export interface BoxNames {
  label: string;
  wildcard: string; // *.<label>.<zone>: the subject CN
  base: string;     // <label>.<zone>
}

export function boxNames(label: string, zone: string): BoxNames {
  return { label, wildcard: `*.${label}.${zone}`, base: `${label}.${zone}` };
}

/** The A record's name relative to the zone: 192-168-1-10.<label>. */
export function hostRecordName(ip: string, label: string): string {
  return `${ip.replace(/\./g, "-")}.${label}`;
}

/** The `_acme-challenge` TXT record's name relative to the zone, for a full DNS name. */
export function challengeRecordName(domain: string, zone: string): string {
  const d = domain.replace(/^\*\./, "").toLowerCase();
  if (d === zone) return "_acme-challenge";
  if (!d.endsWith(`.${zone}`)) throw new Error(`${domain} is not under ${zone}`);
  return `_acme-challenge.${d.slice(0, -(zone.length + 1))}`;
}

export type IpCheck = { ok: true; ip: string } | { ok: false; reason: "malformed" | "not_private" };

/** A dotted IPv4 (no leading zeros) in 10/8, 172.16/12, 192.168/16 or 169.254/16. */
export function checkBoxIp(ip: string): IpCheck {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return { ok: false, reason: "malformed" };
  const o = m.slice(1).map((s) => (s.length > 1 && s.startsWith("0") ? 256 : Number(s)));
  if (o.some((x) => x > 255)) return { ok: false, reason: "malformed" };
  const [a, b] = o as [number, number, number, number];
  const privateOrLinkLocal = a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254);
  return privateOrLinkLocal ? { ok: true, ip } : { ok: false, reason: "not_private" };
}

export const ZONE_RE = /^(?=.{1,200}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;
