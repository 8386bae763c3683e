// The health check's result and trial files as the field leaves them: damaged, truncated, binary,
// huge, the wrong kind of file; and their version on the homepage. Expected: no verdict the file
// does not say, never a throw or a hang.
import { describe, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdirSync, mkdtempSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { parseResult, parseTrial, readOutcome } from "../../src/update/result";
import { DEFAULT_STATE, type UpdateState } from "../../src/update/state";
import { updateView } from "../../src/update/index";
import { updateCard } from "../../src/web/update-card";

const tmp = (p: string) => mkdtempSync(join(tmpdir(), `iotbox-${p}-`));
const RUNS = { numRuns: 300 };
const BUN = process.execPath;

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
const fileContent = fc.oneof(damage, fc.array(fc.oneof(valid, damage), { maxLength: 5 }).map((a) => a.join("\n")));

const render = async (v: ReturnType<typeof updateView>, lang: "en" | "es" = "en") => String(await updateCard(v, lang, null));
const view = (o: { result?: ReturnType<typeof parseResult>; state?: UpdateState } = {}) => updateView({ state: o.state ?? structuredClone(DEFAULT_STATE), running: { version: "0.2.0", build: 1 }, result: o.result ?? null, trial: null,
  channel: "stable", quietHours: "02:00–05:00", paymentInFlight: false, nextCheckAt: null, busy: null });

describe("result and trial", () => {
  test("any content: no throw; a verdict only from a well-formed line, its version one token, the line capped and free of control bytes", () => {
    fc.assert(fc.property(fileContent, (t) => {
      const r = parseResult(t);
      if (r === null) return;
      expect(r.line.length).toBeLessThanOrEqual(300);
      expect(/[\u0000-\u001f\u007f]/.test(r.line)).toBe(false);
      if (r.outcome !== null) {
        expect(r.version).toMatch(/^[^\s:]{1,128}$/);
        expect(r.at).toMatch(/^\d{4}-\d{2}-\d{2}T/);
        expect(r.line).toContain(` ${r.outcome} ${r.version}:`);
      } else { expect(r.version).toBeNull(); expect(r.at).toBeNull(); }
      const tr = parseTrial(t);
      if (tr) { expect(tr.slot).toMatch(/^\S{1,32}$/); expect(tr.version).toMatch(/^\S{1,128}$/); }
    }), RUNS);
  });

  test("a rollback stays a rollback when damage follows it (NUL block after a power cut, garbage lines)", () => {
    const tail = fc.oneof(fc.nat({ max: 4000 }).map((n) => "\0".repeat(n + 1)), fc.string({ unit: "binary", maxLength: 200 }).filter((s) => !/(installed|rolled-back)/.test(s)));
    fc.assert(fc.property(fc.stringMatching(/^[0-9a-z.+-]{1,20}$/), tail, (v, t) => {
      const r = parseResult(`2026-12-02T03:01:00Z rolled-back ${v}: slot B did not come up healthy; back on slot A\n${t}`);
      expect(r?.outcome).toBe("rolled-back");
      expect(r?.version).toBe(v);
    }), RUNS);
    expect(parseResult("2026-12-02T03:01:00Z rolled-back 0.3.0: x\n\0\0\0\0")).toMatchObject({ outcome: "rolled-back", version: "0.3.0" });
  });

  test("a control byte inside the version never joins it into another version", () => {
    fc.assert(fc.property(fc.stringMatching(/^[0-9a-z.]{1,10}$/), fc.stringMatching(/^[0-9a-z.]{1,10}$/), fc.integer({ min: 0, max: 31 }), (a, b, c) => {
      const r = parseResult(`2026-12-02T03:01:00Z rolled-back ${a}${String.fromCharCode(c)}${b}: x`);
      expect(r?.version === `${a}${b}`).toBe(false);
    }), RUNS);
  });

  test("CRLF, tabs, a version with spaces, empty and blank files", () => {
    expect(parseResult("2026-12-02T03:01:00Z installed 0.3.0: slot B committed\r\n")).toMatchObject({ outcome: "installed", version: "0.3.0", line: "2026-12-02T03:01:00Z installed 0.3.0: slot B committed" });
    expect(parseResult("2026-12-02T03:01:00Z\tinstalled\t0.3.0: ok")).toMatchObject({ outcome: "installed", version: "0.3.0" });
    expect(parseResult("2026-12-02T03:01:00Z installed 0.3 beta: ok")).toMatchObject({ outcome: null, version: null });
    expect(parseResult("")).toBeNull();
    expect(parseResult(" \n\r\n\t")).toBeNull();
    expect(parseResult("\0\0\0")).toBeNull();
    expect(parseTrial("B 0.3.0\r\n")).toEqual({ slot: "B", version: "0.3.0" });
    expect(parseTrial("")).toBeNull();
  });

  test("on disk: each damaged file gives a result or none, never a throw", () => {
    const d = tmp("outcome");
    fc.assert(fc.property(fileContent, fileContent, (r, t) => {
      writeFileSync(join(d, "result"), r, "latin1"); writeFileSync(join(d, "trial"), t, "latin1");
      const o = readOutcome(d);
      expect(o.result === null || typeof o.result.line === "string").toBe(true);
    }), { numRuns: 100 });
  });

  test("a directory, a FIFO, a symlink to /dev/zero or to nothing: no result, and no hang (in a child with a 10 s limit)", () => {
    const d = tmp("kinds");
    mkdirSync(join(d, "result"));
    spawnSync("mkfifo", [join(d, "trial")]);
    const e = tmp("kinds2");
    symlinkSync("/dev/zero", join(e, "result"));
    symlinkSync(join(e, "nowhere"), join(e, "trial"));
    const f = tmp("kinds3");
    writeFileSync(join(f, "real"), "2026-12-02T03:01:00Z installed 0.3.0: ok\n");
    symlinkSync(join(f, "real"), join(f, "result"));
    const src = join(import.meta.dir, "../../src/update/result.ts");
    const p = spawnSync(BUN, ["-e", `import { readOutcome } from ${JSON.stringify(src)}; console.log(JSON.stringify([${[d, e, f].map((x) => `readOutcome(${JSON.stringify(x)})`).join(",")}]))`], { timeout: 10_000, encoding: "utf8" });
    expect(p.signal).toBeNull();
    expect(JSON.parse(p.stdout)).toEqual([{ result: null, trial: null }, { result: null, trial: null },
      { result: { line: "2026-12-02T03:01:00Z installed 0.3.0: ok", at: "2026-12-02T03:01:00Z", outcome: "installed", version: "0.3.0" }, trial: null }]);
  });

  test("a 100 MB result file: only its first 4 KiB are read (the homepage reads it at each request)", () => {
    const d = tmp("huge");
    const f = join(d, "result");
    writeFileSync(f, "2026-12-02T03:01:00Z rolled-back 0.3.0: back on slot A\n");
    truncateSync(f, 100 * 1024 * 1024);
    const t0 = performance.now();
    for (let i = 0; i < 20; i++) expect(readOutcome(d).result).toMatchObject({ outcome: "rolled-back", version: "0.3.0" });
    expect((performance.now() - t0) / 20).toBeLessThan(20);   // a whole read of 100 MB is ~100× that
  });

  test("the version on the homepage is escaped: <script> and quotes from the result file, update.json", async () => {
    const evil = `<script>alert(1)</script>"'&`;
    for (const o of ["installed", "rolled-back"]) {
      const r = parseResult(`2026-12-02T03:01:00Z ${o} <script>alert(1)</script>"'&: x`);
      expect(r?.version).toBe(evil);
      const page = await render(view({ result: r }));
      expect(page).not.toContain("<script>");
      expect(page).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    }
    const unknown = await render(view({ result: parseResult("<img src=x onerror=alert(1)> damaged") }));
    expect(unknown).not.toContain("<img");
    const s = structuredClone(DEFAULT_STATE);
    s.pendingReboot = { version: evil, installedAt: "x", asap: false };
    s.download = { version: evil, sha256: "a", have: 1, size: 2, at: "x" };
    s.lastCheck = { at: evil, channel: "stable", outcome: "available", version: evil };
    s.lastError = { code: "ERR_IOT_UPDATE_DAMAGED", message: evil, at: "x" };
    for (const lang of ["en", "es"] as const) expect(await render(view({ state: s }), lang)).not.toContain("<script>");
  });
});

