// The resumable download against real HTTP on 127.0.0.1: cut connections, a server that ignores
// Range, one that sends more than announced, a wrong checksum; fast-check over the cut points.
import { afterEach, describe, expect, test } from "bun:test";
import fc from "fast-check";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bundlePath, downloadBundle, KEEP_FREE_BYTES } from "../../src/update/download";
import { UpdateError } from "../../src/update/codes";
import { startBundleHost, type BundleHost } from "./servers";

const sha = (b: Uint8Array) => createHash("sha256").update(b).digest("hex");
const hosts: BundleHost[] = [];
afterEach(async () => { for (const h of hosts.splice(0)) await h.close(); });
const host = async (...a: Parameters<typeof startBundleHost>) => { const h = await startBundleHost(...a); hosts.push(h); return h; };
const tmp = () => mkdtempSync(join(tmpdir(), "iotbox-dl-"));
const codeOf = async (p: Promise<unknown>) => { try { await p; return "ok"; } catch (e) { return e instanceof UpdateError ? e.code : `other: ${(e as Error).message}`; } };

describe("download", () => {
  test("whole file in one go: verified and renamed; nothing else left", async () => {
    const file = randomBytes(300_000);
    const h = await host(file);
    const dir = tmp();
    writeFileSync(join(dir, "old.raucb"), "an older bundle");
    const out = await downloadBundle({ url: h.url(), size: file.length, sha256: sha(file), dir });
    expect(out).toBe(bundlePath(dir, sha(file)));
    expect(sha(readFileSync(out))).toBe(sha(file));
    expect(readdirSync(dir)).toEqual([`${sha(file)}.raucb`]);
    expect(h.requests).toEqual([{ range: null }]);
  });

  test("a cut connection leaves a .part; the next attempt asks for the rest with Range and completes", async () => {
    const file = randomBytes(200_000);
    const h = await host(file, { cutAfter: (i) => (i === 0 ? 70_000 : null) });
    const dir = tmp();
    const req = { url: h.url(), size: file.length, sha256: sha(file), dir };
    expect(await codeOf(downloadBundle(req))).toBe("ERR_IOT_UPDATE_DOWNLOAD");
    const part = `${bundlePath(dir, sha(file))}.part`;
    expect(existsSync(part)).toBe(true);
    expect(statSync(part).size).toBe(70_000);
    expect(existsSync(bundlePath(dir, sha(file)))).toBe(false);
    await downloadBundle(req);
    expect(h.requests.map((r) => r.range)).toEqual([null, "bytes=70000-"]);
    expect(sha(readFileSync(bundlePath(dir, sha(file))))).toBe(sha(file));
  });

  test("not enough room on the data partition (what is left after it must stay ≥ 64 MiB): refused before a byte is asked; the part kept; any free/need pair decides the same (fast-check)", async () => {
    const file = randomBytes(100_000);
    const h = await host(file, { cutAfter: (i) => (i === 0 ? 40_000 : null) });
    const dir = tmp();
    const req = { url: h.url(), size: file.length, sha256: sha(file), dir };
    expect(await codeOf(downloadBundle(req))).toBe("ERR_IOT_UPDATE_DOWNLOAD"); // 40,000 bytes on the card
    const asked = h.requests.length;
    // 60,000 bytes to go: refused with 64 MiB + 59,999 free, fetched with 64 MiB + 60,000
    expect(await codeOf(downloadBundle(req, { freeBytes: () => KEEP_FREE_BYTES + 59_999 }))).toBe("ERR_IOT_UPDATE_NO_SPACE");
    expect(h.requests.length).toBe(asked);
    expect(statSync(`${bundlePath(dir, sha(file))}.part`).size).toBe(40_000);
    await downloadBundle(req, { freeBytes: () => KEEP_FREE_BYTES + 60_000 });
    expect(sha(readFileSync(bundlePath(dir, sha(file))))).toBe(sha(file));
    // the rule itself, over any sizes (no request is made when it refuses)
    await fc.assert(fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 }), fc.integer({ min: 0, max: 2 ** 32 }), async (size, free) => {
      const d2 = tmp();
      let fetched = false;
      const r = await codeOf(downloadBundle({ url: "http://127.0.0.1:9/never", size, sha256: "0".repeat(64), dir: d2 }, { freeBytes: () => free, fetch: (async () => { fetched = true; throw new Error("fetched"); }) as unknown as typeof fetch }));
      const room = free - size >= KEEP_FREE_BYTES;
      expect(r).toBe(room ? "ERR_IOT_UPDATE_DOWNLOAD" : "ERR_IOT_UPDATE_NO_SPACE");
      expect(fetched).toBe(room);
    }), { numRuns: 100 });
  });

  test("a server that ignores Range (200 with everything) starts the file over and still ends right", async () => {
    const file = randomBytes(100_000);
    const h = await host(file, { cutAfter: (i) => (i === 0 ? 40_000 : null) });
    const dir = tmp();
    const req = { url: h.url(), size: file.length, sha256: sha(file), dir };
    await codeOf(downloadBundle(req));
    h.set({ ignoreRange: true });
    await downloadBundle(req);
    expect(h.requests[1]!.range).toBe("bytes=40000-");
    expect(sha(readFileSync(bundlePath(dir, sha(file))))).toBe(sha(file));
  });

  test("a server that sends more than announced: never more than `size` written; the checksum decides", async () => {
    const file = randomBytes(50_000);
    const h = await host(file, { extra: randomBytes(1_000_000) });
    const dir = tmp();
    const out = await downloadBundle({ url: h.url(), size: file.length, sha256: sha(file), dir });
    expect(statSync(out).size).toBe(file.length);
  });

  test("a manifest that lies about the size or the checksum: refused, the file deleted, nothing kept", async () => {
    const file = randomBytes(50_000);
    const h = await host(file);
    const dir = tmp();
    expect(await codeOf(downloadBundle({ url: h.url(), size: file.length, sha256: sha(randomBytes(8)), dir }))).toBe("ERR_IOT_UPDATE_DOWNLOAD_MISMATCH");
    expect(readdirSync(dir)).toEqual([]);
    // announced smaller than the file: the first `size` bytes cannot match the real checksum
    expect(await codeOf(downloadBundle({ url: h.url(), size: file.length - 10, sha256: sha(file), dir }))).toBe("ERR_IOT_UPDATE_DOWNLOAD_MISMATCH");
    expect(readdirSync(dir)).toEqual([]);
    // announced larger: the connection ends early, the part waits for bytes that never come
    expect(await codeOf(downloadBundle({ url: h.url(), size: file.length + 10, sha256: sha(file), dir }))).toBe("ERR_IOT_UPDATE_DOWNLOAD");
  });

  test("a server answering another range than asked: the part is dropped, the next attempt starts over", async () => {
    const file = randomBytes(60_000);
    const h = await host(file, { cutAfter: (i) => (i === 0 ? 10_000 : null) });
    const dir = tmp();
    const req = { url: h.url(), size: file.length, sha256: sha(file), dir };
    await codeOf(downloadBundle(req));
    h.set({ wrongRange: true });
    expect(await codeOf(downloadBundle(req))).toBe("ERR_IOT_UPDATE_DOWNLOAD");
    h.set({});
    await downloadBundle(req);
    expect(h.requests.at(-1)!.range).toBeNull();
    expect(sha(readFileSync(bundlePath(dir, sha(file))))).toBe(sha(file));
  });

  test("an HTTP download to another host than loopback is refused before a byte", async () => {
    expect(await codeOf(downloadBundle({ url: "http://192.0.2.1/x.raucb", size: 10, sha256: "0".repeat(64), dir: tmp() }, {
      fetch: (async () => { throw new Error("must not be called"); }) as unknown as typeof fetch,
    }))).toBe("ERR_IOT_UPDATE_DOWNLOAD");
  });

  test("any sequence of cut points: the download completes after at most one attempt per cut, bytes exact (fast-check)", async () => {
    const file = randomBytes(64 * 1024);
    const h = await host(file);
    await fc.assert(fc.asyncProperty(fc.array(fc.integer({ min: 0, max: 70_000 }), { maxLength: 5 }), fc.boolean(), async (cuts, ignoreRange) => {
      const dir = tmp();
      const start = h.requests.length;
      h.set({ ignoreRange, cutAfter: (i) => cuts[i - start] ?? null });
      const req = { url: h.url(), size: file.length, sha256: sha(file), dir };
      let attempts = 0;
      for (;;) {
        attempts++;
        const r = await codeOf(downloadBundle(req));
        if (r === "ok") break;
        expect(r).toBe("ERR_IOT_UPDATE_DOWNLOAD");
        // a power cut here leaves at most a .part, never a file that looks complete
        expect(readdirSync(dir).every((f) => f.endsWith(".part"))).toBe(true);
        expect(attempts).toBeLessThanOrEqual(cuts.length + 1);
      }
      expect(sha(readFileSync(bundlePath(dir, sha(file))))).toBe(sha(file));
      if (!ignoreRange) for (const r of h.requests.slice(start)) if (r.range) expect(Number(/\d+/.exec(r.range)![0])).toBeGreaterThan(0);
    }), { numRuns: 40 });
  });
});
