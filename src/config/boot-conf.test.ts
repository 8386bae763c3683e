import { afterEach, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLogger } from "../log/index";
import { applyBootConf, MAX_BOOT_CONF_BYTES, MAX_PROBLEMS, parseBootConf, scrubBootConf } from "./boot-conf";
import { importBootConf } from "./import";
import { defaultConfig, type BoxConfig } from "./schema";
import { openConfigStore } from "./store";

// defaultConfig is losing its second argument (the session secret moves out of config.json): either way.
const base = () => (defaultConfig as (...a: string[]) => BoxConfig)("abcdef1234", "secret");
const lines = (text: string | Uint8Array) => parseBootConf(text).lines;
const bytes = (...parts: Array<string | number[]>) => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "utf8") : Buffer.from(p))));

const dirs: string[] = [];
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }); });
/** A box's config store and a boot partition holding `content` as iotbox.conf. */
function boot(content: string | Uint8Array) {
  const dir = mkdtempSync(join(tmpdir(), "iotbox-bootconf-"));
  dirs.push(dir);
  const path = join(dir, "iotbox.conf");
  writeFileSync(path, content);
  const logs: string[] = [];
  const store = openConfigStore(join(dir, "config.json"));
  const logger = createLogger({ write: (l) => logs.push(l), level: "debug" });
  return { path, store, logs, run: () => importBootConf(path, store, logger, () => new Date("2026-01-01T00:00:00Z")) };
}

test("valid lines apply; unknown keys and malformed lines are reported", () => {
  const text = [
    "# shop 12", "server_url = https://shop.example.com/", "db_uuid=1f2e3d4c-0000-1111", "enterprise_code = M2401234",
    "provisioning_url = https://prov.example.com", "admin_password = 'correct horse'", "hostname = Caja-01",
    "wifi_ssid = Shop \"Wi-Fi\" ; rm -rf /", "wifi_password = p@ss word $(reboot)", "wifi_country = es",
    "colour = blue", "this is not a line", "hostname2 = x", "provisioning_url = http://insecure.example", "",
  ].join("\n");
  const r = applyBootConf(lines(text), base());
  expect(r.config.serverUrl).toBe("https://shop.example.com");
  expect(r.config.dbUuid).toBe("1f2e3d4c-0000-1111");
  expect(r.config.enterpriseCode).toBe("M2401234");
  expect(r.config.provisioningUrl).toBe("https://prov.example.com");
  expect(r.adminPassword).toBe("correct horse");
  expect(r.config.hostname).toBe("caja-01");
  expect(r.config.wifi).toEqual({ ssid: 'Shop "Wi-Fi" ; rm -rf /', password: "p@ss word $(reboot)", country: "ES" });
  expect(r.problems).toEqual([
    'line 11: unknown key "colour"',
    'line 12: expected "key = value"',
    'line 13: unknown key "hostname2"',
    "line 14: provisioning_url must start with https://",
  ]);
  expect(r.secretLines).toEqual([4, 6, 9]);
});

test("inline comments: a # after whitespace, outside quotes", () => {
  const r = applyBootConf(lines([
    "diagnostics = off            # off: no periodic network probes (a lab network with no way out)",
    "hostname = caja-02# not a comment: no space before it, so the value is refused",
    'wifi_ssid = "Bar #2"   # the quotes keep the #',
    "wifi_password = 'p #ss word' # and here",
    "log_level = warn\t# a tab counts as whitespace",
    "db_uuid = # nothing: an empty value is refused",
    "  # an indented comment line",
  ].join("\r\n")), base());
  expect(r.config.diag.enabled).toBe(false);
  expect(r.config.hostname).toBeNull();
  expect(r.config.wifi).toEqual({ ssid: "Bar #2", password: "p #ss word", country: null });
  expect(r.config.logLevel).toBe("warn");
  expect(r.problems).toEqual([
    "line 2: the host name must be 1 to 63 letters, digits or dashes, not starting or ending with a dash",
    "line 6: the database UUID must be 8 to 64 letters, digits or dashes",
  ]);
});

