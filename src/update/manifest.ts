/**
 * The channel manifest the vendor publishes at `<base>/iot/updates/<channel>.json`:
 *   { channel, version, build, compatible, url, size, sha256 }
 * decoded field by field; anything wrong is one ERR_IOT_UPDATE_MANIFEST with what was wrong,
 * and nothing is downloaded. The bundle URL may be relative to the manifest's. It must be https;
 * plain http only to a loopback address (the tests, a technician's tunnel), never across a network.
 * Pure.
 */
export const MAX_MANIFEST_BYTES = 64 * 1024;
/** A system bundle is tens of MB; anything above this is a lie, not an update. */
export const MAX_BUNDLE_BYTES = 2 * 1024 * 1024 * 1024;

export interface ChannelManifest { channel: string; version: string; build: number; compatible: string; url: string; size: number; sha256: string }

export type Decoded = { ok: true; manifest: ChannelManifest } | { ok: false; problem: string };

export const CHANNEL_RE = /^[a-z0-9][a-z0-9-]{0,31}$/;

export function allowedUrl(u: URL): boolean {
  if (u.username || u.password) return false;
  if (u.protocol === "https:") return true;
  return u.protocol === "http:" && (/^127\.\d+\.\d+\.\d+$/.test(u.hostname) || u.hostname === "[::1]" || u.hostname === "localhost");
}

export function decodeManifest(text: string, manifestUrl: string, expectedChannel: string): Decoded {
  if (text.length > MAX_MANIFEST_BYTES) return { ok: false, problem: `the manifest is larger than ${MAX_MANIFEST_BYTES} bytes` };
  let raw: unknown;
  try { raw = JSON.parse(text); } catch { return { ok: false, problem: "the manifest is not JSON" }; }
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return { ok: false, problem: "the manifest is not an object" };
  const o = raw as Record<string, unknown>;
  const bad = (f: string, what: string): Decoded => ({ ok: false, problem: `"${f}" should be ${what}` });
  if (o.channel !== expectedChannel) return bad("channel", `"${expectedChannel}"`);
  if (typeof o.version !== "string" || !/^v?\d{1,9}\.\d{1,9}\.\d{1,9}([-+][0-9A-Za-z.+-]{0,100})?$/.test(o.version)) return bad("version", "a version such as 1.2.3+g0abc");
  if (typeof o.build !== "number" || !Number.isSafeInteger(o.build) || o.build < 0) return bad("build", "a whole number (the build epoch)");
  if (typeof o.compatible !== "string" || o.compatible.length < 1 || o.compatible.length > 128) return bad("compatible", "text");
  if (typeof o.size !== "number" || !Number.isSafeInteger(o.size) || o.size < 1 || o.size > MAX_BUNDLE_BYTES) return bad("size", `a byte count from 1 to ${MAX_BUNDLE_BYTES}`);
  if (typeof o.sha256 !== "string" || !/^[0-9a-fA-F]{64}$/.test(o.sha256)) return bad("sha256", "64 hex digits");
  if (typeof o.url !== "string" || o.url.length < 1 || o.url.length > 2048) return bad("url", "a URL");
  let u: URL;
  try { u = new URL(o.url, manifestUrl); } catch { return bad("url", "a URL"); }
  let base: URL;
  try { base = new URL(manifestUrl); } catch { return { ok: false, problem: "the manifest URL is not a URL" }; }
  if (!allowedUrl(u) || (u.protocol === "http:" && base.protocol === "https:")) return bad("url", "an https URL (http only to this machine)");
  return { ok: true, manifest: { channel: o.channel, version: o.version, build: o.build, compatible: o.compatible, url: u.toString(), size: o.size, sha256: o.sha256.toLowerCase() } };
}

export const manifestUrlFor = (base: string, channel: string) => `${base.replace(/\/+$/, "")}/iot/updates/${channel}.json`;
