/**
 * The POS API end to end: app.request() into the box, real TLS from the box to the simulator.
 */
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { SIM_CARD, type TerminalSimulator } from "../../tools/terminal-simulator";
import { addTerminal, createBox, ORIGIN, type Box } from "./box";
import { KEY, startSim, tempDir, testFleet } from "./helpers";

const POIID = "P400Plus-100000001";
let sim: TerminalSimulator;
let box: Box;
let dir: ReturnType<typeof tempDir>;
let n = 0;
const order = () => `order-${Date.now()}-${++n}`;

beforeAll(async () => {
  sim = await startSim(POIID, { lateMs: 700 });
  dir = tempDir();
  box = await createBox(dir.path);
  await addTerminal(box, sim, POIID);
});
afterEach(async () => { await box.terminals.idle(); sim.setBehaviour("approve"); });
afterAll(async () => { await box.terminals.stop(); await sim.stop(); dir.dispose(); testFleet().dispose(); });

describe("payments", () => {
  test("approve: 201 at once, then the result by long poll; the card shows only brand and last 4", async () => {
    const ref = order();
    const r = await box.pay({ amount: 1234, currency: "EUR", reference: ref });
    expect(r.status).toBe(201);
    expect(r.body.status).toBe("in_progress");
    const p = await box.settle(r.body.id);
    expect(p).toMatchObject({ status: "approved", final: true, amount: 1234, currency: "EUR", reference: ref, result: { result: "Success", brand: "visa", cardLast4: "1111", authorizedAmount: 1234 } });
    const e = sim.approved().find((x) => x.saleTransactionId === ref)!;
    expect(e.amount).toBe(12.34);
    expect(p.result.poiTransactionId).toBe(e.poiTransactionId!);
  });

  test("paymentInFlight (the updater's reboot guard) is true from the accepted payment until its result is final", async () => {
    expect(box.terminals.paymentInFlight()).toBe(false);
    const r = await box.pay({ amount: 777, currency: "EUR", reference: order() });
    expect(r.status).toBe(201);
    expect(box.terminals.paymentInFlight()).toBe(true);
    await box.settle(r.body.id);
    await box.terminals.idle();
    expect(box.terminals.paymentInFlight()).toBe(false);
  });

  test("the same Idempotency-Key replays the payment; with another body it is refused (409); nothing charged twice", async () => {
    const ref = order(), key = crypto.randomUUID();
    const first = await box.pay({ amount: 500, currency: "EUR", reference: ref }, key);
    await box.settle(first.body.id);
    const again = await box.pay({ currency: "EUR", reference: ref, amount: 500 }, key);
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(again.body.id).toBe(first.body.id);
    const other = await box.pay({ amount: 501, currency: "EUR", reference: ref }, key);
    expect(other.status).toBe(409);
    expect(other.body.error.code).toBe("idempotency_conflict");
    expect(sim.approved().filter((x) => x.saleTransactionId === ref).length).toBe(1);
  });

  test("Prefer: wait=N answers with the result in one round trip", async () => {
    const r = await box.pos("/payments", { method: "POST", key: crypto.randomUUID(), json: { amount: 250, currency: "EUR", reference: order() }, headers: { prefer: "wait=10" } });
    expect(r.status).toBe(201);
    expect(await r.json()).toMatchObject({ status: "approved", final: true });
  });

  test("decline", async () => {
    sim.setBehaviour("decline");
    const r = await box.pay({ amount: 700, currency: "EUR", reference: order() });
    expect(await box.settle(r.body.id)).toMatchObject({ status: "declined", result: { result: "Failure", errorCondition: "Refusal", refusalReason: "Not enough balance" } });
  });

  test("the terminal answers Busy: failed, nothing charged", async () => {
    sim.setBehaviour("busy");
    const ref = order();
    const r = await box.pay({ amount: 700, currency: "EUR", reference: ref });
    const p = await box.settle(r.body.id);
    expect(p).toMatchObject({ status: "failed", result: { errorCondition: "Busy" }, error: { code: "terminal_busy" } });
    expect(p.error.message).toContain("nothing was charged");
    expect(sim.approved().some((x) => x.saleTransactionId === ref)).toBe(false);
  });

  test("Prefer: wait=N waits for the result, not the first change: a lost reply answers approved, not unknown", async () => {
    sim.setBehaviour("drop-after-charge");
    const ref = order(), before = sim.counts.Payment ?? 0;
    const r = await box.pos("/payments", { method: "POST", key: crypto.randomUUID(), json: { amount: 260, currency: "EUR", reference: ref }, headers: { prefer: "wait=10" } });
    expect(r.status).toBe(201);
    const p = await r.json();
    expect(p).toMatchObject({ status: "approved", final: true, amount: 260 });
    expect(sim.counts.Payment! - before).toBe(1);
    expect(sim.approved().filter((x) => x.saleTransactionId === ref).length).toBe(1);
  });

  test("Prefer: wait=N through a late terminal (in_progress → unknown → approved) answers the final state", async () => {
    sim.setBehaviour("late");
    const r = await box.pos("/payments", { method: "POST", key: crypto.randomUUID(), json: { amount: 270, currency: "EUR", reference: order() }, headers: { prefer: "wait=10" } });
    expect(await r.json()).toMatchObject({ status: "approved", final: true });
  });

  test("one transaction at a time: a second payment while one runs is refused (409) and not sent", async () => {
    sim.setBehaviour("late");
    const before = sim.counts.Payment ?? 0;
    const a = await box.pay({ amount: 100, currency: "EUR", reference: order() });
    const b = await box.pay({ amount: 200, currency: "EUR", reference: order() });
    expect(b.status).toBe(409);
    expect(b.body.error.code).toBe("terminal_busy");
    expect((await box.settle(a.body.id)).status).toBe("approved");
    expect(sim.counts.Payment! - before).toBe(1);
  });

  test("reply dropped after charging: resolved by TransactionStatus, the Payment is never resent", async () => {
    sim.setBehaviour("drop-after-charge");
    const ref = order(), before = sim.counts.Payment ?? 0, status0 = sim.counts.TransactionStatus ?? 0;
    const r = await box.pay({ amount: 999, currency: "EUR", reference: ref });
    const p = await box.settle(r.body.id);
    expect(p.status).toBe("approved");
    expect(sim.counts.Payment! - before).toBe(1);
    expect(sim.counts.TransactionStatus! - status0).toBeGreaterThanOrEqual(1);
    expect(sim.approved().filter((x) => x.saleTransactionId === ref).length).toBe(1);
  });

  test("a late reply: TransactionStatus says InProgress until the terminal is done", async () => {
    sim.setBehaviour("late");
    const r = await box.pay({ amount: 321, currency: "EUR", reference: order() });
    const seen = new Set<string>();
    let p = r.body;
    while (!p.final) { seen.add(p.status); p = await (await box.pos(`/payments/${r.body.id}?version=${p.version}&wait=5`)).json(); }
    expect([...seen]).toEqual(["in_progress", "unknown"]);
    expect(p.status).toBe("approved");
    expect(sim.counts.TransactionStatus).toBeGreaterThan(0);
  });

  test("request lost before the terminal saw it: TransactionStatus NotFound -> failed, not charged", async () => {
    sim.setBehaviour("drop-before-charge");
    const ref = order();
    const r = await box.pay({ amount: 450, currency: "EUR", reference: ref });
    expect(await box.settle(r.body.id)).toMatchObject({ status: "failed", error: { code: "not_processed" } });
    expect(sim.approved().some((x) => x.saleTransactionId === ref)).toBe(false);
  });

  test("the terminal fails the crypto: failed with a clear code, not charged", async () => {
    sim.setBehaviour("crypto-fail");
    const r = await box.pay({ amount: 450, currency: "EUR", reference: order() });
    expect(await box.settle(r.body.id)).toMatchObject({ status: "failed", error: { code: "terminal_crypto_error" } });
  });

  test("abort while in progress -> aborted; abort after the end -> 409", async () => {
    sim.setBehaviour("late");
    const ref = order();
    const r = await box.pay({ amount: 450, currency: "EUR", reference: ref });
    await Bun.sleep(50);
    const a = await box.pos(`/payments/${r.body.id}/abort`, { method: "POST" });
    expect(a.status).toBe(202);
    expect((await box.settle(r.body.id)).status).toBe("aborted");
    expect([...sim.ledger.values()].find((x) => x.saleTransactionId === ref)!.state).toBe("aborted");
    expect((await box.pos(`/payments/${r.body.id}/abort`, { method: "POST" })).status).toBe(409);
  });

  test("refund (Reversal) of an approved payment, idempotent; a declined one cannot be refunded", async () => {
    const ref = order();
    const r = await box.pay({ amount: 1500, currency: "EUR", reference: ref });
    await box.settle(r.body.id);
    const f = await box.pos(`/payments/${r.body.id}/refund`, { method: "POST", json: { reason: "CustCancel" } });
    expect(f.status).toBe(202);
    const done = await box.settle(r.body.id);
    expect(done).toMatchObject({ status: "refunded", refund: { status: "reversed", reason: "CustCancel" } });
    expect([...sim.ledger.values()].find((x) => x.saleTransactionId === ref)!.reversed).toBe(true);
    const again = await box.pos(`/payments/${r.body.id}/refund`, { method: "POST" });
    expect(again.status).toBe(200);
    expect(sim.counts.Reversal).toBe(1);
    sim.setBehaviour("decline");
    const d = await box.pay({ amount: 100, currency: "EUR", reference: order() });
    await box.settle(d.body.id);
    const nf = await box.pos(`/payments/${d.body.id}/refund`, { method: "POST" });
    expect(nf.status).toBe(409);
    expect((await nf.json()).error.code).toBe("not_refundable");
  });

  test("a refund whose reply is lost is resolved by TransactionStatus (Reversal)", async () => {
    const r = await box.pay({ amount: 1600, currency: "EUR", reference: order() });
    await box.settle(r.body.id);
    sim.setBehaviour((cat) => (cat === "Reversal" ? "drop-after-charge" : "approve"));
    const rv0 = sim.counts.Reversal ?? 0;
    await box.pos(`/payments/${r.body.id}/refund`, { method: "POST" });
    expect(await box.settle(r.body.id)).toMatchObject({ status: "refunded", refund: { status: "reversed" } });
    expect(sim.counts.Reversal! - rv0).toBe(1);
  });

  test("server-sent events: the states as they happen, ending with the final one", async () => {
    sim.setBehaviour("approve");
    const r = await box.pay({ amount: 42, currency: "EUR", reference: order() });
    const res = await box.pos(`/payments/${r.body.id}/events`);
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const text = await res.text();
    const events = text.split("\n").filter((l) => l.startsWith("data: ")).map((l) => JSON.parse(l.slice(6)));
    expect(events.at(-1)).toMatchObject({ status: "approved", final: true });
  });
});

