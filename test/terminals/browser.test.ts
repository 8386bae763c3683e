/**
 * A real browser (Debian's chromium, headless) on a POS page served over HTTPS from another
 * origin calls the box's POS API: the CORS preflight, the bearer token, the Idempotency-Key and
 * the answer all go through Chrome's own rules, not our reading of them.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";

import { join } from "node:path";
import { chromium } from "../support/chromium";
const chromiumDom = (url: string) => chromium(["--ignore-certificate-errors", "--dump-dom", url], { budgetMs: 8000 });
import type { Server } from "bun";
import { Hono } from "hono";
import type { TerminalSimulator } from "../../tools/terminal-simulator";
import { addTerminal, createBox, type Box } from "./box";
import { startSim, tempDir, testFleet } from "./helpers";

const POIID = "P400Plus-600000006";
let sim: TerminalSimulator, box: Box, boxServer: Server<undefined>, dir: ReturnType<typeof tempDir>;
const pages: Server<undefined>[] = [];
const preflights: Array<Record<string, string>> = [];

beforeAll(async () => {
  sim = await startSim(POIID);
  dir = tempDir();
  box = await createBox(dir.path);
  await addTerminal(box, sim, POIID);
  const cert = testFleet().issue("box.test", { sanIp: "127.0.0.1" });
  const app = new Hono();
  app.use("*", async (c, next) => { if (c.req.method === "OPTIONS") preflights.push(Object.fromEntries(c.req.raw.headers)); await next(); });
  app.route("/api/pos", box.terminals.posApi);
  boxServer = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert: cert.certPem, key: cert.keyPem }, fetch: app.fetch });
});
afterAll(async () => {
  for (const p of pages) p.stop(true);
  boxServer?.stop(true);
  await box?.terminals.stop();
  await sim?.stop();
  dir?.dispose();
  testFleet().dispose();
});

function posPage(): { origin: string } {
  const cert = testFleet().issue("pos.test", { sanIp: "127.0.0.1" });
  const api = `https://127.0.0.1:${boxServer.port}/api/pos`;
  const html = `<!doctype html><html><body><pre id="out">pending</pre><script>
    fetch(${JSON.stringify(api + "/payments")}, { method: "POST", headers: {
      "Authorization": "Bearer ${box.token}", "Content-Type": "application/json",
      "Idempotency-Key": "browser-" + Math.random(), "Prefer": "wait=10" },
      body: JSON.stringify({ amount: 1234, currency: "EUR", reference: "browser-order" }) })
    .then(async (r) => { document.getElementById("out").textContent = "HTTP " + r.status + " " + await r.text(); })
    .catch((e) => { document.getElementById("out").textContent = "FAILED " + e; });
  </script></body></html>`;
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, tls: { cert: cert.certPem, key: cert.keyPem }, fetch: () => new Response(html, { headers: { "content-type": "text/html" } }) });
  pages.push(s);
  return { origin: `https://127.0.0.1:${s.port}` };
}


const outText = (dom: string) => /<pre id="out">([\s\S]*?)<\/pre>/.exec(dom)?.[1]?.replace(/&quot;/g, '"') ?? dom;

test("a POS page on a configured origin pays through the box", async () => {
  const { origin } = posPage();
  await box.admin("/pos/origins", { method: "PUT", json: { origins: [origin] } });
  const before = sim.approved().length;
  const out = outText(await chromiumDom(origin + "/"));
  expect(out).toStartWith("HTTP 201 ");
  expect(JSON.parse(out.slice(9))).toMatchObject({ status: "approved", amount: 1234, reference: "browser-order" });
  expect(sim.approved().length).toBe(before + 1);
  const pre = preflights.at(-1)!;
  expect(pre.origin).toBe(origin);
  expect(pre["access-control-request-headers"]).toContain("idempotency-key");
}, 60_000);

test("a page on another origin is stopped by the browser, and nothing is charged", async () => {
  const { origin } = posPage();
  await box.admin("/pos/origins", { method: "PUT", json: { origins: ["https://pos.example.com"] } });
  const before = sim.counts.Payment ?? 0;
  const out = outText(await chromiumDom(origin + "/"));
  expect(out).toStartWith("FAILED TypeError");
  expect(sim.counts.Payment ?? 0).toBe(before);
}, 60_000);
