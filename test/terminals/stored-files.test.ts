/**
 * The terminals' stored files are decoded when read: in settings.json a damaged field falls back
 * to its default, a damaged terminal or pairing is dropped, each is reported, the rest stands; a
 * file that does not parse is kept aside and reported; never a crash. A damaged journal line is
 * kept in unreadable.log and the other payments stand.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../src/log/index";
import { createTerminals } from "../../src/terminals/index";
import { sha256Hex } from "../../src/terminals/pos-api";
import { createJournal } from "../../src/terminals/store";
import { KEY, tempDir } from "./helpers";

const TOKEN = "a-pos-token-that-was-paired-before-the-damage-0001";
const good = { id: "P400Plus-275039202", address: "192.168.1.50", poiid: "P400Plus-275039202", keyIdentifier: KEY.keyIdentifier, keyVersion: 1, passphrase: KEY.passphrase, addedAt: "2026-01-01T00:00:00.000Z" };

async function boxWith(settings: string, journal?: string) {
  const dir = tempDir();
  mkdirSync(join(dir.path, "terminals", "journal"), { recursive: true });
  writeFileSync(join(dir.path, "terminals", "settings.json"), settings);
  if (journal !== undefined) writeFileSync(join(dir.path, "terminals", "journal", "journal.log"), journal);
  const logs: string[] = [];
  const t = createTerminals({ dataDir: dir.path, logger: createLogger({ write: (l) => logs.push(l) }), fleetRootsPem: () => [] });
  await t.start();
  const files = () => readdirSync(join(dir.path, "terminals"));
  return { t, dir, logs, files };
}

test("settings.json: damaged fields and entries are dropped and reported, the rest stands", async () => {
  const b = await boxWith(JSON.stringify({
    version: 1, saleId: 42,
    terminals: [good, { ...good, id: "V400m-1", poiid: "V400m-1", keyVersion: "1" }, "junk", { ...good, poiid: "V400m-2", address: "http://x/" }, good],
    posOrigins: ["https://pos.example.com", "http://insecure.example", 7],
    pairings: [{ id: "pos_aaaaaaaaaaaa", name: "till 1", tokenHash: sha256Hex(TOKEN), createdAt: "2026-01-01T00:00:00.000Z" }, { id: "pos_b", name: "till 2", tokenHash: 5 }],
  }));
  try {
    expect((await b.t.list()).map((x) => x.id)).toEqual(["P400Plus-275039202"]);
    expect(b.t.problems()).toEqual([
      'terminals/settings.json: "saleId" should be 1-64 printable characters; a new one was made',
      "terminals/settings.json: terminal V400m-1 was dropped (keyVersion must be a whole number); add it again in the settings",
      "terminals/settings.json: terminal #3 was dropped (it is not an object); add it again in the settings",
      'terminals/settings.json: terminal V400m-2 was dropped ("http://x/" is not a terminal address (IP or host, optional :port)); add it again in the settings',
      "terminals/settings.json: a second entry for terminal P400Plus-275039202 was dropped (the first one stands)",
      'terminals/settings.json: the POS origin "http://insecure.example" was dropped (not an https origin)',
      "terminals/settings.json: the POS origin 7 was dropped (not an https origin)",
      'terminals/settings.json: POS pairing "till 2" was dropped (damaged); pair that POS again',
    ]);
    // the pairing that was whole still works; the file as found is kept beside the repaired one
    const r = await b.t.posApi.request("http://box/terminals", { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
    expect(b.files().some((f) => f.startsWith("settings.json.damaged-"))).toBe(true);
    const saved = JSON.parse(readFileSync(join(b.dir.path, "terminals", "settings.json"), "utf8"));
    expect(saved.posOrigins).toEqual(["https://pos.example.com"]);
    expect(typeof saved.saleId).toBe("string");
    expect(b.logs.join("\n")).not.toContain(KEY.passphrase);
  } finally { await b.t.stop(); b.dir.dispose(); }
});

test("settings.json: a field of the wrong type falls back to its default", async () => {
  const b = await boxWith(JSON.stringify({ version: 1, saleId: "iotbox-abc123", terminals: { not: "a list" }, posOrigins: "https://pos.example.com", pairings: null }));
  try {
    expect(await b.t.list()).toEqual([]);
    expect(b.t.problems()).toEqual([
      'terminals/settings.json: "terminals" should be a list; it was reset to an empty one',
      'terminals/settings.json: "posOrigins" should be a list; it was reset to an empty one',
      'terminals/settings.json: "pairings" should be a list; it was reset to an empty one',
    ]);
  } finally { await b.t.stop(); b.dir.dispose(); }
});

for (const [what, content] of [["not JSON", '{"terminals": [ {"id": '], ["JSON but not an object", "[1, 2]"], ["null", "null"]] as const) {
  test(`settings.json ${what}: kept aside as .corrupt-<time>, reported, the box starts`, async () => {
    const b = await boxWith(content);
    try {
      expect(await b.t.list()).toEqual([]);
      expect(b.t.problems().length).toBe(1);
      expect(b.t.problems()[0]).toMatch(/^terminals\/settings\.json could not be used \(.+\); it was kept as .*settings\.json\.corrupt-\d{4}-\d\d-\d\dT\d{9}Z: the terminals and POS pairings must be set again$/);
      const aside = b.files().find((f) => f.startsWith("settings.json.corrupt-"))!;
      expect(readFileSync(join(b.dir.path, "terminals", aside), "utf8")).toBe(content);
      // a new, whole settings.json: the next start reads it without a problem
      await b.t.stop();
      const again = createTerminals({ dataDir: b.dir.path, logger: createLogger({ write: () => {} }), fleetRootsPem: () => [] });
      await again.start();
      expect(again.problems()).toEqual([]);
      await again.stop();
    } finally { await b.t.stop(); b.dir.dispose(); }
  });
}

test("journal: a damaged line in the middle and a record that is not a whole payment are kept in unreadable.log; the rest stand", async () => {
  const now = new Date().toISOString();
  const tx = (id: string, state: string) => JSON.stringify({
    id, pairingId: "pos_1", idempotencyKey: id, bodyHash: "h", terminalId: "P400Plus-1", poiid: "P400Plus-1", saleId: "s", serviceId: "A1",
    amountMinor: 1, currency: "EUR", reference: "r", state, createdAt: now, updatedAt: now, version: 2,
  });
  const damaged = ["{\"id\":\"tx_gone\", garbage", "\u0000\u0001binary\u00ff", JSON.stringify({ id: "tx_partAAAAAAAAAAA", state: "approved" }), tx("tx_weirdAAAAAAAAAA", "exploded")];
  const b = await boxWith(JSON.stringify({ version: 1, saleId: "iotbox-abc123", terminals: [], posOrigins: [], pairings: [] }),
    [tx("tx_firstAAAAAAAAAA", "approved"), ...damaged, tx("tx_lastAAAAAAAAAAA", "declined")].join("\n") + "\n");
  try {
    const j = join(b.dir.path, "terminals", "journal");
    expect(readFileSync(join(j, "unreadable.log"), "utf8")).toBe(damaged.map((l) => l + "\n").join(""));
    expect(createJournal(join(b.dir.path, "terminals")).loadAll().map((t) => t.id).sort()).toEqual(["tx_firstAAAAAAAAAA", "tx_lastAAAAAAAAAAA"]);
    expect(b.logs.filter((l) => l.includes("unreadable journal record")).length).toBe(4);
    expect(existsSync(join(j, "journal.log"))).toBe(true);
  } finally { await b.t.stop(); b.dir.dispose(); }
});
