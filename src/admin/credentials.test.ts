/**
 * Losing or damaging a file never opens the box: only a box that never had a password lets
 * the first visitor choose one.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import fc from "fast-check";
import { existsSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { decideAccess, openCredentials } from "./credentials";

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), "iotbox-cred-")); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));
const HASH = Bun.password.hashSync("correct horse battery", { algorithm: "argon2id" });

test("a fresh box is open; once set, the hash survives a reopen and stays out of config.json", () => {
  const c = openCredentials({ dataDir: dir });
  expect(c.state()).toBe("open");
  c.setHash(HASH);
  const again = openCredentials({ dataDir: dir });
  expect(again.state()).toBe("set");
  expect(again.hash()).toBe(HASH);
  expect(existsSync(join(dir, "config.json"))).toBe(false);
});

test("a damaged, emptied or deleted admin file leaves the box locked, also on the next start", () => {
  openCredentials({ dataDir: dir }).setHash(HASH);
  writeFileSync(join(dir, "admin.json"), "{\"version\":1,\"passwordHash\":");
  const c = openCredentials({ dataDir: dir });
  expect(c.state()).toBe("locked");
  expect(c.hash()).toBeNull();
  expect(readdirSync(dir).some((n) => n.startsWith("admin.json.corrupt-"))).toBe(true);
  expect(openCredentials({ dataDir: dir }).state()).toBe("locked");
  unlinkSync(join(dir, "admin.json"));
  expect(openCredentials({ dataDir: dir }).state()).toBe("locked");   // the claim marker and the aside copy remain
});

test("the technician's new password (iotbox.conf) opens a locked box", () => {
  openCredentials({ dataDir: dir }).setHash(HASH);
  writeFileSync(join(dir, "admin.json"), "garbage");
  const c = openCredentials({ dataDir: dir });
  expect(c.state()).toBe("locked");
  c.setHash(Bun.password.hashSync("a new long password", { algorithm: "argon2id" }));
  expect(openCredentials({ dataDir: dir }).state()).toBe("set");
});

test("a box whose terminal settings show an admin set it up is locked, not open", () => {
  expect(openCredentials({ dataDir: dir, usedElsewhere: () => true }).state()).toBe("locked");
});

test("an older box's hash moves from config.json", () => {
  const c = openCredentials({ dataDir: dir, legacyHash: HASH });
  expect(c.state()).toBe("set");
  expect(openCredentials({ dataDir: dir }).hash()).toBe(HASH);
});

test("property: no bytes in admin.json of a box that had a password open it", () => {
  openCredentials({ dataDir: dir }).setHash(HASH);
  fc.assert(fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.json().map((j) => new TextEncoder().encode(j)),
    fc.record({ version: fc.anything(), passwordHash: fc.anything(), setAt: fc.anything() }).map((o) => new TextEncoder().encode(JSON.stringify(o) ?? ""))), (bytes) => {
    writeFileSync(join(dir, "admin.json"), bytes);
    const c = openCredentials({ dataDir: dir });
    // either the file still holds a valid hash (then it is exactly a hash), or the box is locked
    if (c.state() === "set") expect(c.hash()).toMatch(/^\$argon2/);
    else expect(c.state()).toBe("locked");
  }), { numRuns: 150 });
});

test("decideAccess: open only when nothing shows a password ever existed", () => {
  fc.assert(fc.property(fc.boolean(), fc.boolean(), fc.boolean(), fc.constantFrom(null, "damaged" as const), (claimed, aside, used, file) => {
    const d = decideAccess({ file, claimed, asideCopies: aside, usedElsewhere: used });
    expect(d.state === "open").toBe(!claimed && !aside && !used && file === null);
  }));
});

test("new hashes cost 19 MiB, and a hash made with Bun's 64 MiB default (an older box) still verifies", async () => {
  const { hashPassword } = await import("./password");
  const h = await hashPassword("correct horse battery");
  expect(h).toContain("$m=19456,t=2,p=1$");
  const c = openCredentials({ dataDir: dir, legacyHash: HASH });   // HASH: Bun's default settings
  expect(HASH).toContain("$m=65536,");
  expect(await Bun.password.verify("correct horse battery", c.hash()!)).toBe(true);
  c.setHash(h);
  expect(await Bun.password.verify("correct horse battery", openCredentials({ dataDir: dir }).hash()!)).toBe(true);
});

test("a power cut between the hash and the marker never locks the box, and the marker is made good", () => {
  const { writeFileSync: w, existsSync: e } = require("node:fs") as typeof import("node:fs");
  // as left by a power cut right after the hash was written: admin.json, no admin.claimed
  w(join(dir, "admin.json"), JSON.stringify({ version: 1, passwordHash: HASH, setAt: null }));
  const c = openCredentials({ dataDir: dir });
  expect(c.state()).toBe("set");
  expect(e(join(dir, "admin.claimed"))).toBe(true);
  unlinkSync(join(dir, "admin.json"));
  expect(openCredentials({ dataDir: dir }).state()).toBe("locked");   // from then on, losing the hash locks
});
