import { expect, test } from "bun:test";
import { LED_TABLE, ledClassFor } from "./patterns";

const s = (certCode: string | null, extra: Partial<Parameters<typeof ledClassFor>[0]> = {}) =>
  ledClassFor({ certCode, checking: false, everChecked: true, diagnostics: [], ...extra });

test("each state has its pattern", () => {
  expect(s(null)).toBe("healthy");
  expect(s(null, { everChecked: false })).toBe("starting");
  expect(s("ERR_IOT_HTTPS_CHECK_NO_SERVER")).toBe("setup");
  expect(s("ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL")).toBe("setup");
  expect(s("ERR_IOT_HTTPS_LOAD_REQUEST_STATUS 503")).toBe("service");
  expect(s("ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT")).toBe("service");
  expect(s("ERR_IOT_HTTPS_CHECK_CERT_READ_EXCEPTION")).toBe("storage");
  expect(s("ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION")).toBe("net");
  expect(s("ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION", { diagnostics: [{ led: "firewall" }] })).toBe("firewall");
  expect(s(null, { diagnostics: [{ led: "dns" }, { led: "net" }] })).toBe("net");
  // A failed probe that no cause explains has its own class: never the healthy heartbeat.
  expect(s(null, { diagnostics: [{ led: "unexplained" }] })).toBe("unexplained");
  expect(s(null, { diagnostics: [{ led: "unexplained" }, { led: "dns" }] })).toBe("dns");
});

test("the ACT patterns alone are distinct (a Pi 3B has no PWR LED)", () => {
  const keys = Object.values(LED_TABLE).map((p) => JSON.stringify(p.act));
  expect(new Set(keys).size).toBe(keys.length);
});

test("no pattern is a firmware-style group of flashes: each is a steady rhythm, heartbeat or solid", () => {
  for (const p of Object.values(LED_TABLE)) for (const l of [p.act, p.pwr]) {
    expect(["timer", "heartbeat", "none", "default-on"]).toContain(l.trigger);
    if (l.trigger === "timer") { expect(l.delayOn).toBeGreaterThan(0); expect(l.delayOff).toBeGreaterThan(0); }
  }
});
