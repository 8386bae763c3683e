/**
 * The bundle download, resumable: bytes go to `<dir>/<sha256>.raucb.part` (fsynced as they
 * come), a later attempt asks for the rest with `Range: bytes=N-`; a server that answers 200
 * instead starts the file over. Never more than the announced size is written; at the end the
 * size and sha256 are checked and the file renamed to `<sha256>.raucb`. A cut connection or a
 * power cut leaves only the `.part`, which the next attempt continues.
 */
import { closeSync, createReadStream, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, statSync, statfsSync, unlinkSync, writeSync, ftruncateSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { fsyncDir } from "../fs/atomic";
import { UpdateError } from "./codes";
import { allowedUrl } from "./manifest";

export interface DownloadRequest { url: string; size: number; sha256: string; dir: string }
export interface DownloadOptions {
  fetch?: typeof fetch;
  /** A connection that sends nothing for this long is given up (the next attempt resumes). */
  stallMs?: number;
  onProgress?: (have: number, size: number) => void;
  /** Free bytes for an unprivileged writer on the download folder's file system (default: statfs). */
  freeBytes?: (dir: string) => number;
}

/**
 * What a download must leave free on the data partition: the configuration, the certificate, the
 * payment journal and the logs live there, and a full partition would stop their writes.
 */
export const KEEP_FREE_BYTES = 64 * 1024 * 1024;
const statfsFree = (dir: string) => { const s = statfsSync(dir); return Number(s.bavail) * Number(s.bsize); };

export const bundlePath = (dir: string, sha256: string) => join(dir, `${sha256}.raucb`);

export async function sha256File(file: string): Promise<string> {
  const h = createHash("sha256");
  for await (const chunk of createReadStream(file)) h.update(chunk as Buffer);
  return h.digest("hex");
}

const sizeOf = (f: string) => { try { return statSync(f).size; } catch { return 0; } };

/** Parse `Content-Range: bytes a-b/total`. */
export function parseContentRange(v: string | null): { start: number; end: number; total: number | null } | null {
  const m = v && /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(v.trim());
  return m ? { start: Number(m[1]), end: Number(m[2]), total: m[3] === "*" ? null : Number(m[3]) } : null;
}

export async function downloadBundle(r: DownloadRequest, o: DownloadOptions = {}): Promise<string> {
  const doFetch = o.fetch ?? fetch;
  mkdirSync(r.dir, { recursive: true });
  const final = bundlePath(r.dir, r.sha256);
  const part = `${final}.part`;
  // Only one bundle is ever kept: an older one, or another version's part, goes.
  for (const f of readdirSync(r.dir)) if (f !== `${r.sha256}.raucb` && f !== `${r.sha256}.raucb.part`) { try { unlinkSync(join(r.dir, f)); } catch {} }
  if (existsSync(final)) {
    if (sizeOf(final) === r.size && (await sha256File(final)) === r.sha256) return final;
    unlinkSync(final);
  }
  let have = sizeOf(part);
  if (have > r.size) { unlinkSync(part); have = 0; }
  if (have < r.size) {
    const free = (o.freeBytes ?? statfsFree)(r.dir);
    if (free - (r.size - have) < KEEP_FREE_BYTES) {
      throw new UpdateError("ERR_IOT_UPDATE_NO_SPACE", undefined, `${r.size - have} bytes to fetch, ${free} free, ${KEEP_FREE_BYTES} kept free`);
    }
    await fetchRest(r, part, have, doFetch, o);
  }
  have = sizeOf(part);
  if (have < r.size) throw new UpdateError("ERR_IOT_UPDATE_DOWNLOAD", undefined, `the connection ended after ${have} of ${r.size} bytes`);
  if (have !== r.size || (await sha256File(part)) !== r.sha256) {
    try { unlinkSync(part); } catch {}
    throw new UpdateError("ERR_IOT_UPDATE_DOWNLOAD_MISMATCH", undefined, `got ${have} bytes, announced ${r.size}`);
  }
  renameSync(part, final);
  fsyncDir(r.dir);
  return final;
}

async function fetchRest(r: DownloadRequest, part: string, have: number, doFetch: typeof fetch, o: DownloadOptions): Promise<void> {
  const ctrl = new AbortController();
  const stallMs = o.stallMs ?? 60_000;
  let stall = setTimeout(() => ctrl.abort(), stallMs);
  const kick = () => { clearTimeout(stall); stall = setTimeout(() => ctrl.abort(), stallMs); };
  let res: Response;
  try {
    res = await doFetch(r.url, { headers: have > 0 ? { range: `bytes=${have}-` } : {}, signal: ctrl.signal, redirect: "follow" });
  } catch (e) {
    clearTimeout(stall);
    throw new UpdateError("ERR_IOT_UPDATE_DOWNLOAD", undefined, (e as Error).message);
  }
  try {
    if (res.url && !allowedUrl(new URL(res.url))) throw new UpdateError("ERR_IOT_UPDATE_DOWNLOAD", undefined, `redirected to a URL the box does not use: ${new URL(res.url).origin}`);
    let offset: number;
    if (res.status === 206) {
      const cr = parseContentRange(res.headers.get("content-range"));
      // A range that is not the one asked for, or a total that is not the announced size: start over.
      if (!cr || cr.start !== have || (cr.total !== null && cr.total !== r.size)) { try { unlinkSync(part); } catch {} throw new UpdateError("ERR_IOT_UPDATE_DOWNLOAD", undefined, `the server sent another range (${res.headers.get("content-range")})`); }
      offset = have;
    } else if (res.status === 200) {
      offset = 0;   // the server ignored Range: the whole file again
    } else if (res.status === 416) {
      try { unlinkSync(part); } catch {}
      throw new UpdateError("ERR_IOT_UPDATE_DOWNLOAD", undefined, "the server refused the range; starting over next time");
    } else {
      throw new UpdateError("ERR_IOT_UPDATE_DOWNLOAD", undefined, `HTTP ${res.status}`);
    }
    await writeBody(res, part, offset, r.size, kick, o);
  } finally {
    clearTimeout(stall);
    ctrl.abort();
  }
}

async function writeBody(res: Response, part: string, offset: number, size: number, kick: () => void, o: DownloadOptions): Promise<void> {
  const fd = openSync(part, existsSync(part) ? "r+" : "w", 0o600);
  let pos = offset, sinceSync = 0;
  try {
    ftruncateSync(fd, offset);
    if (!res.body) return;
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        kick();
        const room = size - pos;
        const chunk = value.length > room ? value.subarray(0, room) : value;
        let off = 0;
        while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off, pos + off);
        pos += chunk.length;
        sinceSync += chunk.length;
        if (sinceSync >= 1 << 22) { fsyncSync(fd); sinceSync = 0; }
        o.onProgress?.(pos, size);
        if (pos === size) break;   // more than announced is never written: the checksum decides
      }
    } catch (e) {
      if (e instanceof UpdateError) throw e;
      throw new UpdateError("ERR_IOT_UPDATE_DOWNLOAD", undefined, `the connection was cut after ${pos} of ${size} bytes`);
    } finally { reader.cancel().catch(() => {}); }
  } finally {
    try { fsyncSync(fd); } catch {}
    closeSync(fd);
  }
}
