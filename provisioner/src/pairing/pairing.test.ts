// The pairing routes through the provisioner's own HTTP app (createApp + the pairing app, SQLite
// in a temp dir): the box's poll in the reference's wire format, a database's claim proved by its
// contract code, the connection handed over once, expiry, wrong uuids, codes typed loosely, and
// the CLI claim against the same database.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../../../src/log";
import { hashEnterpriseCode } from "../eligibility";
import { createApp } from "../http/app";
import { Store } from "../store";
import { openSqlite } from "../store/sqlite";
import { createPairingApp } from "./app";
import { normaliseCode, newPairingCode } from "./codes";
import { createPairingService } from "./service";
import { pairingStore } from "./store";

const dir = mkdtempSync(join(tmpdir(), "pairing-"));
const dbFile = join(dir, "p.db");
let clock = Date.now();
let store: Store, app: ReturnType<typeof createApp>;
const logs: string[] = [];
beforeAll(async () => {
  store = new Store(openSqlite(dbFile));
  await store.migrate();
  await store.putDatabase({ uuid: "db-1111-2222", enterpriseCodeHash: hashEnterpriseCode("M2401234"), kind: "production", subscription: "in_progress", iotBoxLines: 3 }, clock);
  const pairings = pairingStore(store.driver);
  await pairings.migrate();
  const logger = createLogger({ write: (l) => logs.push(l) });
  app = createApp({ service: { handle: async () => ({ result: {} }) } as never, logger, health: async () => ({}),
    pairing: createPairingApp({ service: createPairingService({ store: pairings, databases: store, logger, now: () => clock }), logger }) });
});
afterAll(async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); });

const rpc = async (path: string, params: unknown) => {
  const r = await app.request(path, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 7, params }) });
  return { status: r.status, body: await r.json() as any };
};
const poll = (p: Record<string, unknown>) => rpc("/odoo-enterprise/iot/connect-box", { pairing_code: false, pairing_uuid: false, serial_number: "10000000abcdef01", ...p });
const claim = (p: Record<string, unknown>) => rpc("/odoo-enterprise/iot/claim-box", { url: "https://shop.example.com/odoo", token: "tok_0123456789abcdef", db_uuid: "db-1111-2222", enterprise_code: "M2401234", ...p });

describe("pairing", () => {
  test("a box gets a code, polls (nothing yet), the database claims it, the next poll gets the connection once", async () => {
    const first = await poll({});
    expect(first.status).toBe(200);
    const { pairing_code, pairing_uuid } = first.body.result;
    expect(pairing_code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(pairing_uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect((await poll({ pairing_code, pairing_uuid })).body).toEqual({ jsonrpc: "2.0", id: 7, result: {} });
    const c = await claim({ pairing_code: pairing_code.toLowerCase().replace("-", " ") });
    expect(c).toEqual({ status: 200, body: { jsonrpc: "2.0", id: 7, result: { status: "claimed", serial_number: "10000000abcdef01" } } });
    // Another box (another uuid) polling the same code gets nothing.
    expect((await poll({ pairing_code, pairing_uuid: crypto.randomUUID() })).body).toMatchObject({ error: "expired" });
    const got = await poll({ pairing_code, pairing_uuid });
    expect(got.body.result).toEqual({ url: "https://shop.example.com", token: "tok_0123456789abcdef", db_uuid: "db-1111-2222", enterprise_code: "M2401234" });
    // Handed over once: the row is gone.
    expect((await poll({ pairing_code, pairing_uuid })).body).toMatchObject({ error: "expired" });
    expect(logs.join("\n")).not.toContain("tok_0123456789abcdef");
  });

  test("a claim needs the database's contract code; a code claims once; a mistyped or expired code is a clear 404", async () => {
    const { pairing_code } = (await poll({})).body.result;
    expect(await claim({ pairing_code, enterprise_code: "WRONG123" })).toMatchObject({ status: 403, body: { error: { code: -32001 } } });
    expect(await claim({ pairing_code, db_uuid: "db-unknown" })).toMatchObject({ status: 403 });
    expect((await claim({ pairing_code })).status).toBe(200);
    expect(await claim({ pairing_code })).toMatchObject({ status: 404, body: { error: { message: "No box is waiting with this code (mistyped, expired or already claimed)." } } });
    expect((await claim({ pairing_code: "ABCD-EFGH" })).status).toBe(404);
    expect((await claim({ pairing_code: "nope" })).status).toBe(400);
    expect((await claim({ pairing_code, url: "ftp://x" })).status).toBe(400);
    const late = (await poll({})).body.result;
    clock += 2 * 3600_000 + 1;
    expect((await claim({ pairing_code: late.pairing_code })).status).toBe(404);
    expect((await poll(late)).body).toMatchObject({ error: "expired" });
  });

  test("bad bodies are 4xx, other methods 405", async () => {
    expect((await app.request("/odoo-enterprise/iot/connect-box", { method: "POST", body: "{" })).status).toBe(400);
    expect((await app.request("/odoo-enterprise/iot/connect-box", { method: "POST", body: "[]" })).status).toBe(400);
    expect((await rpc("/odoo-enterprise/iot/connect-box", { serial_number: "" })).status).toBe(400);
    expect((await app.request("/odoo-enterprise/iot/connect-box", { method: "POST", body: "x".repeat(20_000), headers: { "content-length": "20000" } })).status).toBe(413);
    expect((await app.request("/odoo-enterprise/iot/claim-box")).status).toBe(405);
  });

  test("codes: 8 characters without look-alikes, typed loosely", () => {
    for (let i = 0; i < 200; i++) expect(newPairingCode()).toMatch(/^[A-HJKMNP-Z2-9]{8}$/);
    expect(normaliseCode(" abcd-efgh ")).toBe("ABCDEFGH");
    expect(normaliseCode("ABCD EFG0")).toBeNull();
    expect(normaliseCode(42)).toBeNull();
  });

  test("the CLI claims a code on the same database", async () => {
    const { pairing_code } = (await poll({})).body.result;
    const run = (args: string[]) => Bun.spawnSync(["bun", join(import.meta.dir, "../main.ts"), "pairing", "claim", "--db", `sqlite:${dbFile}`, ...args],
      { env: { ...process.env, PATH: `${join(import.meta.dir, "../../../node_modules/.bin")}:${process.env.PATH}` } });
    const ok = run(["--code", pairing_code, "--url", "https://shop.example.com", "--token", "tok_cli_000000000", "--db-uuid", "db-1111-2222", "--enterprise-code", "M2401234"]);
    expect(ok.stdout.toString()).toContain("claimed: box 10000000abcdef01 will connect to shop.example.com");
    expect(ok.exitCode).toBe(0);
    const again = run(["--code", pairing_code, "--url", "https://shop.example.com", "--token", "tok_cli_000000000", "--db-uuid", "db-1111-2222", "--enterprise-code", "M2401234"]);
    expect(again.exitCode).toBe(1);
    expect(again.stderr.toString()).toContain("No box is waiting with this code");
    expect(run(["--code", pairing_code]).exitCode).toBe(2);
  });
});
