/**
 * The settings page as a technician uses it: Debian's Chromium (headless) driven over the
 * DevTools protocol (puppeteer-core), at a phone's width, logged in over HTTPS to the box's whole
 * HTTP surface (test/support/http-box.ts: the gate, the settings, the terminal API, real sockets),
 * with a terminal simulator on loopback. It adds a terminal through the form, tests it, and
 * screenshots every card in English and Spanish (out/screenshots/settings-<lang>-<card>.png).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import type { TerminalSimulator } from "../../tools/terminal-simulator";
import { startHttpBox, type HttpBox } from "../support/http-box";
import { KEY, startSim, testFleet } from "../terminals/helpers";

const SHOTS = join(import.meta.dir, "../../out/screenshots");
const PASSWORD = "a long admin password";
const POIID = "P400Plus-700000007";
let box: HttpBox, sim: TerminalSimulator, browser: Browser, profile: string;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  sim = await startSim(POIID);
  box = await startHttpBox({ password: PASSWORD, fleetRootsPem: () => [testFleet().root.certPem], pairing: () => ({ code: "K7QM-4XNP", error: null }) });
  profile = mkdtempSync(join(tmpdir(), "iotbox-chromium-"));
  browser = await puppeteer.launch({
    executablePath: "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--ignore-certificate-errors", "--hide-scrollbars", `--user-data-dir=${profile}`],
    acceptInsecureCerts: true,
  });
});
afterAll(async () => {
  await browser?.close();
  await box?.stop();
  await sim?.stop();
  testFleet().dispose();
  rmSync(profile, { recursive: true, force: true });
});

/** A fresh browser context (its own cookies) with a phone's viewport. */
async function phone(): Promise<Page> {
  const page = await (await browser.createBrowserContext()).newPage();
  await page.setViewport({ width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true });
  return page;
}

async function logIn(page: Page, lang: "en" | "es") {
  await page.goto(`${box.https}/settings?lang=${lang}`, { waitUntil: "networkidle0" });
  await page.type("#pw", PASSWORD);
  await Promise.all([page.waitForNavigation({ waitUntil: "networkidle0" }), page.click("form[action^='/login'] button[type=submit]")]);
  expect(await page.$("#terms")).not.toBeNull();
}

/** Every card of the page, one screenshot each; returns the files and the cards' headings. */
async function shootCards(page: Page, lang: string) {
  const cards = await page.$$("main > section");
  const out: string[] = [];
  for (const [i, card] of cards.entries()) {
    const title = (await card.$eval("h2", (h) => h.textContent ?? "").catch(() => "banner")).toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
    const file = join(SHOTS, `settings-${lang}-${title || `card-${i + 1}`}.png`);
    await card.screenshot({ path: file });
    expect(statSync(file).size).toBeGreaterThan(2_000);
    out.push(file);
  }
  // Nothing wider than the phone: a horizontal scroll is a layout bug.
  expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  return out;
}

test("logged in at a phone's width: the terminal card lists, adds and tests a terminal (en); every card screenshotted", async () => {
  const page = await phone();
  const errors: string[] = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  await logIn(page, "en");
  // The card loaded its list from /api/terminals/ (no error banner: this was the trailing-slash 404).
  await Bun.sleep(500);
  expect(await page.$eval("#terms-msg", (e) => ((e as HTMLElement).hidden ? "" : e.textContent))).toBe("");
  await page.type("#ta", sim.address);
  await page.type("#tp", POIID);
  await page.type("#tk", KEY.keyIdentifier);
  await page.type("#ts", KEY.passphrase);
  await page.click("#terms-add button[type=submit]");
  await page.waitForFunction(() => !document.getElementById("terms-msg")!.hidden, { polling: 50 });
  expect(await page.$eval("#terms-msg", (e) => [e.textContent, e.className])).toEqual(["Terminal added.", "banner ok"]);
  await page.waitForFunction((p) => document.getElementById("terms-list")!.textContent!.includes(p), { polling: 50 }, POIID);
  expect(await box.terminals.list()).toHaveLength(1);
  // Test: a Diagnosis over a fresh connection to the simulator.
  const diag = sim.counts.Diagnosis ?? 0;
  const testButton = (await page.$$("#terms-list li button"))[0]!;
  expect(await testButton.evaluate((b) => b.textContent)).toBe("Test");
  await testButton.click();
  await page.waitForFunction(() => /answers/.test(document.getElementById("terms-msg")!.textContent ?? ""), { polling: 50 });
  expect(await page.$eval("#terms-msg", (e) => e.className)).toBe("banner ok");
  expect((sim.counts.Diagnosis ?? 0) - diag).toBe(1);
  const files = await shootCards(page, "en");
  expect(files.length).toBeGreaterThanOrEqual(5);
  expect(errors).toEqual([]);
  await page.close();
}, 90_000);

test("the same page in Spanish: the terminal card's own words are Spanish too; every card screenshotted", async () => {
  const page = await phone();
  await logIn(page, "es");
  await page.waitForFunction((p) => document.getElementById("terms-list")!.textContent!.includes(p), { polling: 50 }, POIID);
  const buttons = await page.$$eval("#terms-list li button", (bs) => bs.map((b) => b.textContent));
  expect(buttons).toEqual(["Probar", "Quitar"]);
  await shootCards(page, "es");
  await page.close();
}, 90_000);

test("the homepage's database card at a phone's width, en and es: the pairing code of an unconnected box", async () => {
  const page = await phone();
  for (const lang of ["en", "es"] as const) {
    await page.goto(`${box.http}/?lang=${lang}&local`, { waitUntil: "networkidle0" });
    expect(await page.$eval("#pairing-code", (e) => e.textContent)).toBe("K7QM-4XNP");
    const file = join(SHOTS, `home-database-${lang}.png`);
    await (await page.$("#odoo"))!.screenshot({ path: file });
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  }
  await page.close();
}, 60_000);
