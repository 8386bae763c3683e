/**
 * Applies LED patterns through the sysfs LED class (`/sys/class/leds/<name>/…`). Debian's
 * kernel names them ACT and PWR; Raspberry Pi kernels before 6.1 used led0 and led1.
 * Missing LEDs are skipped (a Pi 3B has no PWR); a pattern is written only when it changes.
 */
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Logger } from "../log/index";
import type { LedName, LedPattern } from "./patterns";

const ALIASES: Record<LedName, string[]> = { ACT: ["ACT", "led0"], PWR: ["PWR", "led1"] };

export function createLedWriter(ledsDir: string, logger: Logger) {
  const last = new Map<LedName, string>();
  const resolve = (name: LedName) => ALIASES[name].map((n) => join(ledsDir, n)).find((p) => existsSync(join(p, "trigger"))) ?? null;
  return {
    apply(name: LedName, p: LedPattern): boolean {
      const key = JSON.stringify(p);
      if (last.get(name) === key) return false;
      const dir = resolve(name);
      if (!dir) return false;
      try {
        writeFileSync(join(dir, "trigger"), p.trigger);
        if (p.trigger === "timer") {
          writeFileSync(join(dir, "delay_on"), String(p.delayOn ?? 500));
          writeFileSync(join(dir, "delay_off"), String(p.delayOff ?? 500));
        }
        if (p.trigger === "none") writeFileSync(join(dir, "brightness"), String(p.brightness ?? 0));
        last.set(name, key);
        return true;
      } catch (e) {
        logger.warn("led write failed", { led: name, error: (e as Error).message });
        return false;
      }
    },
  };
}
