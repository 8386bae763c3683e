/**
 * "May this bundle be installed?": what `rauc info` said (or how it failed) and the running
 * release in, a verdict out. Pure; src/update/rauc.ts runs rauc.
 */
import { UPDATE_CODES, type UpdateCode } from "./codes";
import { compareReleases, type Release } from "./version";

export const COMPATIBLE = "iotbox-raspberrypi-arm64";

/** What `rauc info --output-format=json` printed, decoded defensively. */
export interface BundleInfo { compatible: string; version: string; build: number | null }

export type InfoResult =
  | { ok: true; info: BundleInfo }
  | { ok: false; exitCode: number; stderr: string; stdout: string; header: BundleHeader | null };

/** The first bytes and size of the file: tells an unsigned squashfs from a cut bundle. */
export interface BundleHeader { size: number; magic: string; squashfsBytes: number | null }

export type Verdict =
  | { ok: true; info: BundleInfo }
  | { ok: false; code: UpdateCode; message: string; info?: BundleInfo };

const refuse = (code: UpdateCode, info?: BundleInfo): Verdict => ({ ok: false, code, message: UPDATE_CODES[code], ...(info ? { info } : {}) });

export function decodeInfo(stdout: string): BundleInfo | null {
  let j: unknown;
  try { j = JSON.parse(stdout); } catch { return null; }
  if (!j || typeof j !== "object" || Array.isArray(j)) return null;
  const o = j as Record<string, unknown>;
  if (typeof o.compatible !== "string" || typeof o.version !== "string" || o.version.length > 128) return null;
  // rauc 1.8 prints build as a string ("1764000000"); accept a number too, anything else is unknown.
  const b = typeof o.build === "number" ? String(o.build) : o.build;
  return { compatible: o.compatible, version: o.version, build: typeof b === "string" && /^\d{1,12}$/.test(b) ? Number(b) : null };
}

/** Which refusal a failed `rauc info` means, from its exit status, its message and the file's shape. */
export function classifyInfoFailure(r: Extract<InfoResult, { ok: false }>): UpdateCode {
  const err = r.stderr;
  if (/No such file|Permission denied|Failed to open/i.test(err)) return "ERR_IOT_UPDATE_NOT_FOUND";
  if (/failed to load CA file|keyring/i.test(err)) return "ERR_IOT_UPDATE_BOX";
  const h = r.header;
  if (h && h.magic !== "hsqs") return "ERR_IOT_UPDATE_DAMAGED";
  // A squashfs shorter than its own superblock says: cut. As long as it (padded) and no more: never signed.
  if (h && h.squashfsBytes !== null && h.size < h.squashfsBytes) return "ERR_IOT_UPDATE_DAMAGED";
  if (/Signature size is 0/.test(err) || (h && h.squashfsBytes !== null && h.size <= Math.ceil(h.squashfsBytes / 4096) * 4096)) return "ERR_IOT_UPDATE_UNSIGNED";
  if (/signature verification failed/i.test(err)) {
    // The CMS is intact but its signer does not chain to our keyring.
    if (/self[- ]signed certificate|unable to get (local )?issuer certificate|certificate verify|unsupported certificate purpose|certificate has expired/i.test(err)) return "ERR_IOT_UPDATE_FOREIGN_SIGNATURE";
    return "ERR_IOT_UPDATE_DAMAGED";   // content or signature bytes changed
  }
  return "ERR_IOT_UPDATE_DAMAGED";    // "Invalid bundle format", a signature size beyond the file, …
}

export function decideBundle(r: InfoResult, running: Release, compatible = COMPATIBLE): Verdict {
  if (!r.ok) return refuse(classifyInfoFailure(r));
  const info = r.info;
  if (info.compatible !== compatible) return refuse("ERR_IOT_UPDATE_WRONG_DEVICE", info);
  const order = compareReleases({ version: info.version, build: info.build }, running);
  if (order === null) return refuse("ERR_IOT_UPDATE_DAMAGED", info);
  if (order < 0) return refuse("ERR_IOT_UPDATE_OLDER", info);
  if (order === 0) return refuse("ERR_IOT_UPDATE_SAME", info);
  return { ok: true, info };
}
