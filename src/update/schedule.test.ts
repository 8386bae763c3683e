import { describe, expect, test } from "bun:test";
import { decideReboot, DEFAULT_QUIET, inQuietWindow, nextLookDelay, parseQuietWindow, formatQuietWindow } from "./schedule";

describe("when the box looks", () => {
  test("first look 3–10 min after start; then 21–27 h", () => {
    expect(nextLookDelay(true, 0)).toBe(180_000);
    expect(nextLookDelay(true, 0.999999)).toBeLessThanOrEqual(600_000);
    expect(nextLookDelay(false, 0)).toBe(21 * 3600_000);
    expect(nextLookDelay(false, 0.5)).toBe(24 * 3600_000);
    expect(nextLookDelay(false, 0.999999)).toBeLessThan(27 * 3600_000);
  });
});

describe("quiet time", () => {
  test("the window, wrapping midnight or not", () => {
    expect(parseQuietWindow("02:00-05:00")).toEqual(DEFAULT_QUIET);
    const w = parseQuietWindow("23:30 - 01:00")!;
    expect(formatQuietWindow(w)).toBe("23:30-01:00");
    expect(inQuietWindow(23 * 60 + 45, w)).toBe(true);
    expect(inQuietWindow(30, w)).toBe(true);
    expect(inQuietWindow(60, w)).toBe(false);
    expect(inQuietWindow(2 * 60, DEFAULT_QUIET)).toBe(true);
    expect(inQuietWindow(5 * 60, DEFAULT_QUIET)).toBe(false);
    expect(inQuietWindow(119, DEFAULT_QUIET)).toBe(false);
    for (const bad of ["2-5", "25:00-01:00", "02:00-02:00", "02:60-03:00", ""]) expect(parseQuietWindow(bad)).toBeNull();
  });
  test.each([
    [{ pending: false, minuteOfDay: 180, paymentInFlight: false, now: false }, { reboot: false, why: "nothing-pending" }],
    [{ pending: true, minuteOfDay: 180, paymentInFlight: false, now: false }, { reboot: true }],
    [{ pending: true, minuteOfDay: 600, paymentInFlight: false, now: false }, { reboot: false, why: "not-quiet-time" }],
    [{ pending: true, minuteOfDay: 180, paymentInFlight: true, now: false }, { reboot: false, why: "payment-in-flight" }],
    [{ pending: true, minuteOfDay: 600, paymentInFlight: false, now: true }, { reboot: true }],
    [{ pending: true, minuteOfDay: 600, paymentInFlight: true, now: true }, { reboot: false, why: "payment-in-flight" }],   // even "update now" waits for a payment
  ])("%o → %o", (i, want) => {
    expect(decideReboot({ ...i, window: DEFAULT_QUIET })).toEqual(want as never);
  });
});
