/**
 * Property-based: whatever a technician's editor (or a damaged card) puts in iotbox.conf, the
 * import never throws, lists at most MAX_PROBLEMS + 1 problems, and leaves every line it does
 * not remove byte for byte; it removes only accepted secret lines; a file over the cap is not
 * touched. Replay a failure with IOTBOX_FC_SEED=<seed printed below>.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { silentLogger } from "../log/index";
import { applyBootConf, BOOT_KEYS, MAX_BOOT_CONF_BYTES, MAX_PROBLEMS, parseBootConf } from "./boot-conf";
import { importBootConf } from "./import";
import { defaultConfig, type BoxConfig } from "./schema";
import { openConfigStore } from "./store";

const seed = Number(process.env.IOTBOX_FC_SEED ?? Date.now() % 2 ** 31);
console.log(`boot-conf properties: seed ${seed} (IOTBOX_FC_SEED=${seed} to replay)`);
const work = mkdtempSync(join(tmpdir(), "iotbox-bootconf-prop-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const enc = (s: string) => Buffer.from(s, "utf8");
const space = fc.constantFrom("", " ", "  ", "\t", "            ");
const text = fc.string({ unit: "grapheme", maxLength: 30 });
const comment = fc.oneof(fc.constant(""), text.map((t) => ` # ${t}`), text.map((t) => `\t#${t}`));
const value = fc.oneof(text, text.map((t) => `"${t}"`), fc.constantFrom("https://a.example", "M2401234", "db-0001-uuid", "caja-01", "on", "ES", "hunter2hunter2", "x"));
const keyLine = fc.tuple(fc.constantFrom(...BOOT_KEYS, "colour", "Admin_Password", "WIFI_SSID"), space, space, value, comment)
  .map(([k, a, b, v, c]) => enc(`${a}${k}${b}=${a}${v}${c}`));
const line = fc.oneof(
  { weight: 5, arbitrary: keyLine },
  { weight: 1, arbitrary: text.map((t) => enc(`#${t}`)) },
  { weight: 1, arbitrary: space.map(enc) },
  { weight: 1, arbitrary: fc.constant(enc("# iotbox: applied on 2025-01-01T00:00:00.000Z; admin_password removed from this file after import.")) },
  { weight: 2, arbitrary: fc.uint8Array({ maxLength: 40 }).map((b) => Buffer.from(b)) }, // any bytes, LF and CR included
);
const file = fc.tuple(fc.boolean(), fc.array(fc.tuple(line, fc.constantFrom("\n", "\r\n")), { maxLength: 30 }), fc.boolean())
  .map(([bom, ls, lastEol]) => Buffer.concat([
    bom ? Buffer.from([0xef, 0xbb, 0xbf]) : Buffer.alloc(0),
    ...ls.flatMap(([l, eol], i) => (i < ls.length - 1 || lastEol ? [l, enc(eol)] : [l])),
  ]));

/** The file's lines, each with its ending, BOM apart: written independently of the parser. */
function splitLines(b: Buffer): { bom: boolean; lines: Buffer[] } {
  const bom = b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf;
  const body = bom ? b.subarray(3) : b;
  const lines: Buffer[] = [];
  for (let s = 0; s < body.length;) { const lf = body.indexOf(0x0a, s); const e = lf < 0 ? body.length : lf + 1; lines.push(body.subarray(s, e)); s = e; }
  return { bom, lines };
}
const SECRET = /^\s*(admin_password|wifi_password|enterprise_code)\s*=/i;
const isHeader = (l: Buffer) => l.toString("latin1").startsWith("# iotbox: applied on ");
const looksSecret = (l: Buffer) => SECRET.test(l.toString("latin1"));

let n = 0;
async function importOnce(content: Buffer) {
  const dir = join(work, String(n++));
  const store = openConfigStore(join(dir, "config.json"));
  const path = join(dir, "iotbox.conf");
  writeFileSync(path, content);
  const before = structuredClone(store.get());
  const out = await importBootConf(path, store, silentLogger());
  return { out, after: Buffer.from(readFileSync(path)), store, before };
}

test("any file: no throw, problems capped, only accepted secret lines removed, the rest byte for byte", async () => {
  await fc.assert(fc.asyncProperty(file, async (content) => {
    const { out, after, store } = await importOnce(content);
    expect(out.problems.length).toBeLessThanOrEqual(MAX_PROBLEMS + 1);
    if (after.equals(content)) return;
    const o = splitLines(content), a = splitLines(after);
    expect(a.bom).toBe(o.bom);
    expect(isHeader(a.lines[0]!)).toBe(true);
    const kept = a.lines.slice(1);
    expect(kept.some(isHeader)).toBe(false);
    // every line that is neither secret nor an old header survives, in order, byte for byte
    const plain = (ls: Buffer[]) => ls.filter((l) => !looksSecret(l) && !isHeader(l)).map((l) => l.toString("hex"));
    expect(plain(kept)).toEqual(plain(o.lines));
    // what is left is the original minus some lines (a subsequence)
    let i = 0;
    for (const l of kept) { while (i < o.lines.length && !o.lines[i]!.equals(l)) i++; expect(i).toBeLessThan(o.lines.length); i++; }
    // the secret lines left are the rejected ones: a second pass has nothing to remove
    expect(applyBootConf(parseBootConf(after).lines, store.get()).secretLines).toEqual([]);
  }), { seed, numRuns: 200 });
}, 120_000);

test("the parser alone on any bytes: no throw, problems capped", () => {
  fc.assert(fc.property(fc.oneof(file, fc.uint8Array({ maxLength: 4000 }).map((b) => Buffer.from(b))), (content) => {
    const p = parseBootConf(content);
    expect(Buffer.concat([...(p.bom ? [Buffer.from([0xef, 0xbb, 0xbf])] : []), ...p.lines.map((l) => l.bytes)]).equals(content)).toBe(true);
    expect(applyBootConf(p.lines, (defaultConfig as (...a: string[]) => BoxConfig)("abcdef1234", "s")).problems.length).toBeLessThanOrEqual(MAX_PROBLEMS + 1);
  }), { seed, numRuns: 1000 });
});

test("a file over 64 KiB is left untouched and nothing in it applies", async () => {
  await fc.assert(fc.asyncProperty(file, fc.integer({ min: 1, max: 4096 }), async (content, extra) => {
    const big = Buffer.concat([content, Buffer.alloc(MAX_BOOT_CONF_BYTES + extra - content.length > 0 ? MAX_BOOT_CONF_BYTES + extra - content.length : extra, "#")]);
    const { out, after, store, before } = await importOnce(big);
    expect(after.equals(big)).toBe(true);
    expect(out.problems.length).toBe(1);
    expect({ ...store.get(), bootImport: null }).toEqual({ ...before, bootImport: null });
  }), { seed, numRuns: 30 });
}, 120_000);
