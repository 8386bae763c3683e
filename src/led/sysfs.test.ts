import { expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLedWriter } from "./sysfs";
import { LED_TABLE } from "./patterns";
import { silentLogger } from "../log/index";

function fixture(names: string[]) {
  const root = mkdtempSync(join(tmpdir(), "iotbox-sysfs-"));
  const leds = join(root, "class", "leds");
  for (const n of names) {
    mkdirSync(join(leds, n), { recursive: true });
    for (const f of ["trigger", "brightness", "delay_on", "delay_off"]) writeFileSync(join(leds, n, f), "");
  }
  return { root, leds, read: (n: string, f: string) => readFileSync(join(leds, n, f), "utf8") };
}

test("writes trigger and delays to ACT and PWR", () => {
  const fx = fixture(["ACT", "PWR"]);
  try {
    const w = createLedWriter(fx.leds, silentLogger());
    expect(w.apply("ACT", LED_TABLE.setup.act)).toBe(true);
    expect(w.apply("PWR", LED_TABLE.setup.pwr)).toBe(true);
    expect(fx.read("ACT", "trigger")).toBe("timer");
    expect(fx.read("ACT", "delay_on")).toBe("1500");
    expect(fx.read("ACT", "delay_off")).toBe("500");
    expect(w.apply("ACT", LED_TABLE.setup.act)).toBe(false); // unchanged: not rewritten
    w.apply("PWR", LED_TABLE.healthy.pwr);
    expect(fx.read("PWR", "trigger")).toBe("none");
    expect(fx.read("PWR", "brightness")).toBe("1");
  } finally { rmSync(fx.root, { recursive: true, force: true }); }
});

test("falls back to led0 on older kernels and skips a missing PWR (Pi 3B)", () => {
  const fx = fixture(["led0"]);
  try {
    const w = createLedWriter(fx.leds, silentLogger());
    expect(w.apply("ACT", LED_TABLE.healthy.act)).toBe(true);
    expect(fx.read("led0", "trigger")).toBe("heartbeat");
    expect(w.apply("PWR", LED_TABLE.healthy.pwr)).toBe(false);
  } finally { rmSync(fx.root, { recursive: true, force: true }); }
});
