import { describe, expect, test } from "bun:test";
import { decideBudget, isFreshEnough, WEEK_MS } from ".";

const limits = { newPerWeek: 3, duplicatesPerWeek: 2 };
const db = { databaseNewIssuances: [] as number[], databaseNewLimit: 10 };
const now = 10 * WEEK_MS;
const DAY = 86_400_000;

describe("budget", () => {
  test("a new name within the weekly budget is allowed and counted as new", () => {
    expect(decideBudget({ ...db, newIssuances: [now - DAY], labelIssuances: [], labelEverIssued: false }, limits, now)).toEqual({ ok: true, isNew: true });
  });
  test("the weekly budget for new names spent: retry when the oldest leaves the window", () => {
    const d = decideBudget({ ...db, newIssuances: [now - 6 * DAY, now - DAY, now - 1000], labelIssuances: [], labelEverIssued: false }, limits, now);
    expect(d).toEqual({ ok: false, limit: "new_per_week", retryAfterS: DAY / 1000 });
  });
  test("issuances older than a week do not count; renewals are not new names", () => {
    expect(decideBudget({ ...db, newIssuances: [now - 8 * DAY, now - 9 * DAY, now - 10 * DAY], labelIssuances: [], labelEverIssued: false }, limits, now).ok).toBe(true);
    expect(decideBudget({ ...db, newIssuances: [now - 3, now - 2, now - 1], labelIssuances: [now - 2 * DAY], labelEverIssued: true }, limits, now)).toEqual({ ok: true, isNew: false });
  });
  test("duplicates of one name are limited", () => {
    const d = decideBudget({ ...db, newIssuances: [], labelIssuances: [now - 2 * DAY, now - DAY], labelEverIssued: true }, limits, now);
    expect(d).toEqual({ ok: false, limit: "duplicates_per_week", retryAfterS: 5 * DAY / 1000 });
  });
  test("renew early: a third of the life or the minimum, whichever is larger", () => {
    const nb = 0, na = 90 * DAY;
    expect(isFreshEnough(nb, na, 59 * DAY, 10 * DAY)).toBe(true);
    expect(isFreshEnough(nb, na, 61 * DAY, 10 * DAY)).toBe(false);
    expect(isFreshEnough(nb, na, 50 * DAY, 45 * DAY)).toBe(false);
  });
  test("one database cannot spend the zone's budget: its IoT box lines plus one new names a week", async () => {
    const d = decideBudget({ newIssuances: [now - 2 * DAY, now - DAY], databaseNewIssuances: [now - 2 * DAY, now - DAY], databaseNewLimit: 2, labelIssuances: [], labelEverIssued: false }, { newPerWeek: 50, duplicatesPerWeek: 5 }, now);
    expect(d).toEqual({ ok: false, limit: "database_new_per_week", retryAfterS: 5 * DAY / 1000 });
    expect(decideBudget({ newIssuances: [], databaseNewIssuances: [now - 1, now - 2], databaseNewLimit: 2, labelIssuances: [now - 1], labelEverIssued: true }, { newPerWeek: 50, duplicatesPerWeek: 5 }, now).ok).toBe(true);
  });
});
