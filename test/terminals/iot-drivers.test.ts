/**
 * The reference's device protocol (/iot_drivers/action, /iot_drivers/event, and /hw_drivers/…)
 * against the terminal simulator over real TLS, through the same engine and journal as /api/pos:
 * results in the reference drivers' shape, a lost reply resolved without a second charge, the
 * same TransactionID/cid never charged twice, Cancel, an unknown device, CORS for the database's
 * and the POS origins only.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Hono } from "hono";
import type { TerminalSimulator } from "../../tools/terminal-simulator";
import { addTerminal, createBox, ORIGIN, type Box } from "./box";
import { startSim, tempDir, testFleet } from "./helpers";

const POIID = "P400Plus-800000008";
const DB_ORIGIN = "https://shop.example.com";
const BOX_ID = "10000000abcdef01";
const TOKEN = "tok_0123456789abcdef";
let sim: TerminalSimulator, box: Box, dir: ReturnType<typeof tempDir>, app: Hono, terminalId: string;
let n = 0;

beforeAll(async () => {
  sim = await startSim(POIID, { lateMs: 600 });
  dir = tempDir();
  box = await createBox(dir.path, { terminals: { identifier: () => BOX_ID, databaseOrigin: () => DB_ORIGIN, eventLongPollMs: 3000, connectionToken: () => TOKEN } });
  await addTerminal(box, sim, POIID);
  terminalId = (await box.terminals.list())[0]!.id;
  app = new Hono().route("/iot_drivers", box.terminals.iotDriversApi).route("/hw_drivers", box.terminals.iotDriversApi);
});
afterEach(async () => { await box.terminals.idle(); sim.setBehaviour("approve"); });
afterAll(async () => { await box.terminals.stop(); await sim.stop(); dir.dispose(); testFleet().dispose(); });

const rpc = async (path: string, params: unknown, headers: Record<string, string> = {}) => {
  const r = await app.request(path, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify({ jsonrpc: "2.0", method: "call", id: 1, params }) });
  return { status: r.status, headers: r.headers, body: await r.json() as any };
};
const act = (data: Record<string, unknown>, device = terminalId, base = "/iot_drivers") => rpc(`${base}/action`, { session_id: "pos-1", device_identifier: device, data });
const tx = (extra: Record<string, unknown> = {}) => ({ messageType: "Transaction", TransactionID: `00042-001-${++n}`, cid: `c${n}`, amount: 1250, currency: "EUR", ...extra });

/** Long-polls until an event with a final answer (Response, Error, Stage Cancel or Disconnected) for this cid; returns all seen. */
async function eventsUntilFinal(cid: string, from = 0, base = "/iot_drivers") {
  const seen: any[] = [];
  let last = from;
  for (let i = 0; i < 40; i++) {
    const r = await rpc(`${base}/event`, { listener: { session_id: "pos-1", devices: [terminalId], last_event: last } });
    const e = r.body.result;
    if (!e) continue;
    last = e.time;
    if (e.result.cid !== cid) continue;
    seen.push(e);
    if (e.result.Response || e.result.Error || e.result.Stage === "Cancel" || e.result.Disconnected) return seen;
  }
  throw new Error(`no final event for ${cid}: ${JSON.stringify(seen.map((e) => e.result))}`);
}

