// The provisioner's update channel over real HTTP on 127.0.0.1, with a bundle published by the CLI
// step (real `rauc info`), and a box's updater taking it from there (download, check, install
// through an injected rauc install that records instead of writing a slot).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../../src/log";
import { createApp } from "../http/app";
import { createUpdatesApp, parseRange } from "./app";
import { publishUpdate } from "./publish";
import { makeBundle, makeKey, type Key } from "../../../test/update/bundles";

const logger = createLogger({ level: "error", write: () => {} });
let dir: string, bundles: string, key: Key, server: ReturnType<typeof Bun.serve>, base: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "iotbox-prov-updates-"));
  bundles = join(dir, "in");
  mkdirSync(bundles);
  key = makeKey(dir, "vendor");
  const app = createApp({ service: { handle: async () => { throw new Error("unused"); } }, logger, health: async () => ({}), updates: createUpdatesApp({ dir: join(dir, "pub") }) });
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: app.fetch });
  base = `http://127.0.0.1:${server.port}`;
});
afterAll(() => server.stop(true));

describe("publish-update and the channel routes", () => {
  test("publish writes the manifest (size, sha256, relative url) and the file; the routes serve both", async () => {
    const b = makeBundle(bundles, { key, version: "0.3.0+gabc", build: 1_765_000_000 });
    const m = await publishUpdate({ file: b, channel: "stable", dir: join(dir, "pub"), keyring: key.cert, logger });
    const bytes = readFileSync(b);
    expect(m).toEqual({ channel: "stable", version: "0.3.0+gabc", build: 1_765_000_000, compatible: "iotbox-raspberrypi-arm64", url: "files/iotbox-0.3.0+gabc-1765000000.raucb",
      size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex") });
    const res = await fetch(`${base}/iot/updates/stable.json`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(m);
    const file = await fetch(new URL(m.url, `${base}/iot/updates/stable.json`));
    expect(Buffer.from(await file.arrayBuffer()).equals(bytes)).toBe(true);
  });
  test("Range: bytes=N-, N-M, -N; past the end is 416", async () => {
    const url = `${base}/iot/updates/files/iotbox-0.3.0+gabc-1765000000.raucb`;
    const all = Buffer.from(await (await fetch(url)).arrayBuffer());
    const r1 = await fetch(url, { headers: { range: "bytes=100-" } });
    expect(r1.status).toBe(206);
    expect(r1.headers.get("content-range")).toBe(`bytes 100-${all.length - 1}/${all.length}`);
    expect(Buffer.from(await r1.arrayBuffer()).equals(all.subarray(100))).toBe(true);
    const r2 = await fetch(url, { headers: { range: "bytes=10-19" } });
    expect(Buffer.from(await r2.arrayBuffer()).equals(all.subarray(10, 20))).toBe(true);
    const r3 = await fetch(url, { headers: { range: `bytes=${all.length}-` } });
    expect(r3.status).toBe(416);
    expect(parseRange("bytes=-5", 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange("bytes=1-2,4-5", 10)).toBeNull();
  });
  test("an empty file: any range is 416 `bytes */0` (not a 206 `bytes 0--1/0`), no Range is 200 with nothing", async () => {
    writeFileSync(join(dir, "pub", "files", "empty.raucb"), "");
    expect(parseRange("bytes=-5", 0)).toBe("unsatisfiable");
    for (const h of ["bytes=-5", "bytes=-1", "bytes=0-", "bytes=0-0", "bytes=-0"]) {
      const res = await fetch(`${base}/iot/updates/files/empty.raucb`, { headers: { range: h } });
      expect(res.status).toBe(416);
      expect(res.headers.get("content-range")).toBe("bytes */0");
    }
    const res = await fetch(`${base}/iot/updates/files/empty.raucb`);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });
  test("only plain names: no traversal, no hidden files, no other channel shapes", async () => {
    writeFileSync(join(dir, "secret.txt"), "not for boxes");
    for (const p of ["/iot/updates/files/..%2Fstable.json", "/iot/updates/files/%2E%2E%2F%2E%2E%2Fsecret.txt", "/iot/updates/files/.iotbox.tmp", "/iot/updates/..%2Fsecret.txt.json",
      "/iot/updates/files/../../secret.txt", "/iot/updates/STABLE.json", "/iot/updates/nope.json", "/iot/updates/files/nope.raucb"]) {
      const r = await fetch(`${base}${p}`);
      expect([404]).toContain(r.status);
      expect(await r.text()).not.toContain("not for boxes");
    }
  });
  test("a bundle signed by someone else is not published", async () => {
    const other = makeKey(dir, "other");
    const b = makeBundle(bundles, { key: other, version: "0.4.0", build: 1_766_000_000, name: "other.raucb" });
    await expect(publishUpdate({ file: b, channel: "beta", dir: join(dir, "pub"), keyring: key.cert, logger })).rejects.toThrow("signed by someone other than the vendor");
    expect((await fetch(`${base}/iot/updates/beta.json`)).status).toBe(404);
  });
});
