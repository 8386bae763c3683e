import { describe, expect, test } from "bun:test";
import { addressInName, makePlan, parseResolver } from "../../src/diagnostics/plan";
import { CODES, REGISTRY, describe as describeCode } from "../../src/diagnostics/codes";
import { activeList, emptyHealth, pending, primaryCause, updateHealth } from "../../src/diagnostics/health";
import { targetsFromConfig } from "../../src/diagnostics/config";
import { TARGETS } from "./fixtures";

describe("plan", () => {
  test("resolvers ip[:port], bad ones reported not thrown", () => {
    expect(parseResolver("198.18.1.2")).toEqual({ host: "198.18.1.2", port: 53 });
    expect(parseResolver(" 127.0.0.1:5353 ")).toEqual({ host: "127.0.0.1", port: 5353 });
    expect(parseResolver("dns.google")).toBeNull();
    expect(parseResolver("2001:db8::53")).toEqual({ host: "2001:db8::53", port: 53 });
    expect(parseResolver("[2001:db8::53]:5353")).toEqual({ host: "2001:db8::53", port: 5353 });
    expect(parseResolver("1.2.3")).toBeNull();
    expect(parseResolver("1.2.3.4:99999")).toBeNull();
    const p = makePlan({ ...TARGETS, publicResolvers: ["1.2.3.4", "nope"], provisioningUrl: "http://insecure/" });
    expect(p.publicResolvers).toEqual([{ host: "1.2.3.4", port: 53 }]);
    expect(p.problems.length).toBe(2);
    expect(p.provisioning).toBeNull();
  });
  test("names: box and canary with the address they encode; URL hosts as public names", () => {
    expect(addressInName("10-0-0-1.iot.example")).toBe("10.0.0.1");
    expect(addressInName("www.iot.example")).toBeNull();
    const p = makePlan(TARGETS);
    expect(p.privateNames.map((n) => [n.name, n.expect])).toEqual([["10-77-0-100.iot.example", "10.77.0.100"], ["10-0-0-1.iot.example", "10.0.0.1"]]);
    expect(p.publicNames.map((n) => n.name)).toEqual(["provision.vendor.example", "connectivity.vendor.example"]);
    expect(makePlan({ ...TARGETS, expectedIp: "10.9.9.9" }).privateNames[0]!.expect).toBe("10.9.9.9");
  });
  test("config keys → targets, with defaults", () => {
    const t = targetsFromConfig({ diag_public_resolvers: "198.18.1.2:5353, 198.18.1.5", diag_canary_name: "" }, { provisioningUrl: "https://p/", zone: "z.example" });
    expect(t.publicResolvers).toEqual(["198.18.1.2:5353", "198.18.1.5"]);
    expect(t.canaryName).toBe("10-0-0-1.z.example");
    expect(t.connectivityUrl.startsWith("http://")).toBe(true);
  });
});

describe("code registry", () => {
  test("the twelve codes, each with en and es texts that differ, and an LED class", () => {
    expect(CODES.length).toBe(12);
    for (const c of CODES) {
      const r = REGISTRY[c];
      expect(r.code).toBe(c);
      for (const lang of ["en", "es"] as const) for (const k of ["title", "meaning", "remedy"] as const) expect(r.text[lang][k].length).toBeGreaterThan(5);
      expect(r.text.en.remedy).not.toBe(r.text.es.remedy);
      expect(["net", "dns", "firewall", "tls", "clock", "portal", "unexplained"]).toContain(r.led);
      expect(r.holdMs).toBeLessThanOrEqual(3000);
    }
    expect(describeCode("ERR_IOT_DNS_REBIND_BLOCKED", "es").remedy).toContain("rebind-domain-ok");
    expect(describeCode("NOPE", "en").meaning).toBe("Unknown code.");
  });
});

describe("health (hold times)", () => {
  test("shown only after holding; cleared on the first run without it", () => {
    let h = updateHealth(emptyHealth(), ["ERR_IOT_FIREWALL_HTTPS_DROPPED"], 1000);
    expect(h.shown).toEqual([]);
    expect(pending(h)).toEqual(["ERR_IOT_FIREWALL_HTTPS_DROPPED"]);
    h = updateHealth(h, ["ERR_IOT_FIREWALL_HTTPS_DROPPED"], 2500);
    expect(h.shown).toEqual([]);
    h = updateHealth(h, ["ERR_IOT_FIREWALL_HTTPS_DROPPED"], 3000);
    expect(activeList(h)).toEqual([{ code: "ERR_IOT_FIREWALL_HTTPS_DROPPED", severity: "error", since: new Date(1000).toISOString(), led: "firewall" }]);
    expect(primaryCause(activeList(h))).toBe("ERR_IOT_FIREWALL_HTTPS_DROPPED");
    h = updateHealth(h, [], 4000);
    expect(h.shown).toEqual([]);
  });
  test("a glitch (seen once, gone the next run) is never shown and restarts its hold", () => {
    let h = updateHealth(emptyHealth(), ["ERR_IOT_DNS_UNREACHABLE"], 0);
    h = updateHealth(h, [], 500);
    h = updateHealth(h, ["ERR_IOT_DNS_UNREACHABLE"], 2100);
    expect(h.shown).toEqual([]);
  });
});
