/**
 * config.json decoded field by field (decode.ts): generated damage never throws, the decoded file is
 * written back once (one copy of the damaged one, however many starts follow), and a decoded file
 * reads back with no problem and the same values.
 */
import { afterEach, beforeEach, expect, test } from "bun:test";
import fc from "fast-check";
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openConfigStore } from "./store";

let dir: string;
beforeEach(() => { dir = mkdtempSync(join(tmpdir(), "iotbox-config-")); });
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test("a damaged field is reported on one start and copied aside once, however many starts follow", () => {
  const file = join(dir, "config.json");
  writeFileSync(file, JSON.stringify({ boxId: "0123456789", logLevel: 42, dbUuid: "1f2e3d4c-0000-1111" }));
  const first = openConfigStore(file);
  expect(first.loadProblems.length).toBe(1);
  for (let i = 0; i < 3; i++) {
    const again = openConfigStore(file);
    expect(again.loadProblems).toEqual([]);
    expect(again.get()).toMatchObject({ boxId: "0123456789", logLevel: "info", dbUuid: "1f2e3d4c-0000-1111" });
  }
  expect(readdirSync(dir).filter((n) => n.startsWith("config.json.damaged-")).length).toBe(1);
});

test("property: any JSON in any field never throws; the decoded configuration reads back unchanged, with no problem", () => {
  const file = join(dir, "config.json");
  const fields = ["boxId", "serverUrl", "dbUuid", "enterpriseCode", "provisioningUrl", "hostname", "wifi", "logLevel", "diag", "subjectCn", "csrNames", "reportedIp", "bootImport", "adminPasswordHash", "other"];
  fc.assert(fc.property(fc.dictionary(fc.constantFrom(...fields), fc.jsonValue({ maxDepth: 2 })), fc.boolean(), (o, asText) => {
    for (const n of readdirSync(dir)) rmSync(join(dir, n));
    writeFileSync(file, asText ? JSON.stringify(o) : JSON.stringify(o).slice(0, -1));   // sometimes cut short
    const a = openConfigStore(file);
    if (a.legacyAdminHash) a.update(() => {});                                      // as main.ts does once the hash is moved
    const b = openConfigStore(file);
    expect(b.loadProblems).toEqual([]);
    expect(b.get()).toEqual(a.get());
  }), { numRuns: 200 });
});
