import { describe, expect, test } from "bun:test";
import { backoffMs, certificateEndDate, fingerprint, initialLinkState, nextStep, setupParams, type BoxFacts } from "./plan";

const facts: BoxFacts = { identifier: "10000000abcdef01", mac: "b8:27:eb:12:34:56", ip: "192.168.1.10", version: "0.1.0", name: "caja-01",
  devices: { "P400Plus-1": { name: "Adyen P400Plus-1", type: "payment", manufacturer: "Adyen", connection: "network", subtype: "" } } };
const fp = fingerprint(facts);
const S = (p: Partial<ReturnType<typeof initialLinkState>>) => ({ ...initialLinkState(true), ...p });

describe("what to tell the database, and when", () => {
  test.each([
    ["not connected: nothing", { connected: false }, fp, null, 0, "idle"],
    ["connected, never registered: register", {}, fp, null, 0, "register"],
    ["registered, same facts, no certificate: nothing (no timer loop)", { registered: fp }, fp, null, 0, "idle"],
    ["registered, a real certificate not yet reported: report", { registered: fp }, fp, "2027-03-01 10:00:00", 0, "report"],
    ["reported already: nothing", { registered: fp, reportedEnd: "2027-03-01 10:00:00" }, fp, "2027-03-01 10:00:00", 0, "idle"],
    ["a renewal (new end date): report again", { registered: fp, reportedEnd: "2027-03-01 10:00:00" }, fp, "2027-05-30 10:00:00", 0, "report"],
    ["the facts changed (IP, domain, devices): register before reporting", { registered: "old", reportedEnd: null }, fp, "2027-03-01 10:00:00", 0, "register"],
    ["a failure backs off: wait until retryAt", { failures: 2, retryAt: 20_000 }, fp, null, 10_000, "wait"],
    ["after the back-off: try again", { failures: 2, retryAt: 20_000 }, fp, null, 20_000, "register"],
    ["a request already out: nothing more", { inFlight: true }, fp, null, 0, "idle"],
  ] as const)("%s", (_name, state, f, end, now, kind) => {
    expect(nextStep(S(state), f, end, now).kind).toBe(kind);
  });

  test("the fingerprint ignores device order and follows every fact", () => {
    const two = { ...facts, devices: { b: facts.devices["P400Plus-1"]!, a: facts.devices["P400Plus-1"]! } };
    expect(fingerprint(two)).toBe(fingerprint({ ...facts, devices: { a: facts.devices["P400Plus-1"]!, b: facts.devices["P400Plus-1"]! } }));
    for (const k of ["identifier", "mac", "ip", "version", "name"] as const) expect(fingerprint({ ...facts, [k]: "changed" })).not.toBe(fp);
  });

  test("/iot/setup's params are the reference's shape; the end date is Python's str(datetime)", () => {
    expect(setupParams(facts, "tok")).toEqual({ iot_box: { identifier: facts.identifier, mac: facts.mac, ip: facts.ip, token: "tok", version: "0.1.0", name: "caja-01" }, devices: facts.devices });
    expect(certificateEndDate(new Date("2027-03-01T10:00:05.123Z"))).toBe("2027-03-01 10:00:05");
  });

  test("back-off: 10 s doubling to 10 min, ±10 %", () => {
    expect([1, 2, 3, 7, 20].map((n) => backoffMs(n, () => 0.5))).toEqual([10_000, 20_000, 40_000, 600_000, 600_000]);
    expect(backoffMs(1, () => 0)).toBe(9_000);
    expect(backoffMs(1, () => 1)).toBe(11_000);
  });
});
