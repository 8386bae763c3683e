/** The reference drivers' result for each state of a payment (pure: src/terminals/iot-drivers.ts resultFor). */
import { expect, test } from "bun:test";
import { resultFor } from "../../src/terminals/iot-drivers";
import type { Tx } from "../../src/terminals/store";

const tx = (p: Partial<Tx>) => ({ state: "in_progress", ...p }) as Tx;
const approved = { result: "Success", brand: "mc", cardLast4: "4444", pspReference: "PSP1", poiTransaction: { transactionId: "T1", timeStamp: "" } };

test.each([
  ["in progress", tx({}), { Stage: "WaitingForCard" }],
  ["abort asked", tx({ abortRequested: true }), { Stage: "waitingCancel" }],
  ["reply lost, asking the terminal", tx({ state: "unknown" }), { Stage: "WaitingForResult", Response: false, Error: false }],
  ["approved", tx({ state: "approved", outcome: approved as never }), { Response: "Approved", Card: "mc", CardNo: "4444", PaymentTransactionID: "T1", Ticket: false }],
  ["declined", tx({ state: "declined", outcome: { result: "Failure", refusalReason: "Refused" } as never }), { Response: "Declined", Error: "Declined by the card issuer: Refused." }],
  ["aborted", tx({ state: "aborted" }), { Stage: "Cancel", Error: false }],
  ["failed", tx({ state: "failed", error: { code: "terminal_busy", message: "busy" } }), { Error: "busy", Response: false }],
  ["released unresolved", tx({ state: "unresolved", error: { code: "released_unresolved", message: "check it" } }), { Disconnected: true, Error: "check it" }],
  ["refunded", tx({ state: "refunded" }), { Response: "Reversed" }],
] as const)("%s", (_n, t, want) => {
  const r = resultFor(t, "c9")!;
  expect(r).toMatchObject({ ...want, cid: "c9", value: "" });
  expect(Object.keys(r).sort()).toEqual(["Card", "CardNo", "Disconnected", "Error", "PaymentTransactionID", "Response", "Stage", "Ticket", "TicketMerchant", "cid", "value"]);
});

test("pending has nothing to tell", () => { expect(resultFor(tx({ state: "pending" }), 1)).toBeNull(); });
