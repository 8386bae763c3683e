// rauc printing malformed, huge, deeply nested or odd-typed JSON: refused or defaults, no throw.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createRauc, decodeStatus } from "../../src/update/rauc";
import { decodeInfo } from "../../src/update/check";
import { createLogger } from "../../src/log/index";


describe("rauc JSON", () => {
  const logger = createLogger({ level: "error", write: () => {} });
  const rauc = (stdout: string, exitCode = 0) => createRauc({ binary: "rauc", keyring: "k", logger, run: async () => ({ exitCode, stdout, stderr: "" }) });
  const jsonish = fc.oneof(fc.json(), fc.string({ unit: "binary", maxLength: 300 }), fc.json().chain((j) => fc.nat({ max: j.length }).map((n) => j.slice(0, n))));

  test("rauc status / info printing anything: no throw; only short strings as slots, a bounded version", async () => {
    await fc.assert(fc.asyncProperty(jsonish, fc.constantFrom(0, 1), async (out, code) => {
      const j = await rauc(out, code).status();
      const s = decodeStatus(j);
      if (s) for (const v of [s.booted, s.primary]) expect(v === null || (typeof v === "string" && v.length <= 64)).toBe(true);
      const i = decodeInfo(out);
      if (i) { expect(i.version.length).toBeLessThanOrEqual(128); expect(i.build === null || Number.isSafeInteger(i.build)).toBe(true); }
      const r = await rauc(out, code).info(join(tmpdir(), "no-such-bundle.raucb"));
      if (!r.ok) expect(r.header).toBeNull();
    }), { numRuns: 200 });
  });

  test("huge, deeply nested, odd-typed JSON from rauc: refused or defaults, no throw", async () => {
    const deep = "[".repeat(200_000) + "]".repeat(200_000);
    const huge = JSON.stringify({ booted: "A", boot_primary: "x".repeat(20 * 1024 * 1024) });
    expect(decodeStatus(await rauc(deep).status())).toBeNull();
    expect(decodeStatus(await rauc(huge).status())).toEqual({ booted: "A", primary: null });
    expect(decodeStatus(await rauc('{"booted": 1, "boot_primary": {"a": 1}, "__proto__": {"booted": "B"}}').status())).toEqual({ booted: null, primary: null });
    expect(decodeStatus(await rauc("null").status())).toBeNull();
    expect(decodeInfo(deep)).toBeNull();
    expect(decodeInfo(JSON.stringify({ compatible: "c", version: "v".repeat(129) }))).toBeNull();
    expect(decodeInfo(JSON.stringify({ compatible: "c", version: "1.0", build: "1e9" }))).toEqual({ compatible: "c", version: "1.0", build: null });
    const failing = createRauc({ binary: "rauc", keyring: "k", logger, run: async () => { throw new Error("ENOENT"); } });
    expect(await failing.status()).toBeNull();
    expect(await failing.info("x")).toMatchObject({ ok: false, exitCode: -1 });
  });
});
