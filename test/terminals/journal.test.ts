/** The journal at start: old finished records are pruned, unfinished ones never, unreadable ones are reported and kept. */
import { expect, test } from "bun:test";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createLogger } from "../../src/log/index";
import { createTerminals } from "../../src/terminals/index";
import { tempDir } from "./helpers";

const rec = (id: string, state: string, updatedAt: string) => JSON.stringify({
  id, pairingId: "pos_1", idempotencyKey: id, bodyHash: "h", terminalId: "P400Plus-1", poiid: "P400Plus-1", saleId: "s", serviceId: "A1",
  amountMinor: 1, currency: "EUR", reference: "r", state, createdAt: updatedAt, updatedAt, version: 2,
});

test("pruning and unreadable records", async () => {
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
    expect(existsSync(join(j, "tx_recentapprovedA.json"))).toBe(true);
    expect(existsSync(join(j, "tx_brokenrecordAAA.json"))).toBe(true);
    expect(logs.join("\n")).toContain("unreadable journal record");
    await t.stop();
  } finally { dir.dispose(); }
});
