import { expect, test } from "bun:test";
import { decodeConfig } from "./decode";
import { defaultConfig } from "./schema";

test("the update settings: defaults, and a damaged value falls back on its own (the rest stands)", () => {
  const d = defaultConfig("0123456789");
  expect(d.update).toEqual({ channel: "stable", url: null, quietHours: "02:00-05:00" });
  const ok = decodeConfig({ ...d, update: { channel: "beta", url: "https://updates.example.com", quietHours: "23:00-01:00" } }, d);
  expect(ok.config.update).toEqual({ channel: "beta", url: "https://updates.example.com", quietHours: "23:00-01:00" });
  expect(ok.problems).toEqual([]);
  const bad = decodeConfig({ ...d, update: { channel: "../../etc", url: "http://updates.example.com", quietHours: "soon" }, logLevel: "debug" }, d);
  expect(bad.config.update).toEqual(d.update);
  expect(bad.config.logLevel).toBe("debug");
  expect(bad.problems.length).toBe(3);
  const notObj = decodeConfig({ ...d, update: "stable" }, d);
  expect(notObj.config.update).toEqual(d.update);
  expect(notObj.problems[0]).toContain('"update" should be an object');
  // an older config.json without the section: the defaults, no problem reported
  const { update: _, ...older } = d;
  expect(decodeConfig(older, d)).toMatchObject({ config: { update: d.update }, problems: [] });
});