describe("bad input: a clear 4xx and nothing sent", () => {
  const cases: Array<[string, unknown, number, string]> = [
    ["negative", { amount: -5, currency: "EUR", reference: "x" }, 400, "amount_invalid"],
    ["zero", { amount: 0, currency: "EUR", reference: "x" }, 400, "amount_invalid"],
    ["fractional", { amount: 12.5, currency: "EUR", reference: "x" }, 400, "amount_invalid"],
    ["absurd", { amount: 1e12, currency: "EUR", reference: "x" }, 400, "amount_invalid"],
    ["string amount", { amount: "1234", currency: "EUR", reference: "x" }, 400, "amount_invalid"],
    ["unknown currency", { amount: 100, currency: "XYZ", reference: "x" }, 400, "currency_invalid"],
    ["lower-case currency", { amount: 100, currency: "eur", reference: "x" }, 400, "currency_invalid"],
    ["missing reference", { amount: 100, currency: "EUR" }, 400, "reference_invalid"],
    ["unknown field", { amount: 100, currency: "EUR", reference: "x", tip: 5 }, 400, "field_unknown"],
    ["array body", [1, 2], 400, "body_invalid"],
    ["unknown terminal", { amount: 100, currency: "EUR", reference: "x", terminal: "P400Plus-0" }, 404, "terminal_unknown"],
  ];
  for (const [name, body, status, code] of cases) {
    test(name, async () => {
      const before = sim.counts.Payment ?? 0;
      const r = await box.pay(body as any);
      expect(r.status).toBe(status);
      expect(r.body.error.code).toBe(code);
      expect(typeof r.body.error.message).toBe("string");
      expect(sim.counts.Payment ?? 0).toBe(before);
    });
  }
  test("missing Idempotency-Key, invalid JSON, wrong content type, huge body", async () => {
    const before = sim.counts.Payment ?? 0;
    const noKey = await box.pos("/payments", { method: "POST", json: { amount: 1, currency: "EUR", reference: "x" } });
    expect(noKey.status).toBe(400);
    expect((await noKey.json()).error.code).toBe("idempotency_key_missing");
    const bad = await box.pos("/payments", { method: "POST", key: "k1", body: "{nope", headers: { "content-type": "application/json" } });
    expect(bad.status).toBe(400);
    const type = await box.pos("/payments", { method: "POST", key: "k2", body: "amount=1", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(type.status).toBe(415);
    const huge = await box.pos("/payments", { method: "POST", key: "k3", json: { amount: 1, currency: "EUR", reference: "x".repeat(100_000) } });
    expect(huge.status).toBe(413);
    expect(sim.counts.Payment ?? 0).toBe(before);
  });
});

describe("auth, CORS and Private Network Access", () => {
  test("no token or a wrong token: 401", async () => {
    const none = await box.pos("/payments/x", { headers: { authorization: "" } });
    expect(none.status).toBe(401);
    expect(none.headers.get("www-authenticate")).toContain("Bearer");
    expect((await box.pos("/terminals", { headers: { authorization: "Bearer " + "A".repeat(43) } })).status).toBe(401);
    expect((await box.pos("/terminals")).status).toBe(200);
  });

  test("another paired POS cannot see this POS's payments", async () => {
    const r = await box.pay({ amount: 10, currency: "EUR", reference: order() });
    await box.settle(r.body.id);
    const other = await (await box.admin("/pos/pairings", { method: "POST", json: { name: "till 2" } })).json();
    const res = await box.pos(`/payments/${r.body.id}`, { headers: { authorization: `Bearer ${other.token}` } });
    expect(res.status).toBe(404);
  });

  test("preflight from the configured origin answers CORS and Private Network Access", async () => {
    const r = await box.pos("/payments", { method: "OPTIONS", headers: { origin: ORIGIN, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type, idempotency-key", "access-control-request-private-network": "true", authorization: "" } });
    expect(r.status).toBe(204);
    expect(r.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    expect(r.headers.get("access-control-allow-private-network")).toBe("true");
    expect(r.headers.get("access-control-allow-headers")).toContain("Idempotency-Key");
    expect(r.headers.get("vary")).toContain("Origin");
  });

  test("other origins get no CORS headers and a 403, preflight or not", async () => {
    const pre = await box.pos("/payments", { method: "OPTIONS", headers: { origin: "https://evil.example", "access-control-request-private-network": "true" } });
    expect(pre.status).toBe(403);
    expect(pre.headers.get("access-control-allow-origin")).toBeNull();
    expect(pre.headers.get("access-control-allow-private-network")).toBeNull();
    const get = await box.pos("/terminals", { headers: { origin: "https://evil.example" } });
    expect(get.status).toBe(403);
    const ok = await box.pos("/terminals", { headers: { origin: ORIGIN } });
    expect(ok.status).toBe(200);
    expect(ok.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    // The POS page can read our errors too.
    const bad = await box.pos("/payments", { method: "POST", key: "cors-1", json: { amount: -1, currency: "EUR", reference: "x" }, headers: { origin: ORIGIN } });
    expect(bad.status).toBe(400);
    expect(bad.headers.get("access-control-allow-origin")).toBe(ORIGIN);
    const unauth = await box.pos("/terminals", { headers: { origin: ORIGIN, authorization: "" } });
    expect(unauth.status).toBe(401);
    expect(unauth.headers.get("access-control-allow-origin")).toBe(ORIGIN);
  });
});

describe("what is kept and logged", () => {
  test("no card data, passphrase or token in logs or journal; files are 0600", async () => {
    sim.setBehaviour("approve");
    const a = await box.pay({ amount: 77, currency: "EUR", reference: order() });
    await box.settle(a.body.id);
    sim.setBehaviour("decline");
    const d = await box.pay({ amount: 78, currency: "EUR", reference: order() });
    await box.settle(d.body.id);
    await box.terminals.idle(); // results are journaled just after the POS is told
    const tdir = join(dir.path, "terminals");
    const files = [join(tdir, "settings.json"), ...readdirSync(join(tdir, "journal")).map((f) => join(tdir, "journal", f))];
    const journalText = files.slice(1).map((f) => readFileSync(f, "utf8")).join("\n");
    const logText = box.logs.join("\n");
    for (const secret of [SIM_CARD.holder, encodeURIComponent(SIM_CARD.holder), SIM_CARD.alias, SIM_CARD.expiry, "expiryYear", "cardHolderName", "411111", KEY.passphrase, box.token]) {
      expect(logText).not.toContain(secret);
      expect(journalText).not.toContain(secret);
    }
    expect(readFileSync(files[0]!, "utf8")).not.toContain(box.token);
    for (const f of files) expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(statSync(tdir).mode & 0o777).toBe(0o700);
    expect(logText).toContain("payment result");
  });
});
