import { describe, expect, test } from "bun:test";
import { boxNames, challengeRecordName, checkBoxIp, deriveLabel, hostRecordName } from ".";

describe("naming", () => {
  test("the label is derived from the database and the box, stable, 10 hex", () => {
    const a = deriveLabel("db-1", "box00001");
    expect(a).toMatch(/^[0-9a-f]{10}$/);
    expect(deriveLabel("db-1", "box00001")).toBe(a);
    expect(deriveLabel("db-2", "box00001")).not.toBe(a);
    expect(deriveLabel("db-1", "box00002")).not.toBe(a);
    expect(deriveLabel("db-1", null)).not.toBe(a);
  });
  test("names under the zone", () => {
    expect(boxNames("abc", "iot.example.com")).toEqual({ label: "abc", wildcard: "*.abc.iot.example.com", base: "abc.iot.example.com" });
    expect(hostRecordName("192.168.1.10", "abc")).toBe("192-168-1-10.abc");
    expect(challengeRecordName("*.abc.iot.example.com", "iot.example.com")).toBe("_acme-challenge.abc");
    expect(challengeRecordName("abc.iot.example.com", "iot.example.com")).toBe("_acme-challenge.abc");
    expect(() => challengeRecordName("abc.other.com", "iot.example.com")).toThrow();
  });
  test("only private and link-local IPv4 addresses are accepted", () => {
    for (const ip of ["10.0.0.1", "172.16.0.1", "172.31.255.254", "192.168.1.10", "169.254.3.4"]) expect(checkBoxIp(ip)).toEqual({ ok: true, ip });
    for (const ip of ["8.8.8.8", "172.32.0.1", "172.15.0.1", "100.64.0.1", "127.0.0.1", "192.169.0.1"]) expect(checkBoxIp(ip)).toEqual({ ok: false, reason: "not_private" });
    for (const ip of ["", "192.168.1", "192.168.1.256", "192.168.01.1", "::1", "192.168.1.1 ", "a.b.c.d"]) expect(checkBoxIp(ip)).toEqual({ ok: false, reason: "malformed" });
  });
});
