// The command line: database add/list/remove on a real SQLite file, and clear usage errors.
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

const MAIN = resolve(import.meta.dir, "../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "iotbox-provcli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const db = `sqlite:${join(dir, "p.db")}`;

async function cli(args: string[], env: Record<string, string> = {}) {
  const p = Bun.spawn([process.execPath, MAIN, ...args], { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...env }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { stdout, stderr, code };
}

test("database add, list (the code is never shown), remove", async () => {
  const add = await cli(["database", "add", "--db", db, "--uuid", "u-1", "--enterprise-code", "SECRET-CODE", "--kind", "production", "--subscription", "in_progress", "--iot-box-lines", "2"]);
  expect(add).toMatchObject({ code: 0 });
  expect((await cli(["database", "add", "--db", db, "--uuid", "u-2", "--enterprise-code", "X", "--kind", "copy"])).code).toBe(0);
  const list = await cli(["database", "list", "--db", db, "--json"]);
  expect(JSON.parse(list.stdout)).toEqual([
    { uuid: "u-1", kind: "production", subscription: "in_progress", iotBoxLines: 2 },
    { uuid: "u-2", kind: "copy", subscription: "in_progress", iotBoxLines: 1 },
  ]);
  expect(list.stdout + (await cli(["database", "list", "--db", db])).stdout).not.toContain("SECRET");
  expect((await cli(["database", "remove", "--db", db, "--uuid", "u-2"])).code).toBe(0);
  expect((await cli(["database", "remove", "--db", db, "--uuid", "u-2"])).code).toBe(1);
  expect((await cli(["database", "list", "--db", db])).stdout.trim()).toBe("u-1\tproduction\tin_progress\t2");
}, 30_000);

test("bad options: exit 2 with one clear line and the usage", async () => {
  const cases: Array<[string[], string]> = [
    [["database", "add", "--db", db, "--uuid", "u", "--enterprise-code", "c", "--kind", "staging"], "--kind must be one of"],
    [["database", "add", "--db", db, "--uuid", "a b", "--enterprise-code", "c"], "--uuid must be"],
    [["database", "add", "--db", "mysql://x", "--uuid", "u", "--enterprise-code", "c"], "--db must be"],
    [["serve", "--db", db, "--zone", "Not A Zone", "--acme-directory", "https://x", "--dnsimple-token", "t", "--dnsimple-account", "1"], "--zone must be"],
    [["serve", "--db", db, "--zone", "iot.test", "--acme-directory", "https://x", "--dnsimple-account", "1"], "--dnsimple-token is required"],
    [["serve", "--bogus", "1"], "unknown option --bogus"],
    [["frobnicate"], "unknown command frobnicate"],
  ];
  for (const [args, text] of cases) {
    const r = await cli(args);
    expect({ code: r.code, has: r.stderr.includes(text), usage: r.stderr.includes("usage:") }).toEqual({ code: 2, has: true, usage: true });
  }
}, 30_000);
