/**
 * A look at the vendor's channel: fetch the manifest (capped at MAX_MANIFEST_BYTES, under a
 * timeout), decode it, and say whether it offers something newer for this kind of device.
 */
import { UpdateError } from "./codes";
import { COMPATIBLE } from "./check";
import { allowedUrl, decodeManifest, manifestUrlFor, MAX_MANIFEST_BYTES, type ChannelManifest } from "./manifest";
import { compareReleases, type Release } from "./version";

export type LookResult = { kind: "up-to-date"; manifest: ChannelManifest } | { kind: "available"; manifest: ChannelManifest };

async function readCapped(res: Response, max: number): Promise<string> {
  const len = Number(res.headers.get("content-length") ?? "0");
  if (len > max) throw new UpdateError("ERR_IOT_UPDATE_MANIFEST", undefined, `the manifest is larger than ${max} bytes`);
  if (!res.body) return "";
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > max) throw new UpdateError("ERR_IOT_UPDATE_MANIFEST", undefined, `the manifest is larger than ${max} bytes`);
      parts.push(value);
    }
  } finally { reader.cancel().catch(() => {}); }
  return new TextDecoder().decode(Buffer.concat(parts));
}

export async function lookAtChannel(o: { base: string; channel: string; running: Release; fetch?: typeof fetch; timeoutMs?: number; compatible?: string }): Promise<LookResult> {
  const url = manifestUrlFor(o.base, o.channel);
  let u: URL;
  try { u = new URL(url); } catch { throw new UpdateError("ERR_IOT_UPDATE_MANIFEST", undefined, "the update service URL is not a URL"); }
  if (!allowedUrl(u)) throw new UpdateError("ERR_IOT_UPDATE_MANIFEST", undefined, "the update service URL must be https");
  let res: Response;
  try {
    res = await (o.fetch ?? fetch)(url, { signal: AbortSignal.timeout(o.timeoutMs ?? 30_000), headers: { accept: "application/json" } });
  } catch (e) {
    throw new UpdateError("ERR_IOT_UPDATE_UNREACHABLE", undefined, (e as Error).message);
  }
  if (res.status !== 200) { res.body?.cancel().catch(() => {}); throw new UpdateError(res.status === 404 ? "ERR_IOT_UPDATE_MANIFEST" : "ERR_IOT_UPDATE_UNREACHABLE", undefined, `HTTP ${res.status} from ${url}`); }
  let text: string;
  try { text = await readCapped(res, MAX_MANIFEST_BYTES); } catch (e) {
    if (e instanceof UpdateError) throw e;
    throw new UpdateError("ERR_IOT_UPDATE_UNREACHABLE", undefined, (e as Error).message);
  }
  const d = decodeManifest(text, res.url || url, o.channel);
  if (!d.ok) throw new UpdateError("ERR_IOT_UPDATE_MANIFEST", undefined, d.problem);
  const m = d.manifest;
  if (m.compatible !== (o.compatible ?? COMPATIBLE)) throw new UpdateError("ERR_IOT_UPDATE_WRONG_DEVICE", undefined, `the channel offers "${m.compatible}"`);
  return { kind: compareReleases({ version: m.version, build: m.build }, o.running) === 1 ? "available" : "up-to-date", manifest: m };
}
