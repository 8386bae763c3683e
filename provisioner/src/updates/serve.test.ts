// The update routes read as an attacker and a field engineer would: generated Range headers against
// a model (the bytes served are the file's slice, RFC 9110 single-range semantics), generated names
// (never a 5xx, never a file outside the folder), HEAD, other methods, an empty file, and a manifest
// replaced by publish's atomic write while boxes read it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdirSync, mkdtempSync, renameSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../../src/log";
import { writeFileAtomic } from "../../../src/fs/atomic";
import { createApp } from "../http/app";
import { createUpdatesApp, parseRange } from "./app";

const logger = createLogger({ level: "error", write: () => {} });
let dir: string, pub: string, server: ReturnType<typeof Bun.serve>, base: string;
const SIZE = 5000;
const bytes = Buffer.from(Array.from({ length: SIZE }, (_, i) => (i * 31 + 7) & 0xff));
const SECRET = "not-for-boxes-9f3a";

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "iotbox-prov-serve-"));
  pub = join(dir, "pub");
  mkdirSync(join(pub, "files"), { recursive: true });
  writeFileSync(join(pub, "files", "b.raucb"), bytes);
  writeFileSync(join(pub, "files", "empty.raucb"), "");
  writeFileSync(join(dir, "secret.txt"), SECRET);
  writeFileSync(join(pub, "secret.txt"), SECRET);
  writeFileSync(join(pub, "files", ".hidden"), SECRET);
  mkdirSync(join(pub, "files", "adir"));
  writeFileSync(join(pub, "stable.json"), JSON.stringify({ channel: "stable", n: 0 }));
  const app = createApp({ service: { handle: async () => { throw new Error("unused"); } }, logger, health: async () => ({}), updates: createUpdatesApp({ dir: pub }) });
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

const url = (name = "b.raucb") => `${base}/iot/updates/files/${name}`;

// The model: what RFC 9110 §14 says for one byte range on a representation of `size` bytes.
// "ignore" = the whole file (200); "416"; or the inclusive range.
function model(h: string, size: number): "ignore" | "416" | { start: number; end: number } {
  const m = /^bytes=(\d*)-(\d*)$/.exec(h.trim());
  if (!m || (m[1] === "" && m[2] === "")) return "ignore";
  if (m[1] === "") {
    const n = BigInt(m[2]!);
    if (n === 0n || size === 0) return "416";
    return { start: n >= BigInt(size) ? 0 : size - Number(n), end: size - 1 };
  }
  const first = BigInt(m[1]!), last = m[2] === "" ? null : BigInt(m[2]!);
  if (last !== null && last < first) return "416";
  if (first >= BigInt(size)) return "416";
  return { start: Number(first), end: last === null || last >= BigInt(size) ? size - 1 : Number(last) };
}

const num = fc.oneof(fc.nat({ max: SIZE + 10 }), fc.constantFrom(0, 1, SIZE - 1, SIZE, SIZE + 1), fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String), fc.constant("9".repeat(400)), fc.constant("007"));
const ws = fc.constantFrom("", " ", "  ", "\t");
const spec = fc.oneof(
  fc.tuple(num, num).map(([a, b]) => `${a}-${b}`),
  num.map((a) => `${a}-`),
  num.map((b) => `-${b}`),
  fc.constant("-"),
);
const rangeHeader = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(ws, spec, ws).map(([a, s, b]) => `${a}bytes=${s}${b}`) },
  { weight: 1, arbitrary: fc.array(spec, { minLength: 2, maxLength: 4 }).map((s) => `bytes=${s.join(",")}`) },     // multiple / overlapping ranges
  { weight: 1, arbitrary: spec.map((s) => `Bytes=${s}`) },
  { weight: 1, arbitrary: spec.map((s) => `bytes = ${s}`) },
  { weight: 1, arbitrary: spec.map((s) => `items=${s}`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n\0]/g, "")) },
  { weight: 1, arbitrary: fc.tuple(num, num).map(([a, b]) => `bytes=+${a}-${b}`) },
  { weight: 1, arbitrary: fc.tuple(num, num).map(([a, b]) => `bytes=${a}.5-${b}`) },
);

