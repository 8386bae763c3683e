import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { decodeManifest, MAX_MANIFEST_BYTES } from "./manifest";
import { decodeState, DEFAULT_STATE } from "./state";
import { parseResult, parseTrial } from "./result";

const at = "https://updates.example.com/iot/updates/stable.json";
const good = { channel: "stable", version: "0.3.0+gabc", build: 1_765_000_000, compatible: "iotbox-raspberrypi-arm64", url: "files/iotbox-0.3.0.raucb", size: 12345, sha256: "a".repeat(64) };

describe("channel manifest", () => {
  test("a good one; a relative url is resolved against the manifest's", () => {
    const d = decodeManifest(JSON.stringify(good), at, "stable");
    expect(d).toEqual({ ok: true, manifest: { ...good, url: "https://updates.example.com/iot/updates/files/iotbox-0.3.0.raucb" } });
  });
  test.each([
    [{ channel: "beta" }, "channel"],
    [{ version: "latest" }, "version"],
    [{ build: "1765000000" }, "build"],
    [{ build: 1.5 }, "build"],
    [{ size: 0 }, "size"],
    [{ size: 3 * 1024 ** 3 }, "size"],
    [{ sha256: "abc" }, "sha256"],
    [{ url: "http://updates.example.com/x.raucb" }, "url"],
    [{ url: "file:///etc/shadow" }, "url"],
    [{ url: "https://user:pw@example.com/x" }, "url"],
    [{ compatible: 7 }, "compatible"],
  ])("%o is refused (%s)", (change, field) => {
    const d = decodeManifest(JSON.stringify({ ...good, ...change }), at, "stable");
    expect(d.ok).toBe(false);
    if (!d.ok) expect(d.problem).toContain(field);
  });
  test("http only to loopback, and never from an https manifest", () => {
    expect(decodeManifest(JSON.stringify({ ...good, url: "http://127.0.0.1:8080/b.raucb" }), "http://127.0.0.1:8080/iot/updates/stable.json", "stable").ok).toBe(true);
    expect(decodeManifest(JSON.stringify({ ...good, url: "http://127.0.0.1:8080/b.raucb" }), at, "stable").ok).toBe(false);
  });
  test("oversized, not JSON, not an object", () => {
    expect(decodeManifest(JSON.stringify({ ...good, pad: "x".repeat(MAX_MANIFEST_BYTES) }), at, "stable")).toMatchObject({ ok: false });
    expect(decodeManifest("<html>", at, "stable")).toEqual({ ok: false, problem: "the manifest is not JSON" });
    expect(decodeManifest("[1]", at, "stable")).toEqual({ ok: false, problem: "the manifest is not an object" });
  });
  test("any JSON value or text: a verdict, never a throw; accepted only when every field is right (fast-check)", () => {
    fc.assert(fc.property(fc.oneof(fc.jsonValue().map((v) => JSON.stringify(v)), fc.string({ maxLength: 300 }),
      fc.record({ channel: fc.constantFrom("stable", "beta", 1), version: fc.oneof(fc.constant("1.2.3"), fc.string()), build: fc.oneof(fc.nat(), fc.double(), fc.string()),
        compatible: fc.oneof(fc.constant("iotbox-raspberrypi-arm64"), fc.string()), url: fc.oneof(fc.constant("b.raucb"), fc.webUrl(), fc.string()),
        size: fc.oneof(fc.integer({ min: -5, max: 1e10 }), fc.string()), sha256: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.string()) }, { requiredKeys: [] }).map((v) => JSON.stringify(v))), (text) => {
      const d = decodeManifest(text, at, "stable");
      if (d.ok) {
        const m = d.manifest;
        expect(m.channel).toBe("stable");
        expect(Number.isSafeInteger(m.size) && m.size > 0).toBe(true);
        expect(m.sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(new URL(m.url).protocol).toBe("https:");
      } else expect(typeof d.problem).toBe("string");
    }), { numRuns: 2000 });
  });
});

describe("state file and the health check's files", () => {
  test("a damaged state decodes field by field; garbage is the defaults", () => {
    expect(decodeState(null)).toEqual(DEFAULT_STATE);
    expect(decodeState({ held: "yes", lastError: { code: "ERR_SOMETHING", message: "x", at: "t" }, download: { version: "1", sha256: "a", have: 10, size: 5, at: "t" } })).toEqual(DEFAULT_STATE);
    expect(decodeState({ held: true, pendingReboot: { version: "0.3.0", installedAt: "2026-01-01T00:00:00Z" } })).toEqual({ ...DEFAULT_STATE, held: true, pendingReboot: { version: "0.3.0", installedAt: "2026-01-01T00:00:00Z", asap: false } });
    fc.assert(fc.property(fc.jsonValue(), (v) => { decodeState(v); }), { numRuns: 500 });
  });
  test("the result line and the trial file", () => {
    expect(parseResult("2026-12-02T03:00:00Z installed 0.3.0+gabc: slot B committed\n")).toEqual({ line: "2026-12-02T03:00:00Z installed 0.3.0+gabc: slot B committed", at: "2026-12-02T03:00:00Z", outcome: "installed", version: "0.3.0+gabc" });
    expect(parseResult("2026-12-02T03:00:00Z rolled-back 0.3.0: slot B did not come up healthy; back on slot A")).toMatchObject({ outcome: "rolled-back", version: "0.3.0" });
    expect(parseResult("something else\u0007")).toEqual({ line: "something else", at: null, outcome: null, version: null });
    expect(parseResult("\n")).toBeNull();
    expect(parseTrial("B 0.3.0+gabc\n")).toEqual({ slot: "B", version: "0.3.0+gabc" });
    expect(parseTrial("")).toBeNull();
  });
});
