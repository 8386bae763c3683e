import { expect, test } from "bun:test";
import { CERT_CODES, codeString, describeCert, precedence } from "./codes";

test("the seed's codes, spelled exactly", () => {
  expect([...CERT_CODES]).toEqual([
    "ERR_IOT_HTTPS_CHECK_NO_SERVER", "ERR_IOT_HTTPS_CHECK_CERT_READ_EXCEPTION", "ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL",
    "ERR_IOT_HTTPS_LOAD_REQUEST_EXCEPTION", "ERR_IOT_HTTPS_LOAD_REQUEST_STATUS", "ERR_IOT_HTTPS_LOAD_REQUEST_NO_RESULT",
  ]);
});
test("the HTTP status follows LOAD_REQUEST_STATUS", () => {
  expect(codeString({ name: "ERR_IOT_HTTPS_LOAD_REQUEST_STATUS", status: 404 })).toBe("ERR_IOT_HTTPS_LOAD_REQUEST_STATUS 404");
  expect(codeString({ name: "ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL" })).toBe("ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL");
});
test("every code has a meaning and a remedy in both languages", () => {
  for (const c of CERT_CODES) for (const l of ["en", "es"] as const) {
    const t = describeCert(c, l);
    expect(t.meaning.length).toBeGreaterThan(20);
    expect(t.remedy.length).toBeGreaterThan(20);
  }
  expect(describeCert("ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL", "es").remedy).toContain("Credencial");
});
test("an unreadable certificate comes first; the other code is its detail", () => {
  const read = { name: "ERR_IOT_HTTPS_CHECK_CERT_READ_EXCEPTION" as const, detail: "no private key in the file" };
  expect(precedence(null, { name: "ERR_IOT_HTTPS_CHECK_NO_SERVER" })).toEqual({ name: "ERR_IOT_HTTPS_CHECK_NO_SERVER" });
  expect(precedence(read, { name: "ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL" })).toEqual({ name: "ERR_IOT_HTTPS_CHECK_CERT_READ_EXCEPTION", detail: "no private key in the file; no new one can be requested: ERR_IOT_HTTPS_LOAD_NO_CREDENTIAL" });
  expect(precedence(read, { name: "ERR_IOT_HTTPS_LOAD_REQUEST_STATUS", status: 503 }).detail).toBe("no private key in the file; the request for a new one failed: ERR_IOT_HTTPS_LOAD_REQUEST_STATUS 503");
});
