// update.json as the field leaves it: cut by a power cut, binary, NUL-filled, a directory, odd
// fields. Expected: each field well-formed or its default, never a throw.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseResult } from "../../src/update/result";
import { decodeState, DEFAULT_STATE, openStateStore, type UpdateState } from "../../src/update/state";
import { UPDATE_CODES } from "../../src/update/codes";
import { updateView } from "../../src/update/index";
import { updateCard } from "../../src/web/update-card";

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `iotbox-${p}-`));
const RUNS = { numRuns: 300 };

/** File contents as damage makes them: text, binary, NUL blocks, CRLF, cut valid lines. */
const valid = fc.tuple(fc.constantFrom("installed", "rolled-back"), fc.stringMatching(/^[0-9a-z.+-]{1,20}$/))
  .map(([o, v]) => `2026-12-02T03:01:00Z ${o} ${v}: slot B committed`);
const damage = fc.oneof(
  fc.string({ unit: "binary", maxLength: 400 }),
  fc.string({ unit: "grapheme", maxLength: 400 }),
  fc.uint8Array({ maxLength: 400 }).map((b) => Buffer.from(b).toString("latin1")),
  fc.nat({ max: 5000 }).map((n) => "\0".repeat(n)),
  valid.chain((l) => fc.nat({ max: l.length }).map((n) => l.slice(0, n))),
  valid.map((l) => `${l}\r\n`),
  fc.constant(""), fc.constant("\n\n\n"), fc.constant("\uFEFF"),
);

const render = async (v: ReturnType<typeof updateView>, lang: "en" | "es" = "en") => String(await updateCard(v, lang, null));
const view = (o: { result?: ReturnType<typeof parseResult>; state?: UpdateState } = {}) => updateView({ state: o.state ?? structuredClone(DEFAULT_STATE), running: { version: "0.2.0", build: 1 }, result: o.result ?? null, trial: null,
  channel: "stable", quietHours: "02:00–05:00", paymentInFlight: false, nextCheckAt: null, busy: null });

describe("update.json", () => {
  const stateArb: fc.Arbitrary<UpdateState> = fc.record({
    held: fc.boolean(),
    lastCheck: fc.option(fc.record({ at: fc.string({ maxLength: 64 }), channel: fc.string({ maxLength: 64 }), outcome: fc.constantFrom("up-to-date" as const, "available" as const, "failed" as const), version: fc.option(fc.string({ maxLength: 128 })) })),
    lastError: fc.option(fc.record({ code: fc.constantFrom(...(Object.keys(UPDATE_CODES) as (keyof typeof UPDATE_CODES)[])), message: fc.string({ maxLength: 1024 }), at: fc.string({ maxLength: 64 }) })),
    download: fc.option(fc.tuple(fc.nat(), fc.nat()).chain(([a, b]) => fc.record({ version: fc.string({ maxLength: 128 }), sha256: fc.string({ maxLength: 64 }), have: fc.constant(Math.min(a, b)), size: fc.constant(Math.max(a, b)), at: fc.string({ maxLength: 64 }) }))),
    pendingReboot: fc.option(fc.record({ version: fc.string({ maxLength: 128 }), installedAt: fc.string({ maxLength: 64 }), asap: fc.boolean() })),
  });

  test("any JSON value, any object: decoded without a throw, each field well-formed or its default", () => {
    fc.assert(fc.property(fc.oneof(fc.jsonValue(), fc.anything(), fc.dictionary(fc.constantFrom("held", "lastCheck", "lastError", "download", "pendingReboot", "__proto__"), fc.jsonValue())), (raw) => {
      const s = decodeState(raw);
      expect(typeof s.held).toBe("boolean");
      if (s.lastError) expect(Object.hasOwn(UPDATE_CODES, s.lastError.code)).toBe(true);
      if (s.download) expect(s.download.have).toBeLessThanOrEqual(s.download.size);
      if (s.pendingReboot) expect(typeof s.pendingReboot.asap).toBe("boolean");
    }), RUNS);
  });

  test("a well-formed state survives a write and a read unchanged", () => {
    fc.assert(fc.property(stateArb, (s) => { expect(decodeState(JSON.parse(JSON.stringify(s)))).toEqual(s); }), RUNS);
  });

  test("an error code that is only an Object.prototype name (toString, constructor, __proto__) is not a code", async () => {
    for (const code of ["toString", "constructor", "hasOwnProperty", "__proto__", "valueOf"]) {
      const s = decodeState(JSON.parse(`{"lastError":{"code":${JSON.stringify(code)},"message":"m","at":"x"}}`));
      expect(s.lastError).toBeNull();
      expect(await render(view({ state: s }), "es")).not.toContain("native code");
    }
  });

  test("on disk: cut at any byte, binary, empty, NUL-filled (a power cut), a directory: defaults, no throw", () => {
    const d = tmp("state");
    const p = join(d, "update.json");
    fc.assert(fc.property(stateArb, fc.nat(), damage, (s, cut, junk) => {
      const full = JSON.stringify(s, null, 2);
      writeFileSync(p, full.slice(0, cut % (full.length + 1)));
      const got = openStateStore(p).get();
      if (cut % (full.length + 1) === full.length) expect(got).toEqual(s); else expect(typeof got.held).toBe("boolean");
      writeFileSync(p, junk, "latin1");
      expect(() => openStateStore(p).get()).not.toThrow();
    }), { numRuns: 150 });
    writeFileSync(p, "\0".repeat(4096));
    expect(openStateStore(p).get()).toEqual(DEFAULT_STATE);
    const q = join(d, "dir.json");
    mkdirSync(q);
    expect(openStateStore(q).get()).toEqual(DEFAULT_STATE);
    expect(() => openStateStore(q).update((x) => { x.held = true; })).toThrow();   // refused, not a silent loss
  });

  test("a write is atomic: a temporary file left by a power cut is ignored; the file always holds a whole state", () => {
    const d = tmp("atomic");
    const p = join(d, "update.json");
    const st = openStateStore(p);
    st.update((x) => { x.held = true; });
    writeFileSync(join(d, ".update.json.tmp-1-2-abc"), "{\"held\": fal");
    expect(openStateStore(p).get().held).toBe(true);
    for (let i = 0; i < 50; i++) { st.update((x) => { x.held = i % 2 === 0; }); expect(() => JSON.parse(readFileSync(p, "utf8"))).not.toThrow(); }
    expect(readdirSync(d).filter((f) => f.startsWith(".update.json.tmp-") && f !== ".update.json.tmp-1-2-abc")).toEqual([]);
  });
});

