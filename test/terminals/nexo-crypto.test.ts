import { describe, expect, test } from "bun:test";
import { NexoCrypto } from "@adyen/api-library";
import { constantTimeEqual, decryptNexo, deriveNexoKeys, encryptNexo, protect, unprotect } from "../../src/terminals/nexo-crypto";

const PASS = "correct horse battery staple 42";
const KEY = { Passphrase: PASS, KeyIdentifier: "iotboxkey", KeyVersion: 3, AdyenCryptoVersion: 1 };
const header = { ProtocolVersion: "3.0", MessageClass: "Service", MessageCategory: "Payment", MessageType: "Request", ServiceID: "A1b2C3", SaleID: "iotbox", POIID: "P400Plus-275039202" };
const request = { SaleToPOIRequest: { MessageHeader: header, PaymentRequest: { SaleData: { SaleTransactionID: { TransactionID: "order-1 é€", TimeStamp: "2026-11-28T05:00:00.000Z" } }, PaymentTransaction: { AmountsReq: { Currency: "EUR", RequestedAmount: 12.34 } } } } };

describe("nexo crypto", () => {
  test("round trip", async () => {
    const keys = await deriveNexoKeys(PASS, "iotboxkey", 3);
    const wire = await protect(request, keys);
    expect(wire).not.toContain("order-1");
    expect(await unprotect(wire, keys)).toEqual(request);
  });

  test("our encryption is decrypted by the official @adyen/api-library NexoCrypto", async () => {
    const keys = await deriveNexoKeys(PASS, "iotboxkey", 3);
    const secured = await encryptNexo(JSON.stringify(request), header, keys);
    const text = new NexoCrypto().decrypt(secured as any, KEY as any);
    expect(JSON.parse(text)).toEqual(request);
  });

  test("the official library's encryption is decrypted by ours", async () => {
    const keys = await deriveNexoKeys(PASS, "iotboxkey", 3);
    const secured = NexoCrypto.encrypt(header as any, JSON.stringify(request), KEY as any);
    expect(JSON.parse(await decryptNexo(secured as any, keys))).toEqual(request);
  });

  test("a wrong passphrase, an altered blob, an altered HMAC and a wrong key id are refused", async () => {
    const keys = await deriveNexoKeys(PASS, "iotboxkey", 3);
    const other = await deriveNexoKeys("another passphrase", "iotboxkey", 3);
    const secured = await encryptNexo(JSON.stringify(request), header, keys);
    await expect(decryptNexo(secured, other)).rejects.toMatchObject({ code: "crypto_error" });
    const blob = Buffer.from(secured.NexoBlob, "base64"); blob[blob.length - 20]! ^= 1;
    await expect(decryptNexo({ ...secured, NexoBlob: blob.toString("base64") }, keys)).rejects.toMatchObject({ code: "crypto_error" });
    const mac = Buffer.from(secured.SecurityTrailer.Hmac, "base64"); mac[0]! ^= 1;
    await expect(decryptNexo({ ...secured, SecurityTrailer: { ...secured.SecurityTrailer, Hmac: mac.toString("base64") } }, keys)).rejects.toMatchObject({ code: "crypto_error" });
    await expect(decryptNexo({ ...secured, SecurityTrailer: { ...secured.SecurityTrailer, Hmac: "" } }, keys)).rejects.toMatchObject({ code: "crypto_error" });
    const v4 = await deriveNexoKeys(PASS, "iotboxkey", 4);
    await expect(decryptNexo(secured, v4)).rejects.toMatchObject({ code: "crypto_error" });
  });

  test("each message gets its own nonce", async () => {
    const keys = await deriveNexoKeys(PASS, "k", 1);
    const a = await encryptNexo("{}", {}, keys), b = await encryptNexo("{}", {}, keys);
    expect(a.SecurityTrailer.Nonce).not.toBe(b.SecurityTrailer.Nonce);
    expect(a.NexoBlob).not.toBe(b.NexoBlob);
  });

  test("non-ASCII passphrases are refused up front", async () => {
    await expect(deriveNexoKeys("pässword", "k", 1)).rejects.toMatchObject({ code: "passphrase_invalid" });
  });

  test("constantTimeEqual", () => {
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2]))).toBe(true);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 3]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1]), new Uint8Array([1, 2]))).toBe(false);
  });
});