describe("/iot_drivers", () => {
  test("a Transaction: answered at once, WaitingForCard then Approved in the reference's result shape; one charge; journaled with /api/pos's payments", async () => {
    const data = tx();
    const before = sim.approved().length;
    const r = await act(data);
    expect(r.status).toBe(200);
    expect(r.body.result).toMatchObject({ owner: "pos-1", session_id: "pos-1", iot_box_identifier: BOX_ID, device_identifier: terminalId, status: "success" });
    expect(typeof r.body.result.time).toBe("number");
    const seen = await eventsUntilFinal(data.cid);
    expect(seen.map((e) => e.result.Stage || e.result.Response)).toEqual(["WaitingForCard", "Approved"]);
    const fin = seen.at(-1)!;
    expect(fin).toMatchObject({ status: "success", iot_box_identifier: BOX_ID, device_identifier: terminalId, session_id: "pos-1", messageType: "Transaction", TransactionID: data.TransactionID, cid: data.cid, amount: 1250,
      result: { value: "", Stage: false, Response: "Approved", Ticket: false, TicketMerchant: false, Card: "visa", CardNo: "1111", Error: false, Disconnected: false, cid: data.cid } });
    const charge = sim.approved().find((x) => x.saleTransactionId === data.TransactionID)!;
    expect(fin.result.PaymentTransactionID).toBe(charge.poiTransactionId!);
    expect(sim.approved().length).toBe(before + 1);
    expect(charge.amount).toBe(12.5);
    await box.terminals.idle();
    expect(readFileSync(join(dir.path, "terminals/journal/journal.log"), "utf8")).toContain(data.TransactionID);
  });

  test("the reply is lost after the charge: WaitingForResult, then Approved from TransactionStatus; never a second Payment", async () => {
    sim.setBehaviour("drop-after-charge");
    const data = tx();
    const payments = sim.counts.Payment ?? 0;
    await act(data);
    const seen = await eventsUntilFinal(data.cid);
    expect(seen.map((e) => e.result.Stage || e.result.Response)).toEqual(["WaitingForCard", "WaitingForResult", "Approved"]);
    expect(sim.counts.Payment! - payments).toBe(1);
    expect(sim.approved().filter((x) => x.saleTransactionId === data.TransactionID).length).toBe(1);
  });

  test("the same TransactionID and cid again is the same payment (replayed, not resent); after a decline it is a new attempt", async () => {
    const data = tx();
    await act(data);
    await eventsUntilFinal(data.cid);
    const payments = sim.counts.Payment!;
    const again = await act(data);
    expect(again.body.result.status).toBe("success");
    await box.terminals.idle();
    expect(sim.counts.Payment).toBe(payments);
    expect(sim.approved().filter((x) => x.saleTransactionId === data.TransactionID).length).toBe(1);

    sim.setBehaviour("decline");
    const d2 = tx();
    await act(d2);
    const declined = await eventsUntilFinal(d2.cid);
    expect(declined.at(-1)!.result).toMatchObject({ Response: "Declined", Error: "Declined by the card issuer: Not enough balance." });
    sim.setBehaviour("approve");
    const t0 = declined.at(-1)!.time;
    await act(d2);
    expect((await eventsUntilFinal(d2.cid, t0)).at(-1)!.result.Response).toBe("Approved");
    expect(sim.counts.Payment).toBe(payments + 2);
  });

  test("Cancel aborts the payment in progress (Stage Cancel); a Transaction while another runs gets an Error event, nothing sent", async () => {
    sim.setBehaviour("late");
    const data = tx();
    await act(data);
    await Bun.sleep(100);
    const other = tx();
    const payments = sim.counts.Payment!;
    const busy = await act(other);
    expect(busy.body.result).toMatchObject({ status: "error", code: "terminal_busy" });
    expect((await eventsUntilFinal(other.cid)).at(-1)!.result.Error).toContain("busy");
    // One engine: /api/pos sees the terminal taken by this payment too.
    const pos = await box.pay({ amount: 100, currency: "EUR", reference: "till-order" });
    expect(pos).toMatchObject({ status: 409, body: { error: { code: "terminal_busy" } } });
    expect(sim.counts.Payment).toBe(payments);
    expect((await act({ messageType: "Cancel", cid: data.cid })).body.result.status).toBe("success");
    expect((await eventsUntilFinal(data.cid)).at(-1)!.result.Stage).toBe("Cancel");
    expect(sim.approved().some((x) => x.saleTransactionId === data.TransactionID)).toBe(false);
  });

  test("a Cancel through /iot_drivers never reaches a payment started through /api/pos", async () => {
    sim.setBehaviour("late");
    const pos = await box.pay({ amount: 300, currency: "EUR", reference: "till-order-2" });
    expect(pos.status).toBe(201);
    await Bun.sleep(50);
    const aborts = sim.counts.Abort ?? 0;
    await act({ messageType: "Cancel", cid: "cx" });
    expect((await eventsUntilFinal("cx")).at(-1)!.result).toMatchObject({ Stage: "Cancel", Error: "No transaction in progress to cancel." });
    expect(sim.counts.Abort ?? 0).toBe(aborts);
    expect((await box.settle(pos.body.id)).status).toBe("approved");
  });

  test("an unknown device is disconnected; the box itself answers test_protocol; bad input is a 4xx; /hw_drivers is the same", async () => {
    expect((await act(tx(), "no-such-terminal")).body.result).toMatchObject({ status: "disconnected", device_identifier: "no-such-terminal", iot_box_identifier: BOX_ID });
    expect((await rpc("/iot_drivers/action", { session_id: "s", device_identifier: BOX_ID, data: "{}" })).body.result).toMatchObject({ status: "success", device_identifier: BOX_ID });
    expect((await act(tx({ amount: -5 }))).body.result).toMatchObject({ status: "error", code: "amount_invalid" });
    expect((await act({ messageType: "Balance" })).body.result.status).toBe("error");
    expect((await app.request("/iot_drivers/action", { method: "POST", body: "{" })).status).toBe(400);
    expect((await rpc("/iot_drivers/event", {})).status).toBe(400);
    const data = tx();
    expect((await act(data, terminalId, "/hw_drivers")).body.result.status).toBe("success");
    expect((await eventsUntilFinal(data.cid, 0, "/hw_drivers")).at(-1)!.result.Response).toBe("Approved");
  });

  test("a payload the database signed (the reference's HMAC in Authorization) is checked: right → served, wrong, stale or another box's → 403, nothing sent", async () => {
    const { signPayload, parseAsPython } = await import("../../src/odoo/signature");
    const params = { session_id: "pos-1", device_identifier: "P400Plus-unknown", data: { messageType: "Transaction", amount: 12.0 } };
    const text = JSON.stringify({ jsonrpc: "2.0", method: "call", id: 1, params }).replace('"amount":12', '"amount":12.0');
    const url = "http://localhost/iot_drivers/action";
    const send = (sig: string) => app.request(url, { method: "POST", headers: { "content-type": "application/json", authorization: sig }, body: text });
    const now = Date.now() / 1000;
    const good = signPayload(url, (parseAsPython(text) as any).params, TOKEN, now);
    const ok = await send(good);
    expect(ok.status).toBe(200);
    expect((await ok.json() as any).result.status).toBe("disconnected");       // served: the device is unknown
    for (const bad of [signPayload(url, params, TOKEN, now) /* 12 is not 12.0 */, signPayload(url, (parseAsPython(text) as any).params, TOKEN, now - 30), signPayload(url, (parseAsPython(text) as any).params, "tok_another_box", now), "not-a-signature"]) {
      const r = await send(bad);
      expect(r.status).toBe(403);
      expect((await r.json() as any).error.data.name).toBe("signature_invalid");
    }
  });

  test("an event long poll with nothing new answers null after its wait", async () => {
    const t = Date.now();
    const r = await rpc("/iot_drivers/event", { listener: { session_id: "s", devices: [terminalId], last_event: Date.now() / 1000 + 5 } });
    expect(r.body).toEqual({ jsonrpc: "2.0", id: 1, result: null });
    expect(Date.now() - t).toBeGreaterThanOrEqual(2900);
  });

  test("CORS: the database's origin and the POS origins only, with the Private Network Access answer", async () => {
    for (const origin of [DB_ORIGIN, ORIGIN]) {
      const pre = await app.request("/iot_drivers/action", { method: "OPTIONS", headers: { origin, "access-control-request-method": "POST", "access-control-request-private-network": "true" } });
      expect(pre.status).toBe(204);
      expect(pre.headers.get("access-control-allow-origin")).toBe(origin);
      expect(pre.headers.get("access-control-allow-private-network")).toBe("true");
    }
    const payments = sim.counts.Payment!;
    const evil = await rpc("/iot_drivers/action", { session_id: "s", device_identifier: terminalId, data: tx() }, { origin: "https://evil.example" });
    expect(evil.status).toBe(403);
    expect(evil.headers.get("access-control-allow-origin")).toBeNull();
    expect((await app.request("/iot_drivers/event", { method: "OPTIONS", headers: { origin: "https://evil.example" } })).status).toBe(403);
    await box.terminals.idle();
    expect(sim.counts.Payment).toBe(payments);
  });
});
