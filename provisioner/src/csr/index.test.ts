import "reflect-metadata";
import { describe, expect, test } from "bun:test";
import * as x509 from "@peculiar/x509";
import { checkCsr, createCsrChecker } from ".";

const wanted = { wildcard: "*.abc.iotbox.test", base: "abc.iotbox.test" };

async function makeCsr(names: string[], alg: EcKeyGenParams | RsaHashedKeyGenParams = { name: "ECDSA", namedCurve: "P-256" }) {
  const keys = await crypto.subtle.generateKey(alg, true, ["sign", "verify"]) as CryptoKeyPair;
  const signingAlgorithm = alg.name === "ECDSA" ? { name: "ECDSA", hash: "SHA-256" } : { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" };
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${names[0]}`, keys, signingAlgorithm,
    extensions: names.length > 1 ? [new x509.SubjectAlternativeNameExtension(names.map((n) => ({ type: "dns" as const, value: n })))] : [] });
  return csr.toString("pem");
}

describe("csr", () => {
  test("the box's placeholder CSR is accepted, its names do not match the order", async () => {
    const c = await checkCsr(await makeCsr(["iotbox-abcd1234"]), wanted);
    expect(c.namesMatch).toBe(false);
    expect(c.keyType).toBe("ecdsa-p256");
    expect(c.keyFingerprint).toMatch(/^[0-9a-f]{64}$/);
  });
  test("a CSR naming exactly the box's names can go to the CA", async () => {
    expect((await checkCsr(await makeCsr([wanted.wildcard, wanted.wildcard, wanted.base]), wanted)).namesMatch).toBe(true);
  });
  test("names the box may not have are refused", async () => {
    await expect(checkCsr(await makeCsr(["*.other.iotbox.test"]), wanted)).rejects.toThrow("may not have");
    await expect(checkCsr(await makeCsr(["iotbox-x", "google.com"]), wanted)).rejects.toThrow("may not have");
  });
  test("garbage, a bad signature and a weak key are refused with a clear sentence", async () => {
    await expect(checkCsr("hello", wanted)).rejects.toThrow("one PEM certificate request");
    await expect(checkCsr("-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----", wanted)).rejects.toThrow("cannot be parsed");
    const good = await makeCsr(["iotbox-abcd1234"]);
    const der = Buffer.from(good.replace(/-----[^-]+-----|\s/g, ""), "base64");
    der[der.length - 5]! ^= 0xff; // inside the signature
    const tampered = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString("base64")}\n-----END CERTIFICATE REQUEST-----`;
    await expect(checkCsr(tampered, wanted)).rejects.toThrow(/signature|parsed/);
    const rsa1024 = await makeCsr(["iotbox-abcd1234"], { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" });
    await expect(checkCsr(rsa1024, wanted)).rejects.toThrow("key type");
  });
  test("the memo gives checkCsr's answers, per CSR and names, and stays bounded", async () => {
    const check = createCsrChecker(2);
    const pem = await makeCsr([wanted.wildcard, wanted.base]);
    expect(await check(pem, wanted)).toEqual(await checkCsr(pem, wanted));
    expect((await check(pem, { wildcard: "*.x.iotbox.test", base: "x.iotbox.test" }).catch((e) => e)).message).toContain("may not have");
    await expect(check("junk", wanted)).rejects.toThrow("one PEM");
    await expect(check("junk", wanted)).rejects.toThrow("one PEM");
    expect((await check(pem, wanted)).namesMatch).toBe(true);
  });
});
