import { expect, test } from "bun:test";
import { applyBootConf, parseBootConf, scrubBootConf } from "./boot-conf";
import { defaultConfig } from "./schema";

const base = () => defaultConfig("abcdef1234", "secret");

test("valid lines apply; unknown keys and malformed lines are reported", () => {
  const text = [
    "# shop 12", "server_url = https://shop.example.com/", "db_uuid=1f2e3d4c-0000-1111", "enterprise_code = M2401234",
    "provisioning_url = https://prov.example.com", "admin_password = 'correct horse'", "hostname = Caja-01",
    "wifi_ssid = Shop \"Wi-Fi\" ; rm -rf /", "wifi_password = p@ss word $(reboot)", "wifi_country = es",
    "colour = blue", "this is not a line", "hostname2 = x", "provisioning_url = http://insecure.example", "",
  ].join("\n");
  const r = applyBootConf(parseBootConf(text), base());
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
});

test("the rewritten file keeps the rest and loses the secrets", () => {
  const text = "server_url = https://a.example\nenterprise_code = M2401234\nadmin_password = hunter2hunter2\nwifi_password = abcdefgh1\n";
  const out = scrubBootConf(parseBootConf(text), "2026-01-01T00:00:00.000Z");
  expect(out).toContain("server_url = https://a.example");
  expect(out).toContain("# iotbox: applied on 2026-01-01T00:00:00.000Z");
  for (const secret of ["M2401234", "hunter2hunter2", "abcdefgh1"]) expect(out).not.toContain(secret);
  // Applying the rewritten file again changes nothing and reports nothing.
  const again = applyBootConf(parseBootConf(out), base());
  expect(again.problems).toEqual([]);
  expect(scrubBootConf(parseBootConf(out), "2026-01-02T00:00:00.000Z").match(/applied on/g)?.length).toBe(1);
});

test("bad values are refused with a sentence, the old value stays", () => {
  const r = applyBootConf(parseBootConf("hostname = -bad-\ndb_uuid = x\nlog_level = loud\n"), base());
  expect(r.config.hostname).toBeNull();
  expect(r.config.dbUuid).toBeNull();
  expect(r.problems.length).toBe(3);
});
