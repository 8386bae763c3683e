/**
 * The journal: an append-only log (one fdatasync per change). At start old finished records are
 * pruned, unfinished ones never; unreadable records are reported and kept for a human; a line cut
 * by a power failure does not swallow the next one; the per-payment files of older boxes are read.
 */
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../src/log/index";
import { createTerminals } from "../../src/terminals/index";
import { createJournal, type Tx } from "../../src/terminals/store";
import { tempDir } from "./helpers";

const tx = (id: string, state: string, updatedAt: string, version = 2) => ({
  id, pairingId: "pos_1", idempotencyKey: id, bodyHash: "h", terminalId: "P400Plus-1", poiid: "P400Plus-1", saleId: "s", serviceId: "A1",
  amountMinor: 1, currency: "EUR", reference: "r", state, createdAt: updatedAt, updatedAt, version,
}) as Tx;
const rec = (id: string, state: string, updatedAt: string, version = 2) => JSON.stringify(tx(id, state, updatedAt, version));

test("older boxes' per-payment files: pruned, kept, unreadable ones left on disk, the rest folded into the log", async () => {
  const dir = tempDir();
  try {
    const j = join(dir.path, "terminals", "journal");
    mkdirSync(j, { recursive: true });
    const old = new Date(Date.now() - 40 * 86400_000).toISOString();
    writeFileSync(join(j, "tx_oldapprovedAAAA.json"), rec("tx_oldapprovedAAAA", "approved", old));
    writeFileSync(join(j, "tx_recentapprovedA.json"), rec("tx_recentapprovedA", "approved", new Date().toISOString()));
    writeFileSync(join(j, "tx_brokenrecordAAA.json"), "{\"id\":");
    const logs: string[] = [];
    const t = createTerminals({ dataDir: dir.path, logger: createLogger({ write: (l) => logs.push(l) }), fleetRootsPem: () => [] });
    await t.start();
    expect(existsSync(join(j, "tx_oldapprovedAAAA.json"))).toBe(false);
    expect(existsSync(join(j, "tx_recentapprovedA.json"))).toBe(false); // now in journal.log
    expect(existsSync(join(j, "tx_brokenrecordAAA.json"))).toBe(true);
    expect(logs.join("\n")).toContain("unreadable journal record");
    const ids = createJournal(join(dir.path, "terminals")).loadAll().map((r) => r.id);
    expect(ids).toEqual(["tx_recentapprovedA"]);
    await t.stop();
  } finally { dir.dispose(); }
});

test("the latest line of a transaction wins; old finished ones are pruned at start, unfinished ones never", async () => {
  const dir = tempDir();
  try {
    const j = join(dir.path, "terminals", "journal");
    mkdirSync(j, { recursive: true });
    const now = new Date().toISOString(), old = new Date(Date.now() - 40 * 86400_000).toISOString();
    writeFileSync(join(j, "journal.log"), [
      rec("tx_firstAAAAAAAAAA", "pending", now, 1), rec("tx_firstAAAAAAAAAA", "approved", now, 3), rec("tx_firstAAAAAAAAAA", "in_progress", now, 2),
      rec("tx_oldfinishedAAAA", "declined", old), rec("tx_oldunfinishedAA", "unknown", old),
    ].join("\n") + "\n");
    const t = createTerminals({ dataDir: dir.path, logger: createLogger({ write: () => {} }), fleetRootsPem: () => [] });
    await t.start();
    await t.stop();
    const after = Object.fromEntries(createJournal(join(dir.path, "terminals")).loadAll().map((r) => [r.id, r.state]));
    expect(after).toEqual({ tx_firstAAAAAAAAAA: "approved", tx_oldunfinishedAA: "unknown" });
    // compacted: one line per transaction
    expect(readFileSync(join(j, "journal.log"), "utf8").trim().split("\n").length).toBe(2);
  } finally { dir.dispose(); }
});

test("a line cut by a power failure is reported, kept aside, and does not swallow the next write", () => {
  const dir = tempDir();
  try {
    const j = join(dir.path, "journal");
    mkdirSync(j, { recursive: true });
    const now = new Date().toISOString();
    const cut = rec("tx_cutAAAAAAAAAAAA", "in_progress", now).slice(0, 60);
    writeFileSync(join(j, "journal.log"), rec("tx_wholeAAAAAAAAAA", "approved", now) + "\n" + cut);
    // a writer that appends before anyone has read the file (no compaction in between)
    const w = createJournal(dir.path);
    w.write(tx("tx_nextAAAAAAAAAAA", "in_progress", now, 1));
    w.close();
    const problems: string[] = [];
    const r = createJournal(dir.path);
    const ids = r.loadAll((where) => problems.push(where)).map((x) => x.id).sort();
    expect(ids).toEqual(["tx_nextAAAAAAAAAAA", "tx_wholeAAAAAAAAAA"]);
    expect(problems).toEqual(["journal.log line 2"]);
    r.compact(r.loadAll());
    expect(readFileSync(join(j, "unreadable.log"), "utf8")).toBe(cut + "\n");
    expect(createJournal(dir.path).loadAll().length).toBe(2);
  } finally { dir.dispose(); }
});

test("each write is one line, on disk when write() returns (read back by a second reader at once)", () => {
  const dir = tempDir();
  try {
    const w = createJournal(dir.path);
    const now = new Date().toISOString();
    for (let i = 1; i <= 5; i++) w.write(tx("tx_growingAAAAAAAA", ["pending", "in_progress", "unknown", "in_progress", "approved"][i - 1]!, now, i));
    w.writeMany([tx("tx_aAAAAAAAAAAAAAA", "pending", now, 1), tx("tx_bAAAAAAAAAAAAAA", "pending", now, 1)]);
    expect(readFileSync(join(dir.path, "journal", "journal.log"), "utf8").split("\n").length).toBe(8);
    const got = Object.fromEntries(createJournal(dir.path).loadAll().map((r) => [r.id, r.state]));
    expect(got).toEqual({ tx_growingAAAAAAAA: "approved", tx_aAAAAAAAAAAAAAA: "pending", tx_bAAAAAAAAAAAAAA: "pending" });
    w.close();
  } finally { dir.dispose(); }
});
