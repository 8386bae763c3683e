/** Pure pieces: reading replies, deciding states, money, validation. Plain values, no I/O. */
import { describe, expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../src/log/index";
import { createTerminals } from "../../src/terminals/index";
import { newServiceId, paymentRequest, readPaymentResponse, readTransactionStatus } from "../../src/terminals/messages";
import { toMajor, toMinor } from "../../src/terminals/money";
import { stateFor } from "../../src/terminals/payments";
import { parseAddress } from "../../src/terminals/terminal-client";
import { tempDir } from "./helpers";

describe("messages", () => {
  test("ServiceID: 10 alphanumerics, different each time", () => {
    const ids = new Set(Array.from({ length: 1000 }, newServiceId));
    expect(ids.size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9]{10}$/);
  });

  test("amounts: minor units on the API, major units on the wire", () => {
    expect(toMajor(1234, "EUR")).toBe(12.34);
    expect(toMajor(1234, "JPY")).toBe(1234);
    expect(toMajor(1234, "KWD")).toBe(1.234);
    expect(toMinor(12.34, "EUR")).toBe(1234);
    expect(toMajor(99_999_999, "EUR")).toBe(999999.99);
    const req = paymentRequest({ saleId: "s", poiid: "P-1" }, "A", { transactionId: "o", timeStamp: "t", amountMinor: 1999, currency: "GBP" });
    expect((req.SaleToPOIRequest as any).PaymentRequest.PaymentTransaction.AmountsReq).toEqual({ Currency: "GBP", RequestedAmount: 19.99 });
  });

  test("a PaymentResponse keeps only allow-listed fields", () => {
    const o = readPaymentResponse({
      Response: { Result: "Success", AdditionalResponse: "pspReference=P1&cardHolderName=JANE&expiryYear=2030&alias=M1&cardBin=411111" },
      POIData: { POITransactionID: { TransactionID: "T1", TimeStamp: "ts" } },
      PaymentResult: { AmountsResp: { AuthorizedAmount: 12.34, Currency: "EUR" }, PaymentInstrumentData: { CardData: { MaskedPAN: "411111…1111", PaymentBrand: "visa", SensitiveCardData: { ExpiryDate: "0330" } } } },
      PaymentReceipt: [{ OutputContent: "JANE" }],
    }, "EUR");
    expect(o).toEqual({ result: "Success", pspReference: "P1", poiTransaction: { transactionId: "T1", timeStamp: "ts" }, authorizedMinor: 1234, brand: "visa", cardLast4: "1111" });
    const b64 = Buffer.from(JSON.stringify({ additionalData: { refusalReason: "Expired", cardHolderName: "JANE" } })).toString("base64");
    expect(readPaymentResponse({ Response: { Result: "Failure", ErrorCondition: "Refusal", AdditionalResponse: b64 } }, "EUR")).toEqual({ result: "Failure", errorCondition: "Refusal", refusalReason: "Expired" });
    expect(readPaymentResponse({ Response: { Result: "Maybe" } }, "EUR")).toBeNull();
  });

  test("TransactionStatus answers", () => {
    expect(readTransactionStatus({ Response: { Result: "Failure", ErrorCondition: "InProgress" } }, "Payment")).toEqual({ kind: "in_progress" });
    expect(readTransactionStatus({ Response: { Result: "Failure", ErrorCondition: "NotFound" } }, "Payment")).toEqual({ kind: "not_found" });
    expect(readTransactionStatus({ Response: { Result: "Failure", ErrorCondition: "Busy" } }, "Payment").kind).toBe("retry");
    expect(readTransactionStatus({ Response: { Result: "Success" } }, "Payment").kind).toBe("retry");
    expect(readTransactionStatus(undefined, "Payment").kind).toBe("retry");
    const inner = { Response: { Result: "Success" } };
    expect(readTransactionStatus({ Response: { Result: "Success" }, RepeatedMessageResponse: { RepeatedResponseMessageBody: { PaymentResponse: inner } } }, "Payment")).toEqual({ kind: "done", inner });
  });

  test("states from results", () => {
    expect(stateFor({ result: "Success" })).toBe("approved");
    expect(stateFor({ result: "Partial" })).toBe("approved");
    expect(stateFor({ result: "Failure", errorCondition: "Aborted" })).toBe("aborted");
    expect(stateFor({ result: "Failure", errorCondition: "Cancel" })).toBe("aborted");
    expect(stateFor({ result: "Failure", errorCondition: "Busy" })).toBe("failed");
    expect(stateFor({ result: "Failure", errorCondition: "Refusal" })).toBe("declined");
    expect(stateFor({ result: "Failure", errorCondition: "WrongPIN" })).toBe("declined");
  });

  test("terminal addresses", () => {
    expect(parseAddress("192.168.1.50")).toEqual({ host: "192.168.1.50", port: 8443 });
    expect(parseAddress("127.0.0.1:9000")).toEqual({ host: "127.0.0.1", port: 9000 });
    expect(parseAddress("[fe80::1]:8443")).toEqual({ host: "fe80::1", port: 8443 });
    expect(() => parseAddress("https://1.2.3.4")).toThrow();
    expect(() => parseAddress("1.2.3.4:0")).toThrow();
  });
});

test("createTerminals touches nothing until it is used", async () => {
  const dir = tempDir();
  try {
    const data = join(dir.path, "data");
    const t = createTerminals({ dataDir: data, logger: silentLogger(), fleetRootsPem: () => [] });
    expect(existsSync(data)).toBe(false);
    await t.start();
    expect(existsSync(join(data, "terminals", "settings.json"))).toBe(true);
    expect(await t.list()).toEqual([]);
    await t.stop();
  } finally { dir.dispose(); }
});
