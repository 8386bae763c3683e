/**
 * The "Software updates" card in a real browser at a phone's width (Debian's chromium, headless):
 * a box that went back by itself after a failed update, with a refused bundle, in English and
 * Spanish. Screenshots land in out/screenshots/ for review.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "../support/chromium";
import { startHttpBox, type HttpBox } from "../support/http-box";
import { updateView, type UpdateView } from "../../src/update/index";
import { DEFAULT_STATE } from "../../src/update/state";

const SHOTS = join(import.meta.dir, "../../out/screenshots");
let box: HttpBox;
beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const view = (): UpdateView => ({
    ...updateView({ state: { ...DEFAULT_STATE, lastCheck: { at: "2026-12-02T03:00:00Z", channel: "stable", outcome: "available", version: "0.3.0+g1a2b3c4d5e" } },
      running: { version: "0.2.0+g666093c81f", build: 1_764_000_000 }, result: null, trial: null, channel: "stable", quietHours: "02:00-05:00",
      paymentInFlight: false, nextCheckAt: "2026-12-03T02:41:00Z", busy: null }),
    lastResult: { line: "2026-12-02T03:09:00Z rolled-back 0.3.0+g1a2b3c4d5e: slot B did not come up healthy; back on slot A", at: "2026-12-02T03:09:00Z", outcome: "rolled-back", version: "0.3.0+g1a2b3c4d5e" },
    lastError: { code: "ERR_IOT_UPDATE_OLDER", message: "This update is older than the version the box runs. It was refused and nothing was changed.", at: "2026-12-02T04:00:00Z" },
  });
  const refused = async () => ({ ok: false as const, code: "ERR_IOT_UPDATE_UNREACHABLE" as const, message: "not used here" });
  box = await startHttpBox({ password: "correct horse battery", update: { view, updater: { check: refused, hold: () => {}, resume: () => {} } } });
});
afterAll(async () => { await box.stop(); });

for (const lang of ["en", "es"]) {
  test(`a rollback and a refusal on the card, at a phone's width (${lang}); screenshotted`, async () => {
    const url = `${box.http}/?local&lang=${lang}`;
    const dom = await chromium(["--dump-dom", url]);
    expect(dom).toContain('id="update-rolled-back"');
    expect(dom).toContain(lang === "en" ? "went back to the previous version by itself" : "volvió sola a la versión anterior");
    expect(dom).toContain("ERR_IOT_UPDATE_OLDER");
    expect(dom).toContain(lang === "en" ? "It was refused and nothing was changed." : "Se rechazó y no se cambió nada.");
    expect(dom).toContain("0.2.0+g666093c81f");
    const shot = join(SHOTS, `home-update-rolled-back-${lang}.png`);
    await chromium([`--screenshot=${shot}`, `${url}#update`], { height: 2400 });
    expect(statSync(shot).size).toBeGreaterThan(10_000);
  }, 60_000);
}
