// The update channel a box looks at, served from a folder (--updates-dir):
//   GET /iot/updates/<channel>.json     the manifest as published (publish.ts writes it)
//   GET /iot/updates/files/<name>       the bundle, with Range (one range: bytes=N-, N-M, -N) for resumed downloads
// Only plain names ([A-Za-z0-9._+-], no leading dot): nothing outside the folder can be named.
import { Hono, type Context } from "hono";
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";

export const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,127}$/;
const CHANNEL = /^[a-z0-9][a-z0-9-]{0,31}$/;

export function parseRange(h: string | undefined, size: number): { start: number; end: number } | "unsatisfiable" | null {
  if (!h) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;            // not one we read: the whole file
  // An empty file has no byte to name: `bytes=-N` on it is 416 like `bytes=0-` (not `bytes 0--1/0`).
  if (m[1] === "") { const n = Number(m[2]); return n === 0 || size === 0 ? "unsatisfiable" : { start: Math.max(0, size - n), end: size - 1 }; }
  const start = Number(m[1]);
  const end = m[2] === "" ? size - 1 : Math.min(Number(m[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return { start, end };
}

/** The file and its size from one stat (a file removed meanwhile is a 404, never a 500 from a second stat). */
const file = (dir: string, name: string) => { const p = join(dir, name); try { const st = statSync(p); return st.isFile() ? { path: p, size: st.size } : null; } catch { return null; } };

export function createUpdatesApp(o: { dir: string }) {
  const app = new Hono();
  app.get("/iot/updates/files/:name", (c) => {
    const name = c.req.param("name");
    const f = SAFE_NAME.test(name) ? file(join(o.dir, "files"), name) : null;
    if (!f) return c.json({ error: "No such update file." }, 404);
    return serveFile(c, f.path, f.size);
  });
  app.get("/iot/updates/:manifest", (c) => {
    const m = /^(.+)\.json$/.exec(c.req.param("manifest"));
    const p = m && CHANNEL.test(m[1]!) ? file(o.dir, `${m[1]}.json`) : null;
    if (!p) return c.json({ error: "No such update channel." }, 404);
    return new Response(Bun.file(p.path), { headers: { "content-type": "application/json", "cache-control": "no-cache" } });
  });
  return app;
}

function serveFile(c: Context, p: string, size: number) {
  const r = parseRange(c.req.header("range"), size);
  const base = { "content-type": "application/octet-stream", "accept-ranges": "bytes", "cache-control": "no-cache" };
  if (r === "unsatisfiable") return new Response(null, { status: 416, headers: { ...base, "content-range": `bytes */${size}` } });
  if (!r) return new Response(Bun.file(p), { headers: { ...base, "content-length": String(size) } });
  return new Response(Bun.file(p).slice(r.start, r.end + 1), { status: 206, headers: { ...base, "content-range": `bytes ${r.start}-${r.end}/${size}`, "content-length": String(r.end - r.start + 1) } });
}

export const hasUpdatesDir = (dir: string | undefined) => !!dir && existsSync(dir);
