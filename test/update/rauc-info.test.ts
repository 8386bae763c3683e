// The bundle check against the real `rauc info` (RAUC 1.8 on this host) and real bundles.
import { beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../src/log/index";
import { decideBundle } from "../../src/update/check";
import { createRauc } from "../../src/update/rauc";
import { makeBundle, makeKey, type Key } from "./bundles";

const lines: string[] = [];
const logger = createLogger({ level: "debug", write: (l) => lines.push(l) });
const running = { version: "0.2.0+g666093c81f", build: 1_764_000_000 };
let dir: string, vendor: Key, other: Key, good: string;
const rauc = () => createRauc({ binary: "rauc", keyring: vendor.cert, logger });
const verdict = async (file: string) => decideBundle(await rauc().info(file), running);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "iotbox-rauc-"));
  vendor = makeKey(dir, "vendor");
  other = makeKey(dir, "other");
  good = makeBundle(dir, { key: vendor, version: "0.3.0+gabc", build: 1_765_000_000 });
});

describe("rauc info on real bundles", () => {
  test("a newer bundle signed by the vendor passes, with its version and build", async () => {
    expect(await verdict(good)).toEqual({ ok: true, info: { compatible: "iotbox-raspberrypi-arm64", version: "0.3.0+gabc", build: 1_765_000_000 } });
  });
  test("signed by someone else", async () => {
    const f = makeBundle(dir, { key: other, version: "0.3.0", build: 1_765_000_000, name: "other.raucb" });
    expect(await verdict(f)).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_FOREIGN_SIGNATURE" });
    // rauc's words went to the log only
    expect(lines.some((l) => l.includes("self-signed certificate") || l.includes("issuer"))).toBe(true);
  });
  test("cut anywhere: damaged (or, cut exactly at the squashfs, unsigned), never accepted", async () => {
    const bytes = readFileSync(good);
    for (const n of [0, 3, 100, 4096, Math.floor(bytes.length / 2), bytes.length - 1000, bytes.length - 9, bytes.length - 1]) {
      const f = join(dir, `cut-${n}.raucb`);
      writeFileSync(f, bytes.subarray(0, n));
      const v = await verdict(f);
      expect(v.ok).toBe(false);
      if (!v.ok) expect(["ERR_IOT_UPDATE_DAMAGED", "ERR_IOT_UPDATE_UNSIGNED"]).toContain(v.code);
    }
  });
  test("a bare squashfs (no signature) is 'not signed'", async () => {
    const bytes = readFileSync(good);
    const sig = Number(bytes.readBigUInt64BE(bytes.length - 8));
    const f = join(dir, "unsigned.raucb");
    writeFileSync(f, bytes.subarray(0, bytes.length - 8 - sig));
    expect(await verdict(f)).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_UNSIGNED" });
    const bare = join(dir, "bare.raucb");
    const used = Number(bytes.readBigUInt64LE(40));
    writeFileSync(bare, bytes.subarray(0, Math.ceil(used / 4096) * 4096));
    expect(await verdict(bare)).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_UNSIGNED" });
  });
  test("a changed byte in the signed manifest is damaged", async () => {
    const bytes = Buffer.from(readFileSync(good));
    const at = bytes.lastIndexOf("version=0.3.0");
    expect(at).toBeGreaterThan(0);
    bytes[at + "version=".length] = "9".charCodeAt(0);   // 9.3.0: a "newer" version made by hand
    const f = join(dir, "flipped.raucb");
    writeFileSync(f, bytes);
    expect(await verdict(f)).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_DAMAGED" });
  });
  test("not a bundle at all; a missing file", async () => {
    const f = join(dir, "text.raucb");
    writeFileSync(f, "hello, this is a text file\n".repeat(10));
    expect(await verdict(f)).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_DAMAGED" });
    expect(await verdict(join(dir, "nope.raucb"))).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_NOT_FOUND" });
  });
  test("another kind of device, older, the same version", async () => {
    expect(await verdict(makeBundle(dir, { key: vendor, version: "0.3.0", build: 1_765_000_000, compatible: "iotbox-x86_64", name: "x86.raucb" }))).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_WRONG_DEVICE" });
    expect(await verdict(makeBundle(dir, { key: vendor, version: "0.1.9", build: 1_765_000_000, name: "old.raucb" }))).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_OLDER" });
    expect(await verdict(makeBundle(dir, { key: vendor, version: "0.2.0+g666093c81f", build: 1_764_000_000, name: "same.raucb" }))).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_SAME" });
    expect(await verdict(makeBundle(dir, { key: vendor, version: "0.2.0+g777", build: 1_763_000_000, name: "older-build.raucb" }))).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_OLDER" });
  });
  test("a keyring the box cannot read is the box's problem, not the bundle's", async () => {
    const r = createRauc({ binary: "rauc", keyring: join(dir, "missing.pem"), logger });
    expect(decideBundle(await r.info(good), running)).toMatchObject({ ok: false, code: "ERR_IOT_UPDATE_BOX" });
    expect(statSync(good).size).toBeGreaterThan(0);
    copyFileSync(good, join(dir, "copy.raucb"));
  });
});