async function check(name: string, file: Buffer, h: string, method = "GET") {
  const res = await fetch(url(name), { method, headers: { range: h } });
  const body = Buffer.from(await res.arrayBuffer());
  const want = model(h, file.length);
  expect(res.status).toBeLessThan(500);
  if (want === "ignore") {
    // parseRange leaves it to the whole file; Bun.serve then reads Range itself on a whole-file body
    // (it takes `Bytes=` and `bytes = `). Either way: the bytes served are the ones the headers name.
    expect([200, 206, 416]).toContain(res.status);
    if (res.status === 200) {
      if (method === "GET") expect(body.equals(file)).toBe(true);
      expect(res.headers.get("content-length")).toBe(String(file.length));
    } else if (res.status === 416) expect(res.headers.get("content-range")).toBe(`bytes */${file.length}`);
    else {
      const cr = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(res.headers.get("content-range") ?? "");
      expect(cr).not.toBeNull();
      const [a, b] = [Number(cr![1]), Number(cr![2])];
      expect(Number(cr![3])).toBe(file.length);
      expect(b).toBeGreaterThanOrEqual(a);
      expect(res.headers.get("content-length")).toBe(String(b - a + 1));
      if (method === "GET") expect(body.equals(file.subarray(a, b + 1))).toBe(true);
    }
  } else if (want === "416") {
    expect(res.status).toBe(416);
    expect(res.headers.get("content-range")).toBe(`bytes */${file.length}`);
  } else {
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes ${want.start}-${want.end}/${file.length}`);
    expect(res.headers.get("content-length")).toBe(String(want.end - want.start + 1));
    if (method === "GET") expect(body.equals(file.subarray(want.start, want.end + 1))).toBe(true);
  }
  if (method === "HEAD") expect(body.length).toBe(0);
}

describe("Range against the model", () => {
  test("parseRange agrees with the model on generated headers and sizes (never a negative or empty range)", () => {
    fc.assert(fc.property(rangeHeader, fc.nat({ max: SIZE + 10 }), (h, size) => {
      const got = parseRange(h, size), want = model(h, size);
      if (want === "ignore") expect(got).toBeNull();
      else if (want === "416") expect(got).toBe("unsatisfiable");
      else expect(got).toEqual(want);
      if (got && got !== "unsatisfiable") { expect(got.start).toBeGreaterThanOrEqual(0); expect(got.end).toBeGreaterThanOrEqual(got.start); expect(got.end).toBeLessThan(size); }
    }), { numRuns: 3000 });
  });
  test("over HTTP: the bytes served are the file's slice, the headers say so (GET and HEAD)", async () => {
    await fc.assert(fc.asyncProperty(rangeHeader, fc.constantFrom("GET", "HEAD"), async (h, method) => { await check("b.raucb", bytes, h, method); }), { numRuns: 300 });
  });
  test("the box's resume (bytes=N- for every N) joins up to the file", async () => {
    for (const n of [0, 1, 4095, 4096, SIZE - 1]) {
      const res = await fetch(url(), { headers: { range: `bytes=${n}-` } });
      expect(res.status).toBe(206);
      expect(Buffer.concat([bytes.subarray(0, n), Buffer.from(await res.arrayBuffer())]).equals(bytes)).toBe(true);
    }
  });
  test("repeated Range headers (joined by the client) are ignored: the whole file", async () => {
    const h = new Headers(); h.append("range", "bytes=0-1"); h.append("range", "bytes=5-6");
    const res = await fetch(url(), { headers: h });
    expect(res.status).toBe(200);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes)).toBe(true);
  });
  test("If-Range is not read (the box does not send it; no validator is sent to match it against): Range still applies", async () => {
    const res = await fetch(url(), { headers: { range: "bytes=10-19", "if-range": "\"x\"" } });
    expect(res.status).toBe(206);
    expect(Buffer.from(await res.arrayBuffer()).equals(bytes.subarray(10, 20))).toBe(true);
  });
});

describe("names and methods", () => {
  const segment = fc.oneof(
    fc.constantFrom("..", ".", "%2e%2e", "%2E%2E", "%2e", "..%2f", "..%2F", "%2f", "%5c", "..%5c", "%00", "b.raucb%00", "b.raucb%00.json", "%", "%zz", "%E0%A4%A",
      "%c0%ae%c0%ae", "b.raucb%2f", "b.raucb/", ".hidden", "adir", "secret.txt", "..%2Fsecret.txt", "%2e%2e%2fsecret.txt", "b.raucb;x", "b.raucb?x=1", "b.raucb#x",
      "stable.json", "%252e%252e%252fsecret.txt", "ü.raucb", "%C3%BC", "\u202e", "con", "b.RAUCB", " b.raucb", "b.raucb ", "b.raucb%20", "b.raucb%0a"),
    fc.string({ maxLength: 20 }).map(encodeURIComponent),
    fc.string({ unit: "grapheme", maxLength: 10 }).map(encodeURIComponent),
    fc.nat({ max: 5000 }).map((n) => "a".repeat(n)),
  );
  const path = fc.tuple(fc.constantFrom("/iot/updates/files/", "/iot/updates/", "/iot/updates/files/../", "/iot/updates//files/", "/iot/updates/files//"), fc.array(segment, { minLength: 1, maxLength: 3 }))
    .map(([p, s]) => p + s.join("/"));
  test("generated paths: a 4xx or a file of the folder, never a 5xx, never the secret", async () => {
    await fc.assert(fc.asyncProperty(path, fc.constantFrom("GET", "HEAD"), async (p, method) => {
      const res = await fetch(`${base}${p}`, { method });
      const body = Buffer.from(await res.arrayBuffer()), text = body.toString("latin1");
      expect(res.status).toBeLessThan(500);
      expect(text).not.toContain(SECRET);
      if (res.status < 300) expect(body.equals(bytes) || body.length === 0 || text.startsWith("{\"channel\"")).toBe(true);
    }), { numRuns: 400 });
  });
  test("a very long path (64 KiB) is refused, not a crash", async () => {
    const res = await fetch(`${base}/iot/updates/files/${"a".repeat(65536)}`);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
  });
  test("a directory under files/ is not served", async () => {
    expect((await fetch(url("adir"))).status).toBe(404);
  });
  test("other methods are not served", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH"]) {
      const res = await fetch(url(), { method, body: method === "DELETE" ? undefined : "x" });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect((await fetch(url())).status).toBe(200);   // still there
  });
  test("HEAD of a file: 200, the length, no body", async () => {
    const res = await fetch(url(), { method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-length")).toBe(String(SIZE));
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });
  test("a symlink in files/ pointing outside the folder is followed (it is the operator's folder; no name from a request can make one)", async () => {
    symlinkSync(join(dir, "secret.txt"), join(pub, "files", "link.raucb"));
    const res = await fetch(url("link.raucb"));
    expect(res.status).toBe(200);
    expect(await res.text()).toBe(SECRET);
  });
});

describe("the manifest while publish replaces it", () => {
  test("readers during atomic rewrites always get one whole manifest (the old or the new), never a part", async () => {
    const big = (n: number) => `${JSON.stringify({ channel: "stable", n, pad: String(n % 10).repeat(200_000) })}\n`;
    let stop = false, n = 0;
    const writer = (async () => { while (!stop) { writeFileAtomic(join(pub, "stable.json"), big(++n)); await Bun.sleep(0); } })();
    try {
      for (let i = 0; i < 60; i++) {
        const res = await fetch(`${base}/iot/updates/stable.json`);
        expect(res.status).toBe(200);
        const text = await res.text();
        const j = JSON.parse(text) as { n: number; pad: string };
        expect(j.pad).toBe(String(j.n % 10).repeat(200_000));
        expect(res.headers.get("content-length")).toBe(String(Buffer.byteLength(text)));
      }
    } finally { stop = true; await writer; }
  });
  test("a bundle replaced under the same name (rename) is served whole, old or new", async () => {
    const a = Buffer.alloc(300_000, 1), b = Buffer.alloc(200_000, 2);
    let stop = false, i = 0;
    const writer = (async () => { while (!stop) { const t = join(pub, "files", `.r.tmp`); writeFileSync(t, ++i % 2 ? a : b); renameSync(t, join(pub, "files", "r.raucb")); await Bun.sleep(0); } })();
    await Bun.sleep(5);
    try {
      for (let k = 0; k < 40; k++) {
        const res = await fetch(url("r.raucb"));
        expect(res.status).toBeLessThan(500);
        if (res.status !== 200) continue;
        const body = Buffer.from(await res.arrayBuffer());
        expect(body.equals(a) || body.equals(b)).toBe(true);
      }
    } finally { stop = true; await writer; }
  });
});
