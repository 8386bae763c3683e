/**
 * A POS page made for the reference box, in Debian's Chromium (puppeteer-core), served over HTTPS
 * from the database's origin (the database double), takes a payment through the box's
 * /iot_drivers/action + /iot_drivers/event against the terminal simulator: Chrome's own CORS
 * preflight, then the events until the result. The terminal's reply to the Payment is lost after
 * the charge: the box finds the result by TransactionStatus and the page gets Approved, with one
 * charge in the simulator's ledger. A page on another origin is stopped, nothing charged.
 * The box is its whole HTTP surface (test/support/http-box.ts), connected to the double by token.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import puppeteer, { type Browser } from "puppeteer-core";
import type { TerminalSimulator } from "../../tools/terminal-simulator";
import { startOdooDbDouble, type OdooDbDouble } from "../../testkit/odoo-db-double";
import { startHttpBox, type HttpBox } from "../support/http-box";
import { FAST } from "../terminals/box";
import { KEY, startSim, testFleet } from "../terminals/helpers";

const POIID = "P400Plus-900000009";
let sim: TerminalSimulator, box: HttpBox, db: OdooDbDouble, browser: Browser, profile: string, other: Server<undefined>, deviceId: string;

/** The reference POS's way: one action, then long-polled events until a result (Response or Error). */
const posPage = (boxUrl: string, device: string) => `<!doctype html><html><body><pre id="out">pending</pre><script>
const rpc = (path, params) => fetch(${JSON.stringify(boxUrl)} + path, { method: "POST", headers: { "Content-Type": "application/json" },
  body: JSON.stringify({ jsonrpc: "2.0", method: "call", id: Math.floor(Math.random() * 1e6), params }) }).then((r) => r.json());
(async () => {
  const session = "pos-" + Math.random().toString(36).slice(2), seen = [];
  const data = { messageType: "Transaction", TransactionID: "00001-001-0007", cid: "c7", amount: 1999, currency: "EUR" };
  const a = await rpc("/iot_drivers/action", { session_id: session, device_identifier: ${JSON.stringify(device)}, data });
  seen.push("action:" + a.result.status);
  let last = 0;
  for (let i = 0; i < 60; i++) {
    const e = (await rpc("/iot_drivers/event", { listener: { session_id: session, devices: [${JSON.stringify(device)}], last_event: last } })).result;
    if (!e) continue;
    last = e.time;
    const r = e.result;
    seen.push(r.Response || r.Stage || ("Error:" + r.Error));
    if (r.Response || r.Error) { seen.push("card:" + r.Card + "/" + r.CardNo, "tx:" + r.PaymentTransactionID, "session:" + (e.session_id === session)); break; }
  }
  document.getElementById("out").textContent = JSON.stringify(seen);
})().catch((e) => { document.getElementById("out").textContent = "FAILED " + e; });
</script></body></html>`;

beforeAll(async () => {
  // The first Payment's reply is lost after the charge; the rest are answered.
  sim = await startSim(POIID, { behaviour: (cat, n) => (cat === "Payment" && n === 1 ? "drop-after-charge" : "approve") });
  const dbCert = testFleet().issue("db.test", { sanIp: "127.0.0.1" });
  let boxUrl = "";
  db = await startOdooDbDouble({ tls: dbCert, pages: { "/pos": () => posPage(boxUrl, deviceId) } });
  box = await startHttpBox({ password: "a long admin password", fleetRootsPem: () => [testFleet().root.certPem], terminalTimeouts: FAST,
    odooFetch: (url, init) => fetch(url, { ...init, tls: { ca: [testFleet().root.certPem] } } as RequestInit) });
  boxUrl = box.https;
  const added = await box.terminals.adminApi.request("/terminals", { method: "POST", headers: { "content-type": "application/json" },
    body: JSON.stringify({ address: sim.address, poiid: POIID, keyIdentifier: KEY.keyIdentifier, keyVersion: KEY.keyVersion, passphrase: KEY.passphrase }) });
  expect(added.status).toBe(201);
  deviceId = (await box.terminals.list())[0]!.id;
  expect(await box.odoo.connect(db.connectionToken("url"))).toEqual({ ok: true });
  // The database now knows the terminal as a device of this box.
  expect(db.setups.at(-1)!.devices[deviceId]).toMatchObject({ type: "payment", connection: "network" });
  const otherCert = testFleet().issue("elsewhere.test", { sanIp: "127.0.0.1" });
  other = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert: otherCert.certPem, key: otherCert.keyPem }, fetch: () => new Response(posPage(boxUrl, deviceId), { headers: { "content-type": "text/html" } }) });
  profile = mkdtempSync(join(tmpdir(), "iotbox-chromium-"));
  browser = await puppeteer.launch({ executablePath: "/usr/bin/chromium", acceptInsecureCerts: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update",
      "--disable-sync", "--ignore-certificate-errors", `--user-data-dir=${profile}`] });
}, 60_000);
afterAll(async () => {
  await browser?.close();
  other?.stop(true);
  await box?.stop();
  await db?.stop();
  await sim?.stop();
  testFleet().dispose();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

async function run(url: string): Promise<string> {
  const page = await browser.newPage();
  try {
    await page.goto(url);
    await page.waitForFunction(() => document.getElementById("out")!.textContent !== "pending", { timeout: 30_000, polling: 50 });
    return (await page.$eval("#out", (e) => e.textContent))!;
  } finally { await page.close(); }
}

test("a POS page on the database's origin pays through /iot_drivers; the terminal's reply is lost after the charge: Approved, one charge", async () => {
  const out = await run(`${db.url}/pos`);
  const seen = JSON.parse(out);
  expect(seen.slice(0, 4)).toEqual(["action:success", "WaitingForCard", "WaitingForResult", "Approved"]);
  expect(seen).toContain("card:visa/1111");
  expect(seen).toContain("session:true");
  const charges = sim.approved().filter((x) => x.saleTransactionId === "00001-001-0007");
  expect(charges.length).toBe(1);
  expect(seen).toContain(`tx:${charges[0]!.poiTransactionId}`);
  expect(charges[0]!.amount).toBe(19.99);
  expect(sim.counts.Payment).toBe(1);
  expect(sim.counts.TransactionStatus).toBeGreaterThanOrEqual(1);
}, 60_000);

test("the same page on another origin is stopped by the browser, and nothing is charged", async () => {
  const before = sim.counts.Payment ?? 0;
  expect(await run(`https://127.0.0.1:${other.port}/`)).toStartWith("FAILED TypeError");
  expect(sim.counts.Payment ?? 0).toBe(before);
}, 60_000);
