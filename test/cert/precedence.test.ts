/**
 * Code precedence with the real lifecycle: an unreadable stored certificate shows
 * ERR_IOT_HTTPS_CHECK_CERT_READ_EXCEPTION (the storage LED) whatever else is missing; what is
 * missing is named in its detail.
 */
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ledClassFor } from "../../src/led/patterns";
import { codeString } from "../../src/cert/codes";
import type { BoxConfig } from "../../src/config/schema";
import { makeBoxDir, wireLifecycle } from "../support/box-fixture";

const GARBAGE = "-----BEGIN CERTIFICATE-----\ngarbage\n-----END CERTIFICATE-----\n";

const cases: Array<[string, Partial<BoxConfig>, string | null, string]> = [
  ["no server", {}, "192.168.1.10", "ERR_IOT_HTTPS_CHECK_NO_SERVER"],
  ["no credential", { serverUrl: "https://odoo.test" }, "192.168.1.10", "ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL"],
  ["half a credential", { serverUrl: "https://odoo.test", dbUuid: "db-0001-uuid" }, "192.168.1.10", "ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL"],
  ["no credential, no address yet", { serverUrl: "https://odoo.test" }, null, "ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL"],
];

for (const [what, cfg, ip, missing] of cases) {
  test(`an unreadable certificate comes before ${what}`, async () => {
    const box = makeBoxDir();
    try {
      writeFileSync(join(box.certDir, "current.pem"), GARBAGE);
      const w = wireLifecycle(box.dataDir, cfg, { ip });
      const s = await w.lifecycle.check("start");
      expect(s.error?.name).toBe("ERR_IOT_HTTPS_CHECK_CERT_READ_EXCEPTION");
      expect(s.error?.detail).toContain(missing);
      expect(ledClassFor({ certCode: codeString(s.error!), checking: false, everChecked: true, diagnostics: [] })).toBe("storage");
      expect(s.serving).toBe("temporary");
      w.lifecycle.stop();
    } finally { box.cleanup(); }
  });
}

test("without the unreadable file the missing setting shows, as before", async () => {
  const box = makeBoxDir();
  try {
    const w = wireLifecycle(box.dataDir, { serverUrl: "https://odoo.test" });
    expect((await w.lifecycle.check("start")).error).toEqual({ name: "ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL" });
    w.lifecycle.stop();
  } finally { box.cleanup(); }
});