test("bad values are refused with a sentence, the old value stays", () => {
  const r = applyBootConf(lines("hostname = -bad-\ndb_uuid = x\nlog_level = loud\n"), base());
  expect(r.config.hostname).toBeNull();
  expect(r.config.dbUuid).toBeNull();
  expect(r.problems.length).toBe(3);
});

test("the problems listed are capped, the rest counted", () => {
  const r = applyBootConf(lines(Array.from({ length: 100 }, (_, i) => `colour${i} = ${"x".repeat(1000)}`).join("\n")), base());
  expect(r.problems.length).toBe(MAX_PROBLEMS + 1);
  expect(r.problems[0]).toBe('line 1: unknown key "colour0"');
  expect(r.problems.at(-1)).toBe(`… and ${100 - MAX_PROBLEMS} more problems`);
  // a long key or value is clipped in its problem
  const long = applyBootConf(lines(`${"k".repeat(5000)} = 1\ndiag_canary_name = ${"x".repeat(5000)}\n`), base());
  for (const p of long.problems) expect(p.length).toBeLessThan(250);
});

test("a line that is not UTF-8 is a problem and is kept byte for byte", () => {
  const file = bytes("server_url = https://a.example\r\n", "wifi_ssid = caf", [0xe9], "\r\n", "admin_password = hunter2hunter2\r\n");
  const p = parseBootConf(file);
  const r = applyBootConf(p.lines, base());
  expect(r.problems).toEqual(["line 2 is not UTF-8 text"]);
  const out = scrubBootConf(p, r.secretLines, "2026-01-01T00:00:00.000Z")!;
  expect(Buffer.from(out).toString("latin1")).toBe("# iotbox: applied on 2026-01-01T00:00:00.000Z; admin_password removed from this file after import.\r\n"
    + "server_url = https://a.example\r\nwifi_ssid = caf\xe9\r\n");
});

test("the rewritten file: one header line, the accepted secrets gone, every other line byte for byte", () => {
  const file = bytes([0xef, 0xbb, 0xbf], "# iotbox: applied on 2025-05-05T00:00:00.000Z; admin_password removed from this file after import.\n",
    "server_url = https://a.example   # the shop\r\n", "enterprise_code = x\n", "enterprise_code = M2401234\n",
    "admin_password = short\n", "admin_password = hunter2hunter2\n", "wifi_password = abcdefgh1\n", "\n", "  # trailing\tcomment  ");
  const p = parseBootConf(file);
  const r = applyBootConf(p.lines, base());
  expect(r.secretLines).toEqual([4, 6]); // the wifi password has no SSID to go with: not applied, kept
  const out = Buffer.from(scrubBootConf(p, r.secretLines, "2026-01-01T00:00:00.000Z")!);
  expect(out.subarray(0, 3)).toEqual(Buffer.from([0xef, 0xbb, 0xbf]));
  expect(out.subarray(3).toString("utf8")).toBe("# iotbox: applied on 2026-01-01T00:00:00.000Z; enterprise_code, admin_password removed from this file after import.\n"
    + "server_url = https://a.example   # the shop\r\n" + "enterprise_code = x\n" + "admin_password = short\n" + "wifi_password = abcdefgh1\n" + "\n" + "  # trailing\tcomment  ");
  // Applying the rewritten file again applies nothing secret and removes nothing more.
  const again = parseBootConf(out);
  expect(applyBootConf(again.lines, base()).secretLines).toEqual([]);
  expect(scrubBootConf(again, [], "2026-01-02T00:00:00.000Z")).toBeNull();
});

