/** odoo/connection.json after a power cut: written atomically; a half-written file is kept aside, the box not connected. */
import { afterEach, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectionStore, type StoredConnection } from "./store";

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
const data = () => { const d = mkdtempSync(join(tmpdir(), "iotbox-odoo-store-")); dirs.push(d); return d; };
const conn: StoredConnection = { serverUrl: "https://shop.example.com", token: "tok_0123456789abcdef", dbUuid: "1f2e3d4c-0000-1111-2222-333344445555",
  enterpriseCode: "M2401234", dbName: null, connectedAt: "2026-01-01T00:00:00.000Z", via: "token" };

test("saved whole (0600, no temporary file left beside it) and read back", () => {
  const s = connectionStore(data());
  s.save(conn);
  expect(connectionStore(join(s.path, "../..")).load()).toEqual(conn);
  expect(statSync(s.path).mode & 0o777).toBe(0o600);
  expect(readdirSync(join(s.path, "..")).filter((f) => f.includes(".tmp-"))).toEqual([]);
});

test("every truncation of the file (a power cut mid-write with a non-atomic writer): not connected, the file kept aside, the problem told without the token", () => {
  const full = JSON.stringify(conn, null, 2) + "\n";
  for (const cut of [0, 1, 10, full.indexOf("token") + 12, full.length - 3]) {
    const dir = data();
    const s = connectionStore(dir);
    s.save(conn);
    writeFileSync(s.path, full.slice(0, cut));
    expect(s.load()).toBeNull();
    expect(existsSync(s.path)).toBe(false);
    expect(readdirSync(join(s.path, "..")).some((f) => f.startsWith("connection.json.corrupt-"))).toBe(true);
    expect(s.problem()).toContain("could not be read");
    expect(s.problem()).not.toContain(conn.token);
  }
});