test("import: the README's own example applies with no problem", async () => {
  const readme = readFileSync(join(import.meta.dir, "../../README.md"), "utf8");
  const example = /### Headless set-up[^]*?```\n([^]*?)```/.exec(readme)?.[1];
  expect(example).toContain("diagnostics = on            # off:");
  const b = boot(example!);
  const out = await b.run();
  expect(out.problems).toEqual([]);
  expect(out.applied.length).toBe(example!.trim().split("\n").length);
  const c = b.store.get();
  expect(c.diag.enabled).toBe(true);
  expect(c.wifi?.country).toBe("ES");
  const left = readFileSync(b.path, "utf8");
  for (const secret of ["admin_password", "wifi_password", "enterprise_code"]) expect(left).not.toContain(secret + " =");
  expect(left).toContain("diagnostics = on            # off:");
});

test("import: a rejected secret line stays, untouched; accepted ones go; secrets never in the logs", async () => {
  const b = boot("enterprise_code = x\nadmin_password = hunter2hunter2\nwifi_ssid = Shop\nwifi_password = wifi-secret-1\n");
  const out = await b.run();
  expect(out.problems).toEqual(["line 1: the contract (enterprise) code must be 4 to 128 letters, digits, dashes or underscores"]);
  expect(readFileSync(b.path, "utf8")).toBe("# iotbox: applied on 2026-01-01T00:00:00.000Z; admin_password, wifi_password removed from this file after import.\n"
    + "enterprise_code = x\nwifi_ssid = Shop\n");
  for (const secret of ["hunter2hunter2", "wifi-secret-1"]) expect(b.logs.join("\n")).not.toContain(secret);
  expect(b.store.get().wifi).toEqual({ ssid: "Shop", password: "wifi-secret-1", country: null });
});

test("import: a file with no secret to remove is left exactly as it is; applied once", async () => {
  const content = bytes("hostname = caja-07\r\n", "colour = blue\r\n", [0xff, 0xfe], "\r\n", "log_level = debug");
  const b = boot(content);
  const before = statSync(b.path).mtimeMs;
  const out = await b.run();
  expect(out.imported).toBe(true);
  expect(out.problems).toEqual(['line 2: unknown key "colour"', "line 3 is not UTF-8 text"]);
  expect(Buffer.from(readFileSync(b.path)).equals(content)).toBe(true);
  expect(statSync(b.path).mtimeMs).toBe(before);
  b.store.update((c) => { c.hostname = "changed-on-the-homepage"; });
  const again = await b.run();
  expect(again).toEqual({ imported: false, problems: out.problems, applied: [] });
  expect(b.store.get().hostname).toBe("changed-on-the-homepage");
});

test("import: a file over 64 KiB is refused with one problem and left on the card as it is", async () => {
  const content = bytes("hostname = caja-09\nadmin_password = hunter2hunter2\n", `colour = ${"x".repeat(MAX_BOOT_CONF_BYTES)}\n`);
  const b = boot(content);
  const before = structuredClone(b.store.get());
  const out = await b.run();
  expect(out.imported).toBe(false);
  expect(out.problems).toEqual(["iotbox.conf is 65 KiB, more than the 64 KiB a set-up file may have: nothing in it was applied, and it was left on the card as it is"]);
  expect(Buffer.from(readFileSync(b.path)).equals(content)).toBe(true);
  expect({ ...b.store.get(), bootImport: null }).toEqual({ ...before, bootImport: null });
  expect(b.store.get().bootImport?.problems).toEqual(out.problems);
  // a device that never ends (here /dev/zero) is refused the same way, without reading it all
  const endless = boot("");
  rmSync(endless.path); symlinkSync("/dev/zero", endless.path);
  expect((await endless.run()).problems).toEqual([expect.stringContaining("more than the 64 KiB a set-up file may have")]);
  // exactly at the cap it is read
  const atCap = boot(bytes("hostname = caja-10\n", "#".repeat(MAX_BOOT_CONF_BYTES - 20), "\n"));
  expect(statSync(atCap.path).size).toBe(MAX_BOOT_CONF_BYTES);
  expect((await atCap.run()).applied).toEqual(["hostname"]);
});
